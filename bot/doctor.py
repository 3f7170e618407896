"""`supportbot doctor`: one line per thing a live bot needs (tokens, webhook, Slack app, channel, database, keys,
agents), and a non-zero exit status when any of them fails. Every line is a sentence of the catalogues
(`cli.doctor.*`): Spanish, or English with LANG=en; the status column (ok, warn, FAIL) is the same in both.

Each check is an async function taking the `Checkup` and returning its lines; `CHECKS` lists them in the order
they run (the Slack checks after auth.test, whose answer they share). To add one (a mailbox, say), write the
function and append it to `CHECKS`. A check that raises is one FAIL line naming it; the others still run.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from telegram import Bot
from telegram.error import InvalidToken, TelegramError

from bot.cli.text import has, say
from bot.keys import KeysUnavailable, configured_keys, stored_tokens
from bot.settings import Settings
from bot.wiring import open_store
from handlers.email.checks import mailbox
from handlers.slack.scopes import BOT_SCOPES, missing_scopes
from storage import SecretBox, SecretError, Store, StoreError, generate_key
from storage.migrate import current_version, load_migrations, pending

__all__ = ["CHECKS", "Check", "Checkup", "Line", "Status", "run_doctor"]

log = logging.getLogger(__name__)

SLACK_TIMEOUT_S = 15


class Status(StrEnum):
    """How one item stands: FAIL makes the exit status 1; warn is worth reading but does not stop a start."""

    OK = "ok"
    WARN = "warn"
    FAIL = "FAIL"


@dataclass(frozen=True, slots=True)
class Line:
    """One item of the report."""

    status: Status
    item: str
    detail: str

    def render(self) -> str:
        return f"{self.status.value:<4}  {self.item}: {self.detail}"


def ok(item: str, detail: str) -> Line:
    return Line(Status.OK, item, detail)


def warn(item: str, detail: str) -> Line:
    return Line(Status.WARN, item, detail)


def fail(item: str, detail: str) -> Line:
    return Line(Status.FAIL, item, detail)


def item(key: str, /, **params: object) -> str:
    """An item's name (cli.doctor.item.<key>) in the command's language."""
    return say(f"doctor.item.{key}", **params)


class Checkup:
    """What the checks share: the settings, and the connections opened once and closed by run_doctor."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.slack_auth: Mapping[str, Any] | None = None  # auth.test's answer, once it succeeded
        self.slack_scopes: str | None = None  # its x-oauth-scopes header (None: Slack sent none)
        self._slack: AsyncWebClient | None = None
        self._session: aiohttp.ClientSession | None = None
        self._store: Store | None = None
        self.pg_versions: set[int] | str | None = None  # PostgreSQL's applied migrations, or why it cannot tell

    def slack(self) -> AsyncWebClient | None:
        """The Web API client with the bot token (None without SLACK_BOT_TOKEN)."""
        s = self.settings
        if not s.slack_bot_token:
            return None
        if self._slack is None:
            self._session = aiohttp.ClientSession()
            self._slack = AsyncWebClient(
                token=s.slack_bot_token,
                base_url=s.slack_api_base_url or AsyncWebClient.BASE_URL,
                session=self._session,
                timeout=SLACK_TIMEOUT_S,
            )
        return self._slack

    async def store(self) -> Store:
        """The database, opened as it is: no migration and no key file made. The doctor decrypts with the keys in
        force itself, so the store gets a throwaway key it never uses (it writes nothing)."""
        if self._store is None:
            reading = self.settings.model_copy(update={"secrets_keys": [generate_key()]})
            self._store = await open_store(reading, create_keys=False, migrate=False)
        return self._store

    async def close(self) -> None:
        if self._store is not None:
            await self._store.close()
        if self._session is not None:
            await self._session.close()


Check = Callable[[Checkup], Awaitable[list[Line]]]


async def _answer(call: Awaitable[AsyncSlackResponse]) -> tuple[AsyncSlackResponse | None, str]:
    """(response, "") or (None, what went wrong: Slack's error code, or the network's).

    Methods are called by their slack_sdk names (client.users_info, ...), never by a string: the manifest test
    finds every Web API method the code calls that way, and holds the manifest's scopes against them."""
    try:
        return await call, ""
    except SlackApiError as exc:
        return None, str(exc.response.get("error") or exc)
    except (aiohttp.ClientError, TimeoutError) as exc:
        return None, say("doctor.slack.unreachable", error=f"{type(exc).__name__}: {exc}")


