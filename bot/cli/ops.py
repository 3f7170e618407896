"""What each `supportbot` subcommand does: thin calls into the store and the policy core."""

from __future__ import annotations

import argparse
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from bot.cli import CliError
from bot.clock import utcnow
from bot.domain.errors import DomainError
from bot.domain.types import ServiceArea, Severity, TicketStatus
from bot.i18n import Catalogue
from bot.keys import KeysUnavailable, configured_keys, read_key_file, stored_tokens, write_key_file
from bot.services import contacts
from bot.services.convert import domain_contract
from bot.settings import Settings
from bot.wiring import build_calendar, open_store, response_targets
from storage import SecretBox, SecretError, Store, StoreError, Tx
from storage.migrate import pending
from storage.records import Contact, InboxStatus, OutboxStatus

Command = Callable[[argparse.Namespace, Settings], Awaitable[int]]
_COMMANDS: dict[tuple[str, str | None], Command] = {}

# Invite codes are typed by hand sometimes: no 0/O or 1/I/L to confuse.
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def _command(name: str, action: str | None = None) -> Callable[[Command], Command]:
    def register(fn: Command) -> Command:
        _COMMANDS[(name, action)] = fn
        return fn

    return register


async def dispatch(args: argparse.Namespace, settings: Settings) -> int:
    """Run the subcommand named by args. Returns the exit status."""
    fn = _COMMANDS[(args.command, getattr(args, "action", None))]
    try:
        return await fn(args, settings)
    except StoreError as exc:
        from bot.cli_text import friendly

        raise CliError(friendly(str(exc))) from None
    except (DomainError, SecretError, KeysUnavailable) as exc:
        raise CliError(str(exc)) from None


@asynccontextmanager
async def _store(settings: Settings, *, migrate: bool = True) -> AsyncIterator[Store]:
    try:
        store = await open_store(settings, migrate=migrate)
    except OSError as exc:
        raise CliError(f"cannot open the database {settings.database_shown}: {exc.strerror or exc}") from None
    try:
        yield store
    finally:
        await store.close()


def _table(rows: list[list[str]], header: list[str]) -> None:
    if not rows:
        print("(none)")
        return
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def _hours(value: Decimal) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text or "0"


# --- clients and contacts ---------------------------------------------------------------------------------
def _contact_status(contact: Contact) -> str:
    if contact.forgotten_at is not None:
        return "forgotten"
    return "active" if contact.active else "deactivated"


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


@asynccontextmanager
async def _contact_tx(settings: Settings) -> AsyncIterator[Tx]:
    """A transaction whose contact refusals (unknown, forgotten, deactivated) are one-line errors."""
    async with _store(settings) as store, store.transaction() as tx:
        try:
            yield tx
        except contacts.ContactRefused as exc:
            raise CliError(str(exc)) from None


@_command("contacts", "list")
async def _contacts_list(args: argparse.Namespace, settings: Settings) -> int:
    async with _contact_tx(settings) as tx:
        if args.client is not None and await tx.get_client(args.client) is None:
            raise CliError(f"no client with id {args.client} (see `supportbot clients list`)")
        found = await tx.list_contacts(args.client)
    if args.json:
        rows = [
            {
                "id": c.id,
                "client_id": c.client_id,
                "name": c.name,
                "phone": c.phone,
                "language": c.language,
                "telegram_user_id": c.telegram_user_id,
                "acts_for_company": c.acts_for_company,
                "active": c.active,
                "forgotten_at": c.forgotten_at.isoformat() if c.forgotten_at else None,
                "created_at": c.created_at.isoformat(),
            }
            for c in found
        ]
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    table = [
        [
            str(c.id),
            str(c.client_id),
            c.name,
            c.phone or "-",
            str(c.telegram_user_id or "-"),
            c.language,
            _yes(c.acts_for_company),
            _contact_status(c),
        ]
        for c in found
    ]
    _table(table, ["ID", "CLIENT", "NAME", "PHONE", "TELEGRAM", "LANG", "ACTS FOR COMPANY", "STATUS"])
    return 0


