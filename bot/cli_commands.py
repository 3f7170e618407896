"""What each `supportbot` subcommand does: thin calls into the store and the policy core."""

from __future__ import annotations

import argparse
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bot.cli import CliError
from bot.clock import utcnow
from bot.domain.contracts import Contract as DomainContract
from bot.domain.errors import DomainError
from bot.domain.types import Role, ServiceArea, Severity, TicketStatus, Tier
from bot.keys import KeysUnavailable, configured_keys, read_key_file, write_key_file
from bot.services.convert import domain_contract
from bot.settings import Settings
from bot.wiring import build_calendar, open_store, response_targets, tier_rules
from storage import SecretBox, SecretError, Store, StoreError
from storage.migrate import pending
from storage.records import InboxStatus, OutboxStatus

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
    except (StoreError, DomainError, SecretError, KeysUnavailable) as exc:
        raise CliError(str(exc)) from None


@asynccontextmanager
async def _store(settings: Settings) -> AsyncIterator[Store]:
    try:
        store = await open_store(settings)
    except OSError as exc:
        raise CliError(f"cannot open the database {settings.database_path}: {exc.strerror or exc}") from None
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
@_command("clients", "add")
async def _clients_add(args: argparse.Namespace, settings: Settings) -> int:
    if not args.name.strip():
        raise CliError("the client needs a name")
    async with _store(settings) as store, store.transaction() as tx:
        client = await tx.add_client(
            args.name.strip(), phone=args.phone, tax_id=args.tax_id, notes=args.notes, at=utcnow()
        )
    print(f"client {client.id}: {client.name}")
    return 0


@_command("clients", "list")
async def _clients_list(args: argparse.Namespace, settings: Settings) -> int:
    async with _store(settings) as store, store.transaction() as tx:
        clients = await tx.list_clients()
    _table([[str(c.id), c.name, c.phone] for c in clients], ["ID", "NAME", "PHONE"])
    return 0


@_command("contacts", "add")
async def _contacts_add(args: argparse.Namespace, settings: Settings) -> int:
    async with _store(settings) as store, store.transaction() as tx:
        if await tx.get_client(args.client) is None:
            raise CliError(f"no client with id {args.client} (see `supportbot clients list`)")
        contact = await tx.add_contact(args.client, args.name, phone=args.phone, language=args.language, at=utcnow())
    print(f"contact {contact.id}: {contact.name} of client {contact.client_id}")
    return 0


# --- contracts --------------------------------------------------------------------------------------------
@_command("contracts", "add")
async def _contracts_add(args: argparse.Namespace, settings: Settings) -> int:
    tier = Tier(args.tier)
    rules = tier_rules(settings)
    if rules[tier].needs_purchase_order and not args.purchase_order:
        raise CliError("a por_evento contract needs --purchase-order (P-POL-1)")
    terms = DomainContract.new(args.number, tier, args.starts, rules=rules, ends_on=args.ends)
    hours = Decimal(str(args.hours)) if args.hours is not None else terms.hours_total
    async with _store(settings) as store, store.transaction() as tx:
        if await tx.get_client(args.client) is None:
            raise CliError(f"no client with id {args.client} (see `supportbot clients list`)")
        contract = await tx.add_contract(
            number=args.number,
            client_id=args.client,
            tier=tier,
            starts_on=terms.starts_on,
            ends_on=terms.ends_on,
            minutes_total=int(hours * 60),
            onsite_minutes_total=int(terms.onsite_hours_total * 60),
            purchase_order=args.purchase_order,
            special_eol_support=args.special_eol,
        )
    print(
        f"contract {contract.id}: {contract.number} {contract.tier.value} "
        f"{contract.starts_on}..{contract.ends_on}, {_hours(contract.hours_total)} h"
    )
    return 0


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


@_command("contracts", "list")
async def _contracts_list(args: argparse.Namespace, settings: Settings) -> int:
    async with _store(settings) as store, store.transaction() as tx:
        contracts = await tx.list_contracts(args.client)
    today = utcnow().astimezone(settings.zone).date()
    rows = []
    for record in contracts:
        c = domain_contract(record)
        rows.append(
            [
                str(record.id),
                c.number,
                str(record.client_id),
                c.tier.value,
                str(c.ends_on),
                _hours(c.hours_left),
                c.status(today).value,
            ]
        )
    _table(rows, ["ID", "NUMBER", "CLIENT", "TIER", "ENDS", "HOURS LEFT", "STATUS"])
    return 0


@_command("contracts", "expiring")
async def _contracts_expiring(args: argparse.Namespace, settings: Settings) -> int:
    if args.within_days < 0:
        raise CliError("--within-days must be 0 or more")
    today = utcnow().astimezone(settings.zone).date()
    async with _store(settings) as store, store.transaction() as tx:
        contracts = await tx.list_expiring(today + timedelta(days=args.within_days + 1), on_or_after=today)
    rows = [
        [c.number, str(c.client_id), c.tier.value, str(c.ends_on), str((c.ends_on - today).days)] for c in contracts
    ]
    _table(rows, ["NUMBER", "CLIENT", "TIER", "ENDS", "DAYS LEFT"])
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


@_command("products", "list")
async def _products_list(args: argparse.Namespace, settings: Settings) -> int:
    async with _store(settings) as store, store.transaction() as tx:
        products = await tx.list_products(args.client)
    rows = [
        [
            str(p.id),
            p.name,
            p.service_area.value,
            str(p.warranty_until or "-"),
            "yes" if p.discontinued else "no",
        ]
        for p in products
    ]
    _table(rows, ["ID", "NAME", "AREA", "WARRANTY UNTIL", "DISCONTINUED"])
    return 0


