"""`supportbot sla|outbox|inbox|db|keys`: business-hours arithmetic and the machinery an operator looks after:
what waits to be sent or handled (never its payload, P-IN-3), the database, and the keys of stored secrets."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot.cli.base import CliError, command, store
from bot.cli.parser import Noun, instant, positive_int
from bot.cli.text import emit, say, stamp
from bot.clock import utcnow
from bot.domain.types import Severity
from bot.keys import configured_keys, read_key_file, stored_tokens, write_key_file
from bot.settings import Settings
from bot.wiring import build_calendar, response_targets
from storage import SecretBox, SecretError
from storage.migrate import pending
from storage.records import InboxStatus, OutboxStatus

__all__ = ["add_parsers"]


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sla = Noun(sub, "sla")
    (sla.verb("deadline").arg("--severity", type=int, required=True, choices=[int(s) for s in Severity])
     .arg("--opened", type=instant, required=True))  # fmt: skip

    outbox = Noun(sub, "outbox")
    (outbox.verb("list").arg("--dead", action="store_true").arg("--limit", type=positive_int, default=100)
     .arg("--json", action="store_true"))  # fmt: skip
    outbox.verb("retry").arg("id", type=positive_int)

    inbox = Noun(sub, "inbox")
    (inbox.verb("list").arg("--failed", action="store_true").arg("--limit", type=positive_int, default=100)
     .arg("--json", action="store_true"))  # fmt: skip

    db = Noun(sub, "db")
    db.verb("migrate")
    db.verb("backup").arg("path")
    db.verb("copy").arg("--from", dest="source", required=True).arg("--to", dest="target", required=True)

    keys = Noun(sub, "keys")
    keys.verb("generate").arg("--print", action="store_true")
    keys.verb("check")
    keys.verb("rotate")


# --- sla --------------------------------------------------------------------------------------------------
@command("sla", "deadline")
async def _sla_deadline(args: argparse.Namespace, settings: Settings) -> int:
    opened = args.opened if args.opened.tzinfo else args.opened.replace(tzinfo=settings.zone)
    target = response_targets(settings)[Severity(args.severity)]
    print(build_calendar(settings).add(opened, target).isoformat())
    return 0


# --- outbox, inbox ----------------------------------------------------------------------------------------
def _one_line(text: str | None, width: int = 70) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _ticket_id(payload: Mapping[str, Any]) -> int | None:
    value = payload.get("ticket_id")
    return value if isinstance(value, int) else None


@command("outbox", "list")
async def _outbox_list(args: argparse.Namespace, settings: Settings) -> int:
    """Never prints a payload: a row may carry what a client wrote (P-IN-3); the id, where and why suffice."""
    statuses = (OutboxStatus.DEAD,) if args.dead else (OutboxStatus.PENDING, OutboxStatus.SENDING)
    async with store(settings) as opened, opened.transaction() as tx:
        found = [m for status in statuses for m in await tx.list_outbox(status, args.limit)][: args.limit]
        numbers: dict[int, str] = {}
        for m in found:
            ticket_id = _ticket_id(m.payload)
            if ticket_id is not None and ticket_id not in numbers:
                ticket = await tx.get_ticket(ticket_id)
                numbers[ticket_id] = ticket.number if ticket else "-"
    found.sort(key=lambda m: m.id)
    rows: list[dict[str, Any]] = [
        {"id": m.id, "kind": m.kind, "destination": m.destination, "ticket": numbers.get(_ticket_id(m.payload) or 0),
         "created_at": m.created_at, "attempts": m.attempts, "status": m.status.value,
         "last_error": m.last_error, "available_at": m.available_at}
        for m in found
    ]  # fmt: skip
    if args.json:
        emit(rows, [], as_json=True)
        return 0
    if not rows:
        print(say("outbox.no_dead" if args.dead else "outbox.empty"))
        return 0
    shown = [{**r, "created_at": stamp(r["created_at"], settings.zone, seconds=True),
              "status": _one_line(r["last_error"]) if args.dead else r["status"]} for r in rows]  # fmt: skip
    emit(shown, [("id", "id"), ("kind", "kind"), ("destination", "to"), ("ticket", "ticket"),
                 ("created_at", "created"), ("attempts", "attempts"),
                 ("status", "error" if args.dead else "status")], as_json=False)  # fmt: skip
    if args.dead:
        print(say("outbox.dead_count", count=len(rows)))
    return 0


@command("outbox", "retry")
async def _outbox_retry(args: argparse.Namespace, settings: Settings) -> int:
    async with store(settings) as opened, opened.transaction() as tx:
        row = await tx.get_outbox(args.id)
        if row is None:
            raise CliError(say("outbox.missing", id=args.id))
        if not await tx.requeue_outbox(args.id, utcnow()):
            raise CliError(say("outbox.not_dead", id=args.id, status=row.status.value))
    print(say("outbox.queued", id=args.id, kind=row.kind, to=row.destination))
    return 0


@command("inbox", "list")
async def _inbox_list(args: argparse.Namespace, settings: Settings) -> int:
    """Never prints a payload (sealed at rest): source, key and the error say which event it was."""
    statuses = (InboxStatus.FAILED, InboxStatus.UNPARSED) if args.failed else (InboxStatus.PENDING, InboxStatus.WORKING)
    async with store(settings) as opened, opened.transaction() as tx:
        entries = await tx.list_inbox(statuses, args.limit)
    rows: list[dict[str, Any]] = [
        {"id": e.id, "source": e.source, "kind": e.kind, "key": e.key, "ordering_key": e.ordering_key,
         "received_at": e.received_at, "attempts": e.attempts, "status": e.status.value, "error": e.error}
        for e in entries
    ]  # fmt: skip
    if args.json:
        emit(rows, [], as_json=True)
        return 0
    if not rows:
        print(say("inbox.no_failed" if args.failed else "inbox.empty"))
        return 0
    shown = [{**r, "event": f"{r['source']}:{r['kind']}", "received_at": stamp(r["received_at"], settings.zone,
              seconds=True), "status": f"{r['status']}: {_one_line(r['error'], 60)}" if args.failed else r["status"]}
             for r in rows]  # fmt: skip
    columns = [("id", "id"), ("event", "event"), ("key", "key"), ("ordering_key", "chat"), ("received_at", "received"),
               ("attempts", "attempts"), ("status", "status")]  # fmt: skip
    emit(shown, columns, as_json=False)
    return 0


# --- db ---------------------------------------------------------------------------------------------------
@command("db", "migrate")
async def _db_migrate(args: argparse.Namespace, settings: Settings) -> int:
    if settings.database_url:
        async with store(settings, migrate=False) as opened:
            applied = await opened.migrate()
        where = settings.database_shown
        print(say("db.applied", versions=", ".join(map(str, applied)), where=where) if applied else
              say("db.up_to_date", where=where))  # fmt: skip
        return 0
    path = settings.database_path
    pending_now = [m.version for m in pending(path)] if path.exists() else None
    async with store(settings):
        pass  # opening applies what is pending
    if pending_now is None:
        print(say("db.created", where=path))
    elif pending_now:
        print(say("db.applied", versions=", ".join(map(str, pending_now)), where=path))
    else:
        print(say("db.up_to_date", where=path))
    return 0


@command("db", "backup")
async def _db_backup(args: argparse.Namespace, settings: Settings) -> int:
    target = Path(args.path)
    if target.exists():  # noqa: ASYNC240 - a one-shot command, nothing else runs on this loop
        raise CliError(say("db.backup_exists", path=target))
    if not target.parent.exists():
        raise CliError(say("db.no_folder", path=target.parent))
    async with store(settings) as opened:
        await opened.backup(target)
    print(say("db.backed_up", where=settings.database_shown, path=target))
    if settings.database_url:
        from storage.pg import PgLocation

        schema = PgLocation.parse(settings.database_url).schema
        print(say("db.restore", path=target, schema=say("db.restore_schema", schema=schema) if schema else ""))
    return 0


@command("db", "copy")
async def _db_copy(args: argparse.Namespace, settings: Settings) -> int:
    """Every row from one database to an empty other, then counts and checksums compared table by table."""
    from storage.copy import CopyRefused, copy_database

    try:
        checks = await copy_database(args.source, args.target)
    except CopyRefused as exc:
        raise CliError(say(f"copy.{exc.key}", **exc.params)) from None
    rows = [{"table": c.table, "from": c.source_rows, "to": c.target_rows, "sum": c.target_sum[:12],
             "check": "ok" if c.ok else say("db.different")} for c in checks]  # fmt: skip
    emit(rows, [("table", "table"), ("from", "rows_from"), ("to", "rows_to"), ("sum", "sha256"),
                ("check", "check")], as_json=False)  # fmt: skip
    wrong = [c.table for c in checks if not c.ok]
    if wrong:
        raise CliError(say("db.copy_differs", tables=", ".join(wrong)))
    print(say("db.copied", rows=sum(c.target_rows for c in checks), tables=len(checks)))
    return 0


# --- keys -------------------------------------------------------------------------------------------------
@command("keys", "generate")
async def _keys_generate(args: argparse.Namespace, settings: Settings) -> int:
    from storage import generate_key

    if args.print:
        print(generate_key())
        return 0
    if settings.secrets_keys:
        raise CliError(say("keys.from_environment"))
    path = settings.secrets_key_file
    if read_key_file(path):
        raise CliError(say("keys.file_has_keys", path=path))
    write_key_file(path, [generate_key()])
    print(say("keys.written", path=path))
    return 0


@command("keys", "check")
async def _keys_check(args: argparse.Namespace, settings: Settings) -> int:
    """Every credential, every password in a draft and every sealed inbox entry, opened with the keys in force."""
    keys = configured_keys(settings)
    if not keys:
        raise CliError(say("keys.none", path=settings.secrets_key_file))
    box = SecretBox(keys)
    async with store(settings) as opened:
        sealed = await stored_tokens(opened)
    unreadable = []
    for where, token in sealed:
        try:
            box.decrypt(token)
        except SecretError:
            unreadable.append(say(f"keys.where.{where.kind}", id=where.ref))
    if unreadable:
        shown = ", ".join(unreadable[:5]) + (", …" if len(unreadable) > 5 else "")
        raise CliError(say("keys.unreadable", count=len(unreadable), total=len(sealed), keys=len(keys), which=shown))
    print(say("keys.all_open", total=len(sealed), keys=len(keys)))
    return 0


@command("keys", "rotate")
async def _keys_rotate(args: argparse.Namespace, settings: Settings) -> int:
    """File keys: a new key goes first. SECRETS_KEYS: the operator already put a new key first.

    The key file is written BEFORE re-encrypting: if anything fails in between, every secret is still
    readable with the keys on disk (old ones are kept for that reason).
    """
    from storage import generate_key

    keys = configured_keys(settings)
    if not keys:
        raise CliError(say("keys.none_yet"))
    if not settings.secrets_keys:
        keys = [generate_key(), *keys]
        write_key_file(settings.secrets_key_file, keys)
    async with store(settings) as opened:
        count = await opened.rotate_secrets(SecretBox(keys))
    if settings.secrets_keys:
        print(say("keys.rotated_env", count=count))
    else:
        print(say("keys.rotated_file", count=count, path=settings.secrets_key_file))
    return 0