@_command("contacts", "show")
async def _contacts_show(args: argparse.Namespace, settings: Settings) -> int:
    async with _contact_tx(settings) as tx:
        contact = await contacts.require(tx, args.contact_id)
        client = await tx.get_client(contact.client_id)
        reported = await tx.list_tickets(contact_id=contact.id)
    status = _contact_status(contact)
    if contact.forgotten_at is not None:
        status += f" on {contact.forgotten_at.astimezone(settings.zone).date().isoformat()}"
    waiting = (TicketStatus.NEW, TicketStatus.ASSIGNED, TicketStatus.WAITING_CLIENT)
    still_open = sum(t.status in waiting for t in reported)
    print(f"contact:          {contact.id}  {contact.name}")
    print(f"client:           {contact.client_id}  {client.name if client else '?'}")
    print(f"phone:            {contact.phone or '-'}")
    print(f"language:         {contact.language}")
    print(f"telegram:         {contact.telegram_user_id or 'not linked'}")
    print(f"acts for company: {_yes(contact.acts_for_company)} (P-ESC-2, P-CLOSE-2)")
    print(f"status:           {status}")
    print(f"tickets:          {len(reported)} reported, {still_open} open")
    return 0


@_command("contacts", "edit")
async def _contacts_edit(args: argparse.Namespace, settings: Settings) -> int:
    acts = None if args.acts_for_company is None else args.acts_for_company == "yes"
    async with _contact_tx(settings) as tx:
        contact = await contacts.edit(
            tx, args.contact_id, name=args.name, phone=args.phone, acts_for_company=acts, at=utcnow(), actor="cli"
        )
    print(
        f"contact {contact.id}: {contact.name} of client {contact.client_id},"
        f" acts for the company: {_yes(contact.acts_for_company)}"
    )
    return 0


@_command("contacts", "deactivate")
async def _contacts_deactivate(args: argparse.Namespace, settings: Settings) -> int:
    async with _contact_tx(settings) as tx:
        contact = await contacts.deactivate(tx, args.contact_id, at=utcnow(), actor="cli")
    print(f"contact {contact.id}: {contact.name} of client {contact.client_id} deactivated: unlinked from Telegram")
    return 0


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


@_command("contacts", "forget")
async def _contacts_forget(args: argparse.Namespace, settings: Settings) -> int:
    """LFPDPPP: asks nothing (the request was checked before running it); an unfinished conversation of the
    person is erased with the rest rather than blocking the erasure."""
    async with _contact_tx(settings) as tx:
        done = await contacts.forget(tx, Catalogue.load(), args.contact_id, at=utcnow(), actor="cli")
    r = done.result
    print(
        f"contact {r.contact.id} forgotten: name, phone and Telegram id erased,"
        f" {_count(r.drafts, 'draft', 'drafts')} and {_count(r.credentials, 'stored secret', 'stored secrets')}"
        f" deleted; {_count(r.tickets, 'ticket, its', 'tickets, their')} hours and the audit trail kept"
    )
    return 0


# --- contracts --------------------------------------------------------------------------------------------
@_command("contracts", "show")
async def _contracts_show(args: argparse.Namespace, settings: Settings) -> int:
    async with _store(settings) as store, store.transaction() as tx:
        record = await tx.get_contract_by_number(args.number)
        if record is None:
            raise CliError(f"no contract numbered {args.number!r} (see `supportbot contracts list`)")
        client = await tx.get_client(record.client_id)
        products = [p for p in await tx.list_products(record.client_id) if p.contract_id in (None, record.id)]
    contract = domain_contract(record)
    today = utcnow().astimezone(settings.zone).date()
    print(f"contract:   {contract.number} ({contract.tier.value})")
    print(f"client:     {client.name if client else record.client_id}")
    print(f"valid:      {contract.starts_on} .. {contract.ends_on}  [{contract.status(today).value}]")
    print(
        f"hours:      {_hours(contract.hours_used)} used, {_hours(contract.hours_left)} left "
        f"of {_hours(contract.hours_total)} ({_hours(contract.percent_left)}% left)"
    )
    if contract.office_hours_total:
        print(
            f"in-office:  {_hours(contract.office_hours_used)} used, {_hours(contract.office_hours_left)} left "
            f"of {_hours(contract.office_hours_total)} (P-POL-6)"
        )
    if contract.onsite_hours_total:
        print(
            f"on-site:    {_hours(contract.onsite_hours_used)} used, {_hours(contract.onsite_hours_left)} left "
            f"of {_hours(contract.onsite_hours_total)} (P-POL-6)"
        )
    if contract.purchase_order:
        print(f"PO:         {contract.purchase_order}")
    for product in products:
        flags = []
        if product.warranty_until:
            flags.append(f"warranty until {product.warranty_until}")
        if product.discontinued:
            flags.append("discontinued")
        print(f"product:    {product.name} [{product.service_area.value}] {', '.join(flags)}".rstrip())
    return 0