# --- agents and invites -----------------------------------------------------------------------------------
@_command("agents", "add")
async def _agents_add(args: argparse.Namespace, settings: Settings) -> int:
    slack_id = args.slack_id.strip()
    if not slack_id.isalnum() or slack_id[:1] not in {"U", "W"}:
        raise CliError(f"{slack_id!r} is not a Slack user id (they look like U0123ABCD)")
    async with _store(settings) as store, store.transaction() as tx:
        agent = await tx.add_agent(args.name, slack_id, Role(args.role))
    print(f"agent {agent.id}: {agent.name} <{agent.slack_user_id}> {agent.role.value}")
    return 0


@_command("agents", "list")
async def _agents_list(args: argparse.Namespace, settings: Settings) -> int:
    async with _store(settings) as store, store.transaction() as tx:
        agents = await tx.list_agents(Role(args.role) if args.role else None)
    rows = [[str(a.id), a.name, a.slack_user_id, a.role.value, "yes" if a.active else "no"] for a in agents]
    _table(rows, ["ID", "NAME", "SLACK ID", "ROLE", "ACTIVE"])
    return 0


@_command("invites", "create")
async def _invites_create(args: argparse.Namespace, settings: Settings) -> int:
    now = utcnow()
    ttl = args.ttl_hours if args.ttl_hours is not None else settings.invite_code_ttl_hours
    code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
    async with _store(settings) as store, store.transaction() as tx:
        if await tx.get_client(args.client) is None:
            raise CliError(f"no client with id {args.client} (see `supportbot clients list`)")
        invite = await tx.create_invite(code, args.client, args.name, expires_at=now + timedelta(hours=ttl), at=now)
    expires = invite.expires_at.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M")
    print(f"invite code {invite.code} for {invite.contact_name}, valid until {expires} (once)")
    print(f"the client opens the bot and sends: /start {invite.code}  (or the link t.me/<bot>?start={invite.code})")
    return 0


@_command("invites", "list")
async def _invites_list(args: argparse.Namespace, settings: Settings) -> int:
    now = utcnow()
    async with _store(settings) as store, store.transaction() as tx:
        invites = await tx.list_invites(args.client)
    rows = []
    for i in invites:
        state = "used" if i.used_at else ("expired" if i.expires_at <= now else "open")
        rows.append(
            [
                i.code,
                str(i.client_id),
                i.contact_name,
                i.expires_at.astimezone(settings.zone).isoformat(),
                state,
            ]
        )
    _table(rows, ["CODE", "CLIENT", "FOR", "EXPIRES", "STATE"])
    return 0


# --- tickets ----------------------------------------------------------------------------------------------
@_command("tickets", "list")
async def _tickets_list(args: argparse.Namespace, settings: Settings) -> int:
    async with _store(settings) as store, store.transaction() as tx:
        tickets = await tx.list_tickets(TicketStatus(args.status) if args.status else None, args.client)
    zone = settings.zone
    rows = [
        [
            t.number,
            t.status.value,
            f"sev {int(t.severity)}",
            str(t.client_id),
            t.response_due_at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if t.response_due_at else "-",
            str(t.assignee_id or "-"),
        ]
        for t in tickets
    ]
    _table(rows, ["NUMBER", "STATUS", "SEVERITY", "CLIENT", "DUE", "ASSIGNEE"])
    return 0


@_command("tickets", "show")
async def _tickets_show(args: argparse.Namespace, settings: Settings) -> int:
    zone = settings.zone
    async with _store(settings) as store, store.transaction() as tx:
        ticket = await tx.get_ticket_by_number(args.number)
        if ticket is None:
            raise CliError(f"no ticket numbered {args.number!r} (see `supportbot tickets list`)")
        client = await tx.get_client(ticket.client_id)
        assignee = await tx.get_agent(ticket.assignee_id) if ticket.assignee_id else None
        audit = await tx.list_audit(ticket.id)

    def when(value: object) -> str:
        return value.astimezone(zone).isoformat() if hasattr(value, "astimezone") else "-"

    print(f"ticket:      {ticket.number}  [{ticket.status.value}]  level {ticket.escalation_level}")
    print(f"client:      {client.name if client else ticket.client_id}")
    print(f"severity:    {int(ticket.severity)}  area: {ticket.service_area.value}")
    print(f"assignee:    {assignee.name if assignee else '-'}")
    print(f"opened:      {when(ticket.opened_at)}")
    print(f"due:         {when(ticket.response_due_at)}")
    print(f"answered:    {when(ticket.first_response_at)}  met: {ticket.response_met}")
    print(f"description: {ticket.description}")
    if ticket.solution:
        print(f"solution:    {ticket.solution}")
    print("audit trail:")
    for event in audit:
        data = " ".join(f"{k}={v}" for k, v in event.data.items())
        print(f"  {when(event.at)}  {event.actor_kind}:{event.actor_id}  {event.action}  {data}".rstrip())
    return 0


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
    print(f"backed up {settings.database_path} to {target}")
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
    where = "the first key of SECRETS_KEYS" if settings.secrets_keys else f"a new key in {settings.secrets_key_file}"
    print(f"re-encrypted {count} stored secrets under {where}; older keys may be removed once backups are rotated")
    return 0
