"""`supportbot doctor`: one line per thing a live bot needs (tokens, webhook, Slack app, channel, database, keys,
agents), and a non-zero exit status when any of them fails.

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
        return None, f"cannot reach the Slack Web API ({type(exc).__name__}: {exc})"


# --- settings ------------------------------------------------------------------------------------------------
async def credentials(c: Checkup) -> list[Line]:
    """The tokens and secrets `supportbot run` needs, by setting name (nothing is sent anywhere)."""
    s = c.settings
    lines = []
    for name in ("TELEGRAM_BOT_TOKEN", "SLACK_BOT_TOKEN"):
        if not getattr(s, name.lower()):
            lines.append(fail("settings", f"{name} is not set"))
    if s.slack_app_token:
        if s.slack_app_token.startswith("xapp-"):
            lines.append(ok("slack mode", "Socket Mode: SLACK_APP_TOKEN is set (no public URL needed)"))
        else:
            lines.append(fail("slack mode", "SLACK_APP_TOKEN is not an app-level token (they start with xapp-)"))
    elif s.slack_signing_secret:
        lines.append(ok("slack mode", "HTTP mode: SLACK_SIGNING_SECRET is set; Slack must reach /slack/events"))
    else:
        lines.append(fail("slack mode", "set SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN (Socket Mode)"))
    if s.telegram_webhook_url and not s.telegram_webhook_secret:
        lines.append(fail("telegram mode", "webhook mode needs TELEGRAM_WEBHOOK_SECRET"))
    return lines


# --- Telegram ------------------------------------------------------------------------------------------------
async def telegram(c: Checkup) -> list[Line]:
    """getMe with the token; in webhook mode getWebhookInfo: the URL, the updates waiting and the last error."""
    s = c.settings
    if not s.telegram_bot_token:
        return [fail("telegram getMe", "skipped: TELEGRAM_BOT_TOKEN is not set")]
    kwargs: dict[str, Any] = {}
    if s.telegram_api_base_url:
        kwargs = {"base_url": s.telegram_api_base_url, "base_file_url": s.telegram_file_url}
    bot = Bot(s.telegram_bot_token, **kwargs)
    try:
        return await _telegram_lines(s, bot)
    except InvalidToken:
        return [fail("telegram getMe", "Telegram refused TELEGRAM_BOT_TOKEN: check it with @BotFather")]
    except TelegramError as exc:
        where = s.telegram_api_base_url or "https://api.telegram.org"
        return [fail("telegram getMe", f"cannot reach the Telegram Bot API at {where}: {exc}")]
    finally:
        await bot.shutdown()


async def _telegram_lines(s: Settings, bot: Bot) -> list[Line]:
    await bot.initialize()  # getMe
    me = bot.bot
    lines = [ok("telegram getMe", f"@{me.username} (id {me.id})")]
    if me.can_join_groups:
        lines.append(warn("telegram groups", "the bot can be added to groups; it answers private chats only "
                          "(@BotFather: /setjoingroups, Disable)"))  # fmt: skip
    if not s.telegram_webhook_url:
        lines.append(ok("telegram mode", "long polling (TELEGRAM_WEBHOOK_URL is empty)"))
        return lines
    info = await bot.get_webhook_info()
    pending_count = f"{info.pending_update_count} update(s) pending"
    if not info.url:
        lines.append(warn("telegram webhook", f"not registered yet; `supportbot run` registers "
                          f"{s.telegram_webhook_url} when it starts ({pending_count})"))  # fmt: skip
    elif info.url != s.telegram_webhook_url:
        lines.append(fail("telegram webhook", f"registered at {info.url}, but TELEGRAM_WEBHOOK_URL is "
                          f"{s.telegram_webhook_url}: another process uses this token?"))  # fmt: skip
    else:
        lines.append(ok("telegram webhook", f"{info.url}, {pending_count}"))
    if info.last_error_message:
        when = info.last_error_date.isoformat() if info.last_error_date else "?"
        said = f"Telegram's last delivery error ({when}): {info.last_error_message}"
        # Updates waiting behind an error: Telegram cannot deliver now. Nothing waiting: an old error.
        lines.append((fail if info.pending_update_count else warn)("telegram webhook errors", said))
    return lines


# --- Slack ---------------------------------------------------------------------------------------------------
async def slack_auth(c: Checkup) -> list[Line]:
    """auth.test: the bot token works; its answer names the bot and carries the granted scopes."""
    client = c.slack()
    if client is None:
        return [fail("slack auth.test", "skipped: SLACK_BOT_TOKEN is not set")]
    response, error = await _answer(client.auth_test())
    if response is None:
        hint = "; check SLACK_BOT_TOKEN (xoxb-...)" if error in ("invalid_auth", "not_authed") else ""
        return [fail("slack auth.test", f"{error}{hint}")]
    c.slack_auth = response.data if isinstance(response.data, dict) else {}
    headers = {str(k).lower(): str(v) for k, v in (response.headers or {}).items()}
    c.slack_scopes = headers.get("x-oauth-scopes")
    a = c.slack_auth
    return [ok("slack auth.test", f"bot @{a.get('user')} ({a.get('user_id')}) in {a.get('team')} ({a.get('team_id')})")]


async def slack_scopes(c: Checkup) -> list[Line]:
    """The scopes granted to the bot token (auth.test's x-oauth-scopes header) against the manifest's."""
    if c.slack_auth is None:
        return [fail("slack scopes", "skipped: auth.test failed")]
    if c.slack_scopes is None:
        return [fail("slack scopes", "Slack's answer named no scopes (header x-oauth-scopes missing)")]
    granted = [scope.strip() for scope in c.slack_scopes.split(",") if scope.strip()]
    missing = missing_scopes(granted)
    if missing:
        return [fail("slack scopes", f"missing {', '.join(missing)}: add them as in deploy/slack-manifest.yml, "
                     "then reinstall the app to the workspace")]  # fmt: skip
    extra = sorted(set(granted) - set(BOT_SCOPES))
    more = f" (also granted, not needed: {', '.join(extra)})" if extra else ""
    return [ok("slack scopes", f"all {len(BOT_SCOPES)} the bot needs are granted{more}")]


async def slack_channels(c: Checkup) -> list[Line]:
    """The support channel (and every card channel) exists, is not archived, and has the bot as a member."""
    s = c.settings
    client = c.slack()
    if not s.slack_support_channel:
        return [fail("slack channel", "SLACK_SUPPORT_CHANNEL is not set (a channel id such as C0123456789)")]
    if client is None or c.slack_auth is None:
        return [fail("slack channel", "skipped: auth.test failed")]
    wanted = {s.slack_support_channel: "SLACK_SUPPORT_CHANNEL"}
    for route, channel in s.slack_card_channels.items():
        wanted.setdefault(channel, f"SLACK_CARD_CHANNELS {route}")
    bot_name = f"@{c.slack_auth.get('user')}"
    lines = []
    for channel, setting in wanted.items():
        item = f"slack channel {channel}"
        response, error = await _answer(client.conversations_info(channel=channel))
        if response is None:
            if error == "channel_not_found":
                error = (f"not found ({setting}); a private channel is found only once the bot is in it: "
                         f"/invite {bot_name}")  # fmt: skip
            lines.append(fail(item, str(error)))
            continue
        info = response.get("channel") or {}
        name = f"#{info.get('name', channel)}"
        if info.get("is_archived"):
            lines.append(fail(item, f"{name} is archived"))
        elif not info.get("is_member"):
            lines.append(fail(item, f"{name} found, but the bot is not a member: /invite {bot_name} in {name}"))
        else:
            lines.append(ok(item, f"{name} found, the bot is a member"))
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
        return "no database" if _no_database(c.settings) else None
    versions = await _pg_versions(c)
    if isinstance(versions, str):
        return "the database is not reachable"
    return None if versions else "the database has no tables yet"


async def database(c: Checkup) -> list[Line]:
    """The database (the SQLite file or PostgreSQL) answers and has every migration this version ships."""
    if c.settings.database_url:
        return await _postgres(c)
    path = c.settings.database_path
    if _no_database(c.settings):
        return [fail("database", f"no database at {path}: run `supportbot db migrate` (DATABASE_PATH)")]
    known = max((m.version for m in load_migrations()), default=0)
    version = current_version(path)
    if version > known:
        return [fail("database", f"{path} is at schema version {version}, newer than this code ({known})")]
    store = await c.store()
    async with store.transaction() as tx:
        await tx.list_agents()
    waiting = [m.version for m in pending(path)]
    if waiting:
        shown = ", ".join(f"{v:04d}" for v in waiting)
        return [fail("database", f"{path}: migrations {shown} not applied; run `supportbot db migrate`")]
    return [ok("database", f"{path} answers, schema at version {version} (up to date)")]


async def _postgres(c: Checkup) -> list[Line]:
    """DATABASE_URL: PostgreSQL reachable, its schema's migrations against the code's (nothing is created)."""
    where = c.settings.database_shown
    versions = await _pg_versions(c)
    if isinstance(versions, str):
        return [fail("database", f"{versions} (DATABASE_URL)")]
    if not versions:
        return [fail("database", f"{where} answers but holds no tables: run `supportbot db migrate`")]
    known = max((m.version for m in load_migrations()), default=0)
    version = max(versions)
    if version > known:
        return [fail("database", f"{where} is at schema version {version}, newer than this code ({known})")]
    waiting = [m.version for m in load_migrations() if m.version not in versions]
    if waiting:
        shown = ", ".join(f"{v:04d}" for v in waiting)
        return [fail("database", f"{where}: migrations {shown} not applied; run `supportbot db migrate`")]
    async with (await c.store()).transaction() as tx:
        await tx.list_agents()
    return [ok("database", f"{where} answers, schema at version {version} (up to date)")]


async def secrets(c: Checkup) -> list[Line]:
    """Every encrypted value the database holds opens with the keys in force (SECRETS_KEYS or the key file)."""
    s = c.settings
    try:
        keys = configured_keys(s)
    except KeysUnavailable as exc:
        return [fail("secret keys", str(exc))]
    missing = await _database_missing(c)
    if missing:
        return [fail("secret keys", f"skipped: {missing}")]
    sealed = await stored_tokens(await c.store())
    source = "SECRETS_KEYS" if s.secrets_keys else str(s.secrets_key_file)
    if not keys:
        if sealed:
            return [fail("secret keys", f"no keys in {source}, but {len(sealed)} encrypted secret(s) are stored: "
                         "restore the key file from the backup")]  # fmt: skip
        return [warn("secret keys", f"no keys yet in {source}; make them before the first start with "
                     "`supportbot keys generate` (replicas must share them)")]  # fmt: skip
    box = SecretBox(keys)
    unreadable = []
    for where, token in sealed:
        try:
            box.decrypt(token)
        except SecretError:
            unreadable.append(where)
    if unreadable:
        shown = ", ".join(unreadable[:3]) + (", ..." if len(unreadable) > 3 else "")
        return [fail("secret keys", f"{len(unreadable)} of {len(sealed)} stored secrets do not open with the "
                     f"{len(keys)} key(s) in {source} ({shown}): restore the key that sealed them")]  # fmt: skip
    if not sealed:
        return [ok("secret keys", f"{len(keys)} key(s) in {source}; no encrypted secret stored yet")]
    return [ok("secret keys", f"all {len(sealed)} stored secret(s) open with the {len(keys)} key(s) in {source}")]


async def agents(c: Checkup) -> list[Line]:
    """Every active agent's and manager's Slack id is a person in the workspace (users.info)."""
    missing = await _database_missing(c)
    if missing:
        return [fail("agents", f"skipped: {missing}")]
    async with (await c.store()).transaction() as tx:
        people = await tx.list_agents(active_only=True)
    if not people:
        return [warn("agents", "none registered yet: `supportbot agents add --name ... --slack-id U... --role ...`")]
    client = c.slack()
    if client is None or c.slack_auth is None:
        return [fail("agents", "skipped: auth.test failed")]
    lines = []
    for agent in people:
        item = f"agent {agent.name}"
        response, error = await _answer(client.users_info(user=agent.slack_user_id))
        user = (response.get("user") or {}) if response is not None else {}
        if response is None:
            lines.append(fail(item, f"Slack id {agent.slack_user_id}: {error}"))
        elif user.get("deleted"):
            lines.append(fail(item, f"{agent.slack_user_id} is deactivated in Slack"))
        elif user.get("is_bot"):
            lines.append(fail(item, f"{agent.slack_user_id} is a bot, not a person"))
    if not lines:
        names = ", ".join(a.name for a in people)
        lines.append(ok("agents", f"all {len(people)} found in Slack ({names})"))
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
                found = [fail(check.__name__, f"the check itself failed: {type(exc).__name__}: {exc}")]
            for line in found:
                out(line.render())
            lines += found
    finally:
        await c.close()
    failed = sum(line.status is Status.FAIL for line in lines)
    warned = sum(line.status is Status.WARN for line in lines)
    verdict = "ready" if not failed else "NOT ready"
    out(f"doctor: {verdict}: {len(lines) - failed - warned} ok, {warned} warning(s), {failed} failure(s)")
    return 1 if failed else 0