# --- products ---------------------------------------------------------------------------------------------
@_command("products", "add")
async def _products_add(args: argparse.Namespace, settings: Settings) -> int:
    async with _store(settings) as store, store.transaction() as tx:
        if await tx.get_client(args.client) is None:
            raise CliError(f"no client with id {args.client} (see `supportbot clients list`)")
        if args.contract is not None:
            contract = await tx.get_contract(args.contract)
            if contract is None or contract.client_id != args.client:
                raise CliError(f"client {args.client} has no contract with id {args.contract}")
        product = await tx.add_product(
            args.client,
            args.name,
            ServiceArea(args.area),
            contract_id=args.contract,
            warranty_until=args.warranty_until,
            discontinued=args.discontinued,
        )
    print(f"product {product.id}: {product.name} [{product.service_area.value}]")
    return 0


@_command("products", "discontinue")
async def _products_discontinue(args: argparse.Namespace, settings: Settings) -> int:
    async with _store(settings) as store, store.transaction() as tx:
        product = await tx.set_product_discontinued(args.product_id, not args.undo)
    print(f"product {product.id}: {product.name} {'discontinued' if product.discontinued else 'supported'}")
    return 0


@_command("products", "warranty")
async def _products_warranty(args: argparse.Namespace, settings: Settings) -> int:
    async with _store(settings) as store, store.transaction() as tx:
        product = await tx.set_product_warranty(args.product_id, None if args.none else args.until)
    print(f"product {product.id}: warranty {product.warranty_until or 'none'}")
    return 0


# --- agents and invites -----------------------------------------------------------------------------------
# --- tickets ----------------------------------------------------------------------------------------------
# --- outbox, inbox ------------------------------------------------------------------------------------------
def _stamp(value: datetime | None, settings: Settings) -> str:
    return value.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def _one_line(text: str | None, width: int = 70) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _ticket_id(payload: Mapping[str, Any]) -> int | None:
    value = payload.get("ticket_id")
    return value if isinstance(value, int) else None


@_command("outbox", "list")
async def _outbox_list(args: argparse.Namespace, settings: Settings) -> int:
    """Never prints a payload: a row may carry what a client wrote (P-IN-3); the id, where and why suffice."""
    statuses = (OutboxStatus.DEAD,) if args.dead else (OutboxStatus.PENDING, OutboxStatus.SENDING)
    async with _store(settings) as store, store.transaction() as tx:
        rows = [m for status in statuses for m in await tx.list_outbox(status, args.limit)][: args.limit]
        numbers: dict[int | None, str] = {}
        for m in rows:
            ticket_id = _ticket_id(m.payload)
            if ticket_id is not None and ticket_id not in numbers:
                ticket = await tx.get_ticket(ticket_id)
                numbers[ticket_id] = ticket.number if ticket else "-"
    if not rows:
        print("no dead messages" if args.dead else "nothing waiting to be sent")
        return 0
    rows.sort(key=lambda m: m.id)
    table = [
        [
            str(m.id),
            m.kind,
            m.destination,
            numbers.get(_ticket_id(m.payload), "-"),
            _stamp(m.created_at, settings),
            str(m.attempts),
            m.status.value if not args.dead else _one_line(m.last_error),
        ]
        for m in rows
    ]
    last = "ERROR" if args.dead else "STATUS"
    _table(table, ["ID", "KIND", "TO", "TICKET", "CREATED", "ATTEMPTS", last])
    if args.dead:
        print(f"{len(rows)} dead; send one again with `supportbot outbox retry ID`")
    return 0