# --- settings ------------------------------------------------------------------------------------------------
async def credentials(c: Checkup) -> list[Line]:
    """The tokens and secrets `supportbot run` needs, by setting name (nothing is sent anywhere)."""
    s = c.settings
    lines = []
    for name in ("TELEGRAM_BOT_TOKEN", "SLACK_BOT_TOKEN"):
        if not getattr(s, name.lower()):
            lines.append(fail(item("settings"), say("doctor.settings.unset", name=name)))
    mode = item("slack_mode")
    if s.slack_app_token:
        if s.slack_app_token.startswith("xapp-"):
            lines.append(ok(mode, say("doctor.settings.socket_mode")))
        else:
            lines.append(fail(mode, say("doctor.settings.not_app_token")))
    elif s.slack_signing_secret:
        lines.append(ok(mode, say("doctor.settings.http_mode")))
    else:
        lines.append(fail(mode, say("doctor.settings.no_slack_mode")))
    if s.telegram_webhook_url and not s.telegram_webhook_secret:
        lines.append(fail(item("telegram_mode"), say("doctor.settings.webhook_secret")))
    return lines


# --- Telegram ------------------------------------------------------------------------------------------------
async def telegram(c: Checkup) -> list[Line]:
    """getMe with the token; in webhook mode getWebhookInfo: the URL, the updates waiting and the last error."""
    s = c.settings
    if not s.telegram_bot_token:
        return [fail(item("telegram_getme"), say("doctor.skipped.unset", name="TELEGRAM_BOT_TOKEN"))]
    kwargs: dict[str, Any] = {}
    if s.telegram_api_base_url:
        kwargs = {"base_url": s.telegram_api_base_url, "base_file_url": s.telegram_file_url}
    bot = Bot(s.telegram_bot_token, **kwargs)
    try:
        return await _telegram_lines(s, bot)
    except InvalidToken:
        return [fail(item("telegram_getme"), say("doctor.telegram.refused"))]
    except TelegramError as exc:
        where = s.telegram_api_base_url or "https://api.telegram.org"
        return [fail(item("telegram_getme"), say("doctor.telegram.unreachable", where=where, error=str(exc)))]
    finally:
        await bot.shutdown()


async def _telegram_lines(s: Settings, bot: Bot) -> list[Line]:
    await bot.initialize()  # getMe
    me = bot.bot
    lines = [ok(item("telegram_getme"), say("doctor.telegram.me", username=me.username, id=me.id))]
    if me.can_join_groups:
        lines.append(warn(item("telegram_groups"), say("doctor.telegram.groups")))
    if not s.telegram_webhook_url:
        lines.append(ok(item("telegram_mode"), say("doctor.telegram.polling")))
        return lines
    info = await bot.get_webhook_info()
    hook = item("telegram_webhook")
    pending_count = say("doctor.telegram.pending", count=info.pending_update_count)
    if not info.url:
        lines.append(warn(hook, say("doctor.telegram.not_registered", url=s.telegram_webhook_url,
                                    pending=pending_count)))  # fmt: skip
    elif info.url != s.telegram_webhook_url:
        lines.append(fail(hook, say("doctor.telegram.elsewhere", registered=info.url, url=s.telegram_webhook_url)))
    else:
        lines.append(ok(hook, say("doctor.telegram.registered", url=info.url, pending=pending_count)))
    if info.last_error_message:
        when = info.last_error_date.isoformat() if info.last_error_date else "?"
        said = say("doctor.telegram.last_error", when=when, error=info.last_error_message)
        # Updates waiting behind an error: Telegram cannot deliver now. Nothing waiting: an old error.
        lines.append((fail if info.pending_update_count else warn)(item("telegram_webhook_errors"), said))
    return lines


# --- Slack ---------------------------------------------------------------------------------------------------
async def slack_auth(c: Checkup) -> list[Line]:
    """auth.test: the bot token works; its answer names the bot and carries the granted scopes."""
    client = c.slack()
    if client is None:
        return [fail(item("slack_auth"), say("doctor.skipped.unset", name="SLACK_BOT_TOKEN"))]
    response, error = await _answer(client.auth_test())
    if response is None:
        if error in ("invalid_auth", "not_authed"):
            error = say("doctor.slack.check_token", error=error)
        return [fail(item("slack_auth"), error)]
    c.slack_auth = response.data if isinstance(response.data, dict) else {}
    headers = {str(k).lower(): str(v) for k, v in (response.headers or {}).items()}
    c.slack_scopes = headers.get("x-oauth-scopes")
    a = c.slack_auth
    said = say("doctor.slack.auth", user=a.get("user"), user_id=a.get("user_id"), team=a.get("team"),
               team_id=a.get("team_id"))  # fmt: skip
    return [ok(item("slack_auth"), said)]


