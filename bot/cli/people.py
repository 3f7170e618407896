"""The office's `supportbot` verbs: the report, and what managers and the person who keeps the client list add to
the administration commands (registered into bot.cli_commands' table when imported)."""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bot.cli import CliError
from bot.cli_commands import _command
from bot.cli_text import emit, say, stamp
from bot.clock import utcnow
from bot.domain.contracts import Contract as DomainContract
from bot.domain.types import Role, TicketStatus, Tier
from bot.reports.build import make_report
from bot.reports.period import Period, PeriodError, month_period, range_period
from bot.services.context import Services
from bot.services.convert import domain_contract
from bot.services.desk_home import running_out
from bot.settings import Settings
from bot.validation import FieldError, check_name, check_phone
from bot.wiring import tier_rules
from storage import Tx
from storage.records import Client, Contract

__all__ = ["report_period"]


def report_period(args: argparse.Namespace, settings: Settings) -> Period:
    """--month, or --from/--to (both days included). Raises CliError."""
    zone = settings.zone
    try:
        if args.month:
            return month_period(args.month, zone)
        if args.from_day is None or args.to_day is None:
            raise CliError("give --month YYYY-MM, or both --from and --to")
        return range_period(args.from_day, args.to_day, zone)
    except PeriodError as exc:
        raise CliError(str(exc)) from None


async def _services(settings: Settings) -> Services:
    from bot.i18n import Catalogue
    from bot.keys import configured_keys, secret_box
    from bot.wiring import build_calendar, open_store, response_targets, tier_rules

    try:
        store = await open_store(settings)
    except OSError as exc:
        raise CliError(f"cannot open the database {settings.database_path}: {exc.strerror or exc}") from None
    return Services(
        settings=settings, store=store, calendar=build_calendar(settings), tiers=tier_rules(settings),
        targets=response_targets(settings), catalogue=Catalogue.load(),
        box=secret_box(settings, configured_keys(settings)),
    )  # fmt: skip


async def _demo_services(settings: Settings, period: Period, folder: Path) -> Services:
    """A generated month in a database of its own (never the configured one)."""
    from sandbox.month import MonthClock, generate_month, month_services

    clock = MonthClock(period.start)
    services = await month_services(settings, folder / "month.db", clock)
    await generate_month(services, clock, period)
    return services


@_command("report")
async def _report(args: argparse.Namespace, settings: Settings) -> int:
    period = report_period(args, settings)
    out = (
        Path(args.out)
        if args.out
        else Path("reports") / (period.label + (f"-client{args.client}" if args.client else ""))
    )
    with tempfile.TemporaryDirectory() as scratch:
        if args.demo:
            services = await _demo_services(settings, period, Path(scratch))
            now = period.end
        else:
            services = await _services(settings)
            now = utcnow()
        try:
            if args.client is not None:
                async with services.store.transaction() as tx:
                    if await tx.get_client(args.client) is None:
                        raise CliError(f"no client with id {args.client} (see `supportbot clients list`)")
            figures, files = await make_report(services, period, out, now=now, client_id=args.client)
        finally:
            await services.store.close()
    from bot.reports.render import summary_lines

    for line in summary_lines(figures, services.catalogue):
        print(line)
    print(f"{files.html}  ({len(files.csv)} CSV, {len(files.charts)} PNG)")
    return 0


# --- the office's verbs: names in tables, --json on every list, clean one-line errors ----------------------
@asynccontextmanager
async def _office_tx(settings: Settings) -> AsyncIterator[Tx]:
    """A transaction whose invalid fields are one-line errors in the command's language."""
    from bot.cli_commands import _store

    async with _store(settings) as store, store.transaction() as tx:
        try:
            yield tx
        except FieldError as exc:
            raise CliError(say(f"invalid.{exc.key}", value=exc.value)) from None