@_command("outbox", "retry")
async def _outbox_retry(args: argparse.Namespace, settings: Settings) -> int:
    async with _store(settings) as store, store.transaction() as tx:
        row = await tx.get_outbox(args.id)
        if row is None:
            raise CliError(f"no outbox message {args.id} (see `supportbot outbox list --dead`)")
        if not await tx.requeue_outbox(args.id, utcnow()):
            raise CliError(f"outbox message {args.id} is {row.status.value}, not dead: there is nothing to retry")
    print(f"outbox message {args.id} ({row.kind} to {row.destination}) is queued again; the running bot sends it")
    return 0


@_command("inbox", "list")
async def _inbox_list(args: argparse.Namespace, settings: Settings) -> int:
    """Never prints a payload (sealed at rest): source, key and the error say which event it was."""
    statuses = (InboxStatus.FAILED, InboxStatus.UNPARSED) if args.failed else (InboxStatus.PENDING, InboxStatus.WORKING)
    async with _store(settings) as store, store.transaction() as tx:
        entries = await tx.list_inbox(statuses, args.limit)
    if not entries:
        print("no failed or unreadable events" if args.failed else "nothing waiting to be handled")
        return 0
    table = [
        [
            str(e.id),
            f"{e.source}:{e.kind}",
            e.key,
            e.ordering_key,
            _stamp(e.received_at, settings),
            str(e.attempts),
            e.status.value if not args.failed else f"{e.status.value}: {_one_line(e.error, 60)}",
        ]
        for e in entries
    ]
    _table(table, ["ID", "EVENT", "KEY", "CHAT", "RECEIVED", "ATTEMPTS", "STATUS"])
    return 0


# --- sla, db, keys ----------------------------------------------------------------------------------------
@_command("sla", "deadline")
async def _sla_deadline(args: argparse.Namespace, settings: Settings) -> int:
    opened = args.opened if args.opened.tzinfo else args.opened.replace(tzinfo=settings.zone)
    target = response_targets(settings)[Severity(args.severity)]
    print(build_calendar(settings).add(opened, target).isoformat())
    return 0


@_command("db", "migrate")
async def _db_migrate(args: argparse.Namespace, settings: Settings) -> int:
    if settings.database_url:
        async with _store(settings, migrate=False) as store:
            applied = await store.migrate()
        done = f"applied migrations {', '.join(str(v) for v in applied)} to" if applied else "up to date:"
        print(f"{done} {settings.database_shown}")
        return 0
    path = settings.database_path
    pending_now = [m.version for m in pending(path)] if path.exists() else None
    async with _store(settings):
        pass  # opening applies what is pending
    if pending_now is None:
        print(f"created {path} with the current schema")
    elif pending_now:
        print(f"applied migrations {', '.join(str(v) for v in pending_now)} to {path}")
    else:
        print(f"{path} is up to date")
    return 0


@_command("db", "backup")
async def _db_backup(args: argparse.Namespace, settings: Settings) -> int:
    target = Path(args.path)
    if target.exists():  # noqa: ASYNC240 - a one-shot command, nothing else runs on this loop
        raise CliError(f"{target} exists; give a new file name")
    if not target.parent.exists():
        raise CliError(f"folder {target.parent} does not exist")
    async with _store(settings) as store:
        await store.backup(target)
    print(f"backed up {settings.database_shown} to {target}")
    if settings.database_url:
        from storage.pg import PgLocation

        schema = PgLocation.parse(settings.database_url).schema
        print(
            "to restore it (pg_dump's custom format), into an empty database:\n"
            f"  createdb NEWDB && pg_restore --no-owner --dbname=postgresql://USER@HOST/NEWDB {target}\n"
            "  then set DATABASE_URL to the new database"
            + (f" (with ?schema={schema})" if schema else "")
            + " and start the bot;\n"
            f"or over this database, with every replica stopped: pg_restore --no-owner --clean --if-exists"
            f" --dbname=<DATABASE_URL without ?schema> {target}"
        )
    return 0