async def slack_scopes(c: Checkup) -> list[Line]:
    """The scopes granted to the bot token (auth.test's x-oauth-scopes header) against the manifest's."""
    name = item("slack_scopes")
    if c.slack_auth is None:
        return [fail(name, say("doctor.skipped.auth_failed"))]
    if c.slack_scopes is None:
        return [fail(name, say("doctor.slack.no_scopes"))]
    granted = [scope.strip() for scope in c.slack_scopes.split(",") if scope.strip()]
    missing = missing_scopes(granted)
    if missing:
        return [fail(name, say("doctor.slack.missing_scopes", scopes=", ".join(missing)))]
    extra = sorted(set(granted) - set(BOT_SCOPES))
    more = say("doctor.slack.extra_scopes", scopes=", ".join(extra)) if extra else ""
    return [ok(name, say("doctor.slack.scopes_ok", count=len(BOT_SCOPES), extra=more))]


async def slack_channels(c: Checkup) -> list[Line]:
    """The support channel (and every card channel) exists, is not archived, and has the bot as a member."""
    s = c.settings
    client = c.slack()
    if not s.slack_support_channel:
        return [fail(item("slack_channels"), say("doctor.slack.no_channel"))]
    if client is None or c.slack_auth is None:
        return [fail(item("slack_channels"), say("doctor.skipped.auth_failed"))]
    wanted = {s.slack_support_channel: "SLACK_SUPPORT_CHANNEL"}
    for route, channel in s.slack_card_channels.items():
        wanted.setdefault(channel, f"SLACK_CARD_CHANNELS {route}")
    bot_name = f"@{c.slack_auth.get('user')}"
    lines = []
    for channel, setting in wanted.items():
        where = item("slack_channel", channel=channel)
        response, error = await _answer(client.conversations_info(channel=channel))
        if response is None:
            if error == "channel_not_found":
                error = say("doctor.slack.channel_not_found", setting=setting, bot=bot_name)
            lines.append(fail(where, str(error)))
            continue
        info = response.get("channel") or {}
        name = f"#{info.get('name', channel)}"
        if info.get("is_archived"):
            lines.append(fail(where, say("doctor.slack.archived", name=name)))
        elif not info.get("is_member"):
            lines.append(fail(where, say("doctor.slack.not_member", name=name, bot=bot_name)))
        else:
            lines.append(ok(where, say("doctor.slack.member", name=name)))
    return lines


# --- database, keys, agents ------------------------------------------------------------------------------------
def _no_database(settings: Settings) -> bool:
    """Whether there is no SQLite file to read (opening it would create it). PostgreSQL is asked instead."""
    return not settings.database_url and not settings.database_path.exists()


async def _pg_versions(c: Checkup) -> set[int] | str:
    """PostgreSQL: the schema versions recorded in the installation's schema, or why they cannot be read."""
    if c.pg_versions is None:
        try:
            store = await c.store()
        except StoreError as exc:
            c.pg_versions = str(exc)
        else:
            from storage.pg import PgStore

            c.pg_versions = await store.applied_versions() if isinstance(store, PgStore) else set()
    return c.pg_versions


async def _database_missing(c: Checkup) -> str | None:
    """Why the checks that read the database are skipped (no file, PostgreSQL unreachable or empty), else None."""
    if not c.settings.database_url:
        return say("doctor.skipped.no_database") if _no_database(c.settings) else None
    versions = await _pg_versions(c)
    if isinstance(versions, str):
        return say("doctor.skipped.unreachable")
    return None if versions else say("doctor.skipped.no_tables")


async def database(c: Checkup) -> list[Line]:
    """The database (the SQLite file or PostgreSQL) answers and has every migration this version ships."""
    if c.settings.database_url:
        return await _postgres(c)
    path = c.settings.database_path
    if _no_database(c.settings):
        return [fail(item("database"), say("doctor.database.none", path=path))]
    known = max((m.version for m in load_migrations()), default=0)
    version = current_version(path)
    if version > known:
        return [fail(item("database"), say("doctor.database.newer", where=path, version=version, known=known))]
    store = await c.store()
    async with store.transaction() as tx:
        await tx.list_agents()
    waiting = [m.version for m in pending(path)]
    if waiting:
        shown = ", ".join(f"{v:04d}" for v in waiting)
        return [fail(item("database"), say("doctor.database.pending", where=path, versions=shown))]
    return [ok(item("database"), say("doctor.database.ok", where=path, version=version))]


async def _postgres(c: Checkup) -> list[Line]:
    """DATABASE_URL: PostgreSQL reachable, its schema's migrations against the code's (nothing is created)."""
    where = c.settings.database_shown
    versions = await _pg_versions(c)
    if isinstance(versions, str):
        return [fail(item("database"), say("doctor.database.unreachable", error=versions))]
    if not versions:
        return [fail(item("database"), say("doctor.database.empty", where=where))]
    known = max((m.version for m in load_migrations()), default=0)
    version = max(versions)
    if version > known:
        return [fail(item("database"), say("doctor.database.newer", where=where, version=version, known=known))]
    waiting = [m.version for m in load_migrations() if m.version not in versions]
    if waiting:
        shown = ", ".join(f"{v:04d}" for v in waiting)
        return [fail(item("database"), say("doctor.database.pending", where=where, versions=shown))]
    async with (await c.store()).transaction() as tx:
        await tx.list_agents()
    return [ok(item("database"), say("doctor.database.ok", where=where, version=version))]