def _hours(value: Decimal | float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text or "0"


async def _client(tx: Tx, client_id: int) -> Client:
    client = await tx.get_client(client_id)
    if client is None:
        raise CliError(say("missing.client", id=client_id))
    return client


async def _same_name(tx: Tx, name: str, but: int | None = None) -> None:
    for other in await tx.list_clients():
        if other.name.casefold() == name.casefold() and other.id != but:
            raise CliError(say("duplicate.client", name=other.name, id=other.id))


@_command("clients", "add")
async def _clients_add(args: argparse.Namespace, settings: Settings) -> int:
    async with _office_tx(settings) as tx:
        name, phone = check_name(args.name), check_phone(args.phone)
        await _same_name(tx, name)
        client = await tx.add_client(name, phone=phone, tax_id=args.tax_id, notes=args.notes, at=utcnow())
    print(say("client.added", id=client.id, name=client.name))
    return 0


@_command("clients", "edit")
async def _clients_edit(args: argparse.Namespace, settings: Settings) -> int:
    async with _office_tx(settings) as tx:
        await _client(tx, args.client_id)
        name = None if args.name is None else check_name(args.name)
        phone = None if args.phone is None else check_phone(args.phone)
        if name is not None:
            await _same_name(tx, name, but=args.client_id)
        client = await tx.update_client(args.client_id, name=name, phone=phone, tax_id=args.tax_id, notes=args.notes)
    print(say("client.edited", id=client.id, name=client.name, phone=client.phone or "-"))
    return 0


@_command("clients", "list")
async def _clients_list(args: argparse.Namespace, settings: Settings) -> int:
    today = utcnow().astimezone(settings.zone).date()
    async with _office_tx(settings) as tx:
        rows = []
        for client in await tx.list_clients():
            live = [
                c
                for c in await tx.contracts_for_client(client.id)
                if domain_contract(c).status(today).value == "active"
            ]
            rows.append(
                {"id": client.id, "name": client.name, "phone": client.phone, "tax_id": client.tax_id,
                 "contacts": len(await tx.list_contacts(client.id)),
                 "contract": live[-1].number if live else None, "created_at": client.created_at}
            )  # fmt: skip
    emit(rows, [("id", "id"), ("name", "name"), ("phone", "phone"), ("tax_id", "tax_id"), ("contacts", "contacts"),
                ("contract", "active_contract")], as_json=args.json)  # fmt: skip
    return 0


@_command("contacts", "add")
async def _contacts_add(args: argparse.Namespace, settings: Settings) -> int:
    async with _office_tx(settings) as tx:
        client = await _client(tx, args.client)
        name, phone = check_name(args.name), check_phone(args.phone)
        contact = await tx.add_contact(client.id, name, phone=phone, language=args.language, at=utcnow())
    print(say("contact.added", id=contact.id, name=contact.name, client=client.name))
    return 0


async def _contract_by_number(tx: Tx, number: str) -> Contract:
    record = await tx.get_contract_by_number(number.strip())
    if record is None:
        raise CliError(say("missing.contract", number=number))
    return record


@_command("contracts", "add")
async def _contracts_add(args: argparse.Namespace, settings: Settings) -> int:
    tier = Tier(args.tier)
    rules = tier_rules(settings)
    if rules[tier].needs_purchase_order and not args.purchase_order:
        raise CliError(say("contract.needs_order"))
    number = args.number.strip()
    terms = DomainContract.new(number, tier, args.starts, rules=rules, ends_on=args.ends)
    hours = Decimal(str(args.hours)) if args.hours is not None else terms.hours_total
    async with _office_tx(settings) as tx:
        await _client(tx, args.client)
        if await tx.get_contract_by_number(number) is not None:
            raise CliError(say("duplicate.contract", number=number))
        contract = await tx.add_contract(
            number=number, client_id=args.client, tier=tier, starts_on=terms.starts_on, ends_on=terms.ends_on,
            minutes_total=int(hours * 60), onsite_minutes_total=int(terms.onsite_hours_total * 60),
            office_minutes_total=int(terms.office_hours_total * 60), purchase_order=args.purchase_order,
            special_eol_support=args.special_eol,
        )  # fmt: skip
    print(say("contract.added", id=contract.id, number=contract.number, tier=contract.tier.value,
              starts=contract.starts_on, ends=contract.ends_on, hours=_hours(contract.hours_total)))  # fmt: skip
    return 0


def _contract_row(record: Contract, client: str, today: Any) -> dict[str, Any]:
    c = domain_contract(record)
    return {
        "id": record.id, "number": c.number, "client_id": record.client_id, "client": client, "tier": c.tier.value,
        "starts_on": c.starts_on, "ends_on": c.ends_on, "hours_total": float(c.hours_total),
        "hours_left": float(c.hours_left), "percent_left": float(c.percent_left), "status": c.status(today).value,
        "days_left": (c.ends_on - today).days,
    }  # fmt: skip


_CONTRACT_COLUMNS = [("id", "id"), ("number", "number"), ("client", "client"), ("tier", "tier"),
                     ("ends_on", "ends"), ("hours_left", "hours_left"), ("status", "status")]  # fmt: skip


@_command("contracts", "list")
async def _contracts_list(args: argparse.Namespace, settings: Settings) -> int:
    today = utcnow().astimezone(settings.zone).date()
    async with _office_tx(settings) as tx:
        names = {c.id: c.name for c in await tx.list_clients()}
        rows = [_contract_row(r, names.get(r.client_id, "?"), today) for r in await tx.list_contracts(args.client)]
    for row in rows:
        row["hours_left"] = _hours(row["hours_left"]) if not args.json else row["hours_left"]
    emit(rows, _CONTRACT_COLUMNS, as_json=args.json)
    return 0


@_command("contracts", "expiring")
async def _contracts_expiring(args: argparse.Namespace, settings: Settings) -> int:
    if args.within_days < 0:
        raise CliError(say("contract.within_days"))
    today = utcnow().astimezone(settings.zone).date()
    async with _office_tx(settings) as tx:
        names = {c.id: c.name for c in await tx.list_clients()}
        records = await tx.list_contracts()
    rows = [
        _contract_row(r, names.get(r.client_id, "?"), today)
        for r in records
        if running_out(
            domain_contract(r), today, within_days=args.within_days, low_percent=settings.low_hours_warning_percent
        )
    ]
    emit(rows, [("number", "number"), ("client", "client"), ("tier", "tier"), ("ends_on", "ends"),
                ("days_left", "days_left"), ("hours_left", "hours_left"), ("percent_left", "percent_left")],
         as_json=args.json)  # fmt: skip
    return 0


def _next_number(number: str, year: int) -> str:
    """POL-2026-001 renewed in 2027 -> POL-2027-001; a number without its year gets "-R" and the year."""
    parts = number.split("-")
    for i, part in enumerate(parts):
        if len(part) == 4 and part.isdigit():
            parts[i] = str(year)
            return "-".join(parts)
    return f"{number}-R{year}"


@_command("contracts", "renew")
async def _contracts_renew(args: argparse.Namespace, settings: Settings) -> int:
    """A new period from the old end (P-POL-2), hours reset to the tier's (or --hours), the products moved to
    it, and its certificate written (P-POL-8)."""
    rules = tier_rules(settings)
    async with _office_tx(settings) as tx:
        old = await _contract_by_number(tx, args.number)
        tier = Tier(args.tier) if args.tier else old.tier
        starts = old.ends_on + timedelta(days=1)
        number = (args.new_number or _next_number(old.number, starts.year)).strip()
        if await tx.get_contract_by_number(number) is not None:
            raise CliError(say("duplicate.contract", number=number))
        if rules[tier].needs_purchase_order and not args.purchase_order:
            raise CliError(say("contract.needs_order"))
        terms = DomainContract.new(number, tier, starts, rules=rules)
        hours = Decimal(str(args.hours)) if args.hours is not None else terms.hours_total
        new = await tx.add_contract(
            number=number, client_id=old.client_id, tier=tier, starts_on=terms.starts_on, ends_on=terms.ends_on,
            minutes_total=int(hours * 60), onsite_minutes_total=int(terms.onsite_hours_total * 60),
            office_minutes_total=int(terms.office_hours_total * 60), purchase_order=args.purchase_order,
            special_eol_support=old.special_eol_support,
        )  # fmt: skip
        moved = 0
        for product in await tx.list_products(old.client_id):
            if product.contract_id == old.id:
                await tx.set_product_contract(product.id, new.id)
                moved += 1
        await tx.append_audit(None, at=utcnow(), actor_kind="cli", actor_id="cli", action="contract_renewed",
                              data={"from": old.number, "to": new.number})  # fmt: skip
    print(say("contract.renewed", old=old.number, number=new.number, starts=new.starts_on, ends=new.ends_on,
              hours=_hours(new.hours_total), products=moved))  # fmt: skip
    path = await _write_certificate(settings, new.number, Path(args.out) if args.out else None)
    print(say("contract.certificate", path=path))
    return 0


async def _write_certificate(settings: Settings, number: str, out: Path | None) -> Path:
    from bot.certificate import certificate_facts, write_certificate

    async with _office_tx(settings) as tx:
        facts = await certificate_facts(tx, settings, number)
        if facts is None:
            raise CliError(say("missing.contract", number=number))
    target = out or Path("certificates") / f"{facts.number}.pdf"
    write_certificate(facts, target, lang=_lang())
    return target


def _lang() -> str:
    from bot.cli_text import cli_language

    return cli_language()


@_command("contracts", "certificate")
async def _contracts_certificate(args: argparse.Namespace, settings: Settings) -> int:
    path = await _write_certificate(settings, args.number, Path(args.out) if args.out else None)
    print(say("contract.certificate", path=path))
    return 0


@_command("products", "list")
async def _products_list(args: argparse.Namespace, settings: Settings) -> int:
    async with _office_tx(settings) as tx:
        client = await _client(tx, args.client)
        numbers = {c.id: c.number for c in await tx.contracts_for_client(client.id)}
        rows = [
            {"id": p.id, "name": p.name, "client": client.name, "area": p.service_area.value,
             "contract": numbers.get(p.contract_id) if p.contract_id else None,
             "warranty_until": p.warranty_until, "discontinued": p.discontinued}
            for p in await tx.list_products(client.id)
        ]  # fmt: skip
    shown = [{**r, "discontinued": say("yes" if r["discontinued"] else "no")} for r in rows] if not args.json else rows
    columns = [("id", "id"), ("name", "name"), ("area", "area"), ("contract", "contract"),
               ("warranty_until", "warranty_until"), ("discontinued", "discontinued")]  # fmt: skip
    emit(shown, columns, as_json=args.json)
    return 0


@_command("agents", "add")
async def _agents_add(args: argparse.Namespace, settings: Settings) -> int:
    slack_id = args.slack_id.strip()
    if not slack_id.isalnum() or slack_id[:1] not in {"U", "W"}:
        raise CliError(say("invalid.slack_id", value=slack_id))
    async with _office_tx(settings) as tx:
        name = check_name(args.name)
        existing = await tx.get_agent_by_slack(slack_id)
        if existing is not None:
            raise CliError(say("duplicate.agent", slack_id=slack_id, name=existing.name))
        agent = await tx.add_agent(name, slack_id, Role(args.role))
    print(
        say(
            "agent.added",
            id=agent.id,
            name=agent.name,
            slack_id=agent.slack_user_id,
            role=say(f"role.{agent.role.value}"),
        )
    )
    return 0


@_command("agents", "list")
async def _agents_list(args: argparse.Namespace, settings: Settings) -> int:
    async with _office_tx(settings) as tx:
        agents = await tx.list_agents(Role(args.role) if args.role else None)
    rows = [{"id": a.id, "name": a.name, "slack_id": a.slack_user_id, "role": a.role.value, "active": a.active}
            for a in agents]  # fmt: skip
    if not args.json:
        rows = [{**r, "role": say(f"role.{r['role']}"), "active": say("yes" if r["active"] else "no")} for r in rows]
    emit(rows, [("id", "id"), ("name", "name"), ("slack_id", "slack_id"), ("role", "role"), ("active", "active")],
         as_json=args.json)  # fmt: skip
    return 0


async def _agent(tx: Tx, agent_id: int) -> Any:
    agent = await tx.get_agent(agent_id)
    if agent is None:
        raise CliError(say("missing.agent", id=agent_id))
    return agent


@_command("agents", "deactivate")
async def _agents_deactivate(args: argparse.Namespace, settings: Settings) -> int:
    """The person left: no button of theirs works again (every press is checked on the server), their open
    tickets are listed for a manager to reassign."""
    async with _office_tx(settings) as tx:
        agent = await _agent(tx, args.agent_id)
        agent = await tx.set_agent_active(agent.id, False)
        open_tickets = await tx.list_tickets(
            status=(TicketStatus.ASSIGNED, TicketStatus.WAITING_CLIENT), assignee=agent.id
        )
        await tx.append_audit(None, at=utcnow(), actor_kind="cli", actor_id="cli", action="agent_deactivated",
                              data={"agent_id": agent.id, "slack_id": agent.slack_user_id})  # fmt: skip
    print(say("agent.deactivated", name=agent.name, slack_id=agent.slack_user_id))
    if open_tickets:
        print(say("agent.still_assigned", count=len(open_tickets), tickets=", ".join(t.number for t in open_tickets)))
    return 0


@_command("agents", "role")
async def _agents_role(args: argparse.Namespace, settings: Settings) -> int:
    async with _office_tx(settings) as tx:
        agent = await _agent(tx, args.agent_id)
        before = agent.role
        agent = await tx.set_agent_role(agent.id, Role(args.role))
        await tx.append_audit(None, at=utcnow(), actor_kind="cli", actor_id="cli", action="agent_role_changed",
                              data={"agent_id": agent.id, "from": before.value, "to": agent.role.value})  # fmt: skip
    print(say("agent.role", name=agent.name, role=say(f"role.{agent.role.value}")))
    return 0


@_command("invites", "create")
async def _invites_create(args: argparse.Namespace, settings: Settings) -> int:
    import secrets

    from bot.cli_commands import _CODE_ALPHABET

    now = utcnow()
    ttl = args.ttl_hours if args.ttl_hours is not None else settings.invite_code_ttl_hours
    code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
    async with _office_tx(settings) as tx:
        client = await _client(tx, args.client)
        invite = await tx.create_invite(
            code, client.id, check_name(args.name), expires_at=now + timedelta(hours=ttl), at=now
        )
    print(say("invite.created", code=invite.code, name=invite.contact_name, client=client.name,
              until=stamp(invite.expires_at, settings.zone)))  # fmt: skip
    print(say("invite.how", code=invite.code))
    return 0


def _invite_state(invite: Any, now: Any) -> str:
    return "used" if invite.used_at else ("expired" if invite.expires_at <= now else "open")


@_command("invites", "list")
async def _invites_list(args: argparse.Namespace, settings: Settings) -> int:
    now = utcnow()
    async with _office_tx(settings) as tx:
        names = {c.id: c.name for c in await tx.list_clients()}
        invites = await tx.list_invites(args.client)
    rows: list[dict[str, Any]] = [
        {"code": i.code, "client_id": i.client_id, "client": names.get(i.client_id, "?"), "name": i.contact_name,
         "expires_at": i.expires_at, "state": _invite_state(i, now), "used_at": i.used_at}
        for i in invites
    ]  # fmt: skip
    if not args.json:
        rows = [{**r, "expires_at": stamp(r["expires_at"], settings.zone), "state": say(f"invite.state.{r['state']}")}
                for r in rows]  # fmt: skip
    emit(rows, [("code", "code"), ("client", "client"), ("name", "for"), ("expires_at", "expires"),
                ("state", "state")], as_json=args.json)  # fmt: skip
    return 0


@_command("invites", "revoke")
async def _invites_revoke(args: argparse.Namespace, settings: Settings) -> int:
    now = utcnow()
    code = args.code.strip().upper()
    async with _office_tx(settings) as tx:
        found = [i for i in await tx.list_invites() if i.code == code]
        if not found:
            raise CliError(say("missing.invite", code=code))
        if found[0].used_at is not None:
            raise CliError(say("invite.already_used", code=code))
        invite = await tx.expire_invite(code, now)
        await tx.append_audit(None, at=now, actor_kind="cli", actor_id="cli", action="invite_revoked",
                              data={"code": code, "client_id": invite.client_id})  # fmt: skip
    print(say("invite.revoked", code=code, name=invite.contact_name))
    return 0


@_command("tickets", "list")
async def _tickets_list(args: argparse.Namespace, settings: Settings) -> int:
    zone = settings.zone
    async with _office_tx(settings) as tx:
        tickets = await tx.list_tickets(TicketStatus(args.status) if args.status else None, args.client)
        clients = {c.id: c.name for c in await tx.list_clients()}
        agents = {a.id: a.name for a in await tx.list_agents()}
    rows: list[dict[str, Any]] = [
        {"number": t.number, "status": t.status.value, "severity": int(t.severity), "client_id": t.client_id,
         "client": clients.get(t.client_id, "?"), "assignee_id": t.assignee_id,
         "assignee": agents.get(t.assignee_id) if t.assignee_id else None, "opened_at": t.opened_at,
         "response_due_at": t.response_due_at, "first_response_at": t.first_response_at,
         "response_met": t.response_met, "warranty": t.warranty, "escalation_level": t.escalation_level}
        for t in tickets
    ]  # fmt: skip
    if not args.json:
        rows = [{**r, "status": say(f"status.{r['status']}"), "severity": say("sev", severity=r["severity"]),
                 "opened_at": stamp(r["opened_at"], zone), "response_due_at": stamp(r["response_due_at"], zone)}
                for r in rows]  # fmt: skip
    columns = [("number", "number"), ("status", "status"), ("severity", "severity"), ("client", "client"),
               ("opened_at", "opened"), ("response_due_at", "due"), ("assignee", "assignee")]  # fmt: skip
    emit(rows, columns, as_json=args.json)
    return 0