@_command("db", "copy")
async def _db_copy(args: argparse.Namespace, settings: Settings) -> int:
    """Every row from one database to an empty other, then counts and checksums compared table by table."""
    from storage.copy import copy_database

    checks = await copy_database(args.source, args.target)
    _table(
        [[c.table, str(c.source_rows), str(c.target_rows), c.target_sum[:12], "ok" if c.ok else "DIFFERENT"]
         for c in checks],
        ["table", "rows from", "rows to", "sha256", "check"],
    )  # fmt: skip
    wrong = [c.table for c in checks if not c.ok]
    if wrong:
        raise CliError(f"the copy differs from the source in {', '.join(wrong)}")
    total = sum(c.target_rows for c in checks)
    print(
        f"copied {total} rows in {len(checks)} tables; every count and checksum matches. Encrypted secrets were"
        " copied as they are: keep the same SECRETS_KEYS or key file. Point the bot at the new database"
        " (DATABASE_URL) and start it."
    )
    return 0


@_command("keys", "generate")
async def _keys_generate(args: argparse.Namespace, settings: Settings) -> int:
    from storage import generate_key

    if args.print:
        print(generate_key())
        return 0
    if settings.secrets_keys:
        raise CliError("SECRETS_KEYS is set: keys come from the environment; use --print to make one for it")
    path = settings.secrets_key_file
    if read_key_file(path):
        raise CliError(f"{path} already holds keys; use `supportbot keys rotate` to add a new one")
    write_key_file(path, [generate_key()])
    print(f"wrote a new key to {path} (mode 0600); keep a copy somewhere safe")
    return 0


@_command("keys", "check")
async def _keys_check(args: argparse.Namespace, settings: Settings) -> int:
    """Every credential, every password in a draft and every sealed inbox entry, opened with the keys in force."""
    keys = configured_keys(settings)
    if not keys:
        raise CliError(f"no keys: neither SECRETS_KEYS nor the key file {settings.secrets_key_file}")
    box = SecretBox(keys)
    async with _store(settings) as store:
        sealed = await stored_tokens(store)
    unreadable = []
    for where, token in sealed:
        try:
            box.decrypt(token)
        except SecretError:
            unreadable.append(where)
    if unreadable:
        shown = ", ".join(unreadable[:5]) + (", …" if len(unreadable) > 5 else "")
        raise CliError(
            f"{len(unreadable)} of {len(sealed)} stored secrets cannot be decrypted with the {len(keys)} key(s) in"
            f" force ({shown}); restore the key that sealed them"
        )
    print(f"all {len(sealed)} stored secrets can be decrypted with the {len(keys)} key(s) in force")
    return 0


@_command("keys", "rotate")
async def _keys_rotate(args: argparse.Namespace, settings: Settings) -> int:
    """File keys: a new key goes first. SECRETS_KEYS: the operator already put a new key first.

    The key file is written BEFORE re-encrypting: if anything fails in between, every secret is still
    readable with the keys on disk (old ones are kept for that reason).
    """
    from storage import generate_key

    keys = configured_keys(settings)
    if not keys:
        raise CliError("no keys yet; run `supportbot keys generate` first")
    if not settings.secrets_keys:
        keys = [generate_key(), *keys]
        write_key_file(settings.secrets_key_file, keys)
    async with _store(settings) as store:
        count = await store.rotate_secrets(SecretBox(keys))
    if settings.secrets_keys:
        print(
            f"re-encrypted {count} stored secrets under the first key of SECRETS_KEYS; a running bot reads them"
            " only once it is restarted with the same SECRETS_KEYS: restart it now"
        )
    else:
        print(
            f"re-encrypted {count} stored secrets under a new key in {settings.secrets_key_file}; a running bot"
            " reads the new key from the file by itself (older keys may be removed once backups are rotated)"
        )
    return 0