async def secrets(c: Checkup) -> list[Line]:
    """Every encrypted value the database holds opens with the keys in force (SECRETS_KEYS or the key file)."""
    s = c.settings
    name = item("secrets")
    try:
        keys = configured_keys(s)
    except KeysUnavailable as exc:
        return [fail(name, say(f"keys.{exc.key}", **exc.params))]
    missing = await _database_missing(c)
    if missing:
        return [fail(name, say("doctor.skipped.because", why=missing))]
    sealed = await stored_tokens(await c.store())
    source = "SECRETS_KEYS" if s.secrets_keys else str(s.secrets_key_file)
    if not keys:
        if sealed:
            return [fail(name, say("doctor.secrets.lost", source=source, count=len(sealed)))]
        return [warn(name, say("doctor.secrets.none_yet", source=source))]
    box = SecretBox(keys)
    unreadable = []
    for where, token in sealed:
        try:
            box.decrypt(token)
        except SecretError:
            unreadable.append(say(f"keys.where.{where.kind}", id=where.ref))
    if unreadable:
        shown = ", ".join(unreadable[:3]) + (", ..." if len(unreadable) > 3 else "")
        said = say("doctor.secrets.unreadable", count=len(unreadable), total=len(sealed), keys=len(keys),
                   source=source, which=shown)  # fmt: skip
        return [fail(name, said)]
    if not sealed:
        return [ok(name, say("doctor.secrets.nothing_stored", keys=len(keys), source=source))]
    return [ok(name, say("doctor.secrets.all_open", total=len(sealed), keys=len(keys), source=source))]


async def agents(c: Checkup) -> list[Line]:
    """Every active agent's and manager's Slack id is a person in the workspace (users.info)."""
    name = item("agents")
    missing = await _database_missing(c)
    if missing:
        return [fail(name, say("doctor.skipped.because", why=missing))]
    async with (await c.store()).transaction() as tx:
        people = await tx.list_agents(active_only=True)
    if not people:
        return [warn(name, say("doctor.agents.none"))]
    client = c.slack()
    if client is None or c.slack_auth is None:
        return [fail(name, say("doctor.skipped.auth_failed"))]
    lines = []
    for agent in people:
        who = item("agent", name=agent.name)
        response, error = await _answer(client.users_info(user=agent.slack_user_id))
        user = (response.get("user") or {}) if response is not None else {}
        if response is None:
            lines.append(fail(who, say("doctor.agents.lookup_failed", id=agent.slack_user_id, error=error)))
        elif user.get("deleted"):
            lines.append(fail(who, say("doctor.agents.deactivated", id=agent.slack_user_id)))
        elif user.get("is_bot"):
            lines.append(fail(who, say("doctor.agents.bot", id=agent.slack_user_id)))
    if not lines:
        names = ", ".join(a.name for a in people)
        lines.append(ok(name, say("doctor.agents.all_found", count=len(people), names=names)))
    return lines


CHECKS: list[Check] = [
    credentials,
    telegram,
    slack_auth,
    slack_scopes,
    slack_channels,
    database,
    secrets,
    agents,
    mailbox,
]


_CHECK_ITEMS = {"credentials": "settings"}  # check function -> cli.doctor.item.* where the names differ


def _check_name(check: Check) -> str:
    """What a check is called when it raises: its item's name (cli.doctor.item.*), or its function's name."""
    name = getattr(check, "__name__", type(check).__name__)
    key = f"doctor.item.{_CHECK_ITEMS.get(name, name)}"
    return say(key) if has(key) else name


async def run_doctor(settings: Settings, out: Callable[[str], None] = print) -> int:
    """Run every check, writing one line per item with `out`. Returns: 1 when anything failed, else 0."""
    c = Checkup(settings)
    lines: list[Line] = []
    try:
        for check in CHECKS:
            try:
                found = await check(c)
            except Exception as exc:
                log.debug("check %s raised", check.__name__, exc_info=exc)
                error = f"{type(exc).__name__}: {exc}"
                found = [fail(_check_name(check), say("doctor.check_failed", error=error))]
            for line in found:
                out(line.render())
            lines += found
    finally:
        await c.close()
    failed = sum(line.status is Status.FAIL for line in lines)
    warned = sum(line.status is Status.WARN for line in lines)
    verdict = "doctor.not_ready" if failed else "doctor.ready"
    out(say(verdict, ok=len(lines) - failed - warned, warned=warned, failed=failed))
    return 1 if failed else 0
