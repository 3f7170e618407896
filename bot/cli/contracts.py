"""`supportbot contracts|products`: support contracts (pólizas, P-POL-1..8) with their two pools of hours
(R-POOLS), renewals and certificates, and the products and services they cover (warranty P-POL-4, end of life
P-POL-7)."""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bot.cli.base import CliError, command, hours, require_client, transaction
from bot.cli.parser import Noun, choices, day, positive_hours, whole
from bot.cli.text import cli_language, emit, say, yes_no
from bot.clock import utcnow
from bot.domain.contracts import Contract as DomainContract
from bot.domain.types import ServiceArea, Tier
from bot.services.convert import domain_contract
from bot.services.desk_home import running_out
from bot.settings import Settings
from bot.wiring import tier_rules
from storage import Tx
from storage.records import Contract, Product

__all__ = ["add_parsers"]


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    contracts = Noun(sub, "contracts")
    (contracts.verb("add").arg("--client", type=whole, required=True).arg("--number", required=True)
     .arg("--tier", required=True, choices=choices(Tier)).arg("--starts", type=day, required=True)
     .arg("--ends", type=day, default=None).arg("--hours", type=positive_hours, default=None)
     .arg("--purchase-order", default=None).arg("--special-eol", action="store_true"))  # fmt: skip
    contracts.verb("show").arg("number")
    contracts.verb("list").arg("--client", type=whole, default=None).arg("--json", action="store_true")
    contracts.verb("expiring").arg("--within-days", type=whole, default=30).arg("--json", action="store_true")
    (contracts.verb("renew").arg("number").arg("--new-number", default=None)
     .arg("--tier", choices=choices(Tier), default=None).arg("--hours", type=positive_hours, default=None)
     .arg("--purchase-order", default=None).arg("--out", default=None))  # fmt: skip
    contracts.verb("certificate").arg("number").arg("--out", default=None)

    products = Noun(sub, "products")
    (products.verb("add").arg("--client", type=whole, required=True).arg("--name", required=True)
     .arg("--area", required=True, choices=choices(ServiceArea)).arg("--contract", type=whole, default=None)
     .arg("--warranty-until", type=day, default=None).arg("--discontinued", action="store_true"))  # fmt: skip
    products.verb("discontinue").arg("product_id", type=whole, metavar="ID").arg("--undo", action="store_true")
    warranty = products.verb("warranty").arg("product_id", type=whole, metavar="ID").one_of(required=True)
    warranty.arg("--until", type=day).arg("--none", action="store_true")
    products.verb("list").arg("--client", type=whole, required=True).arg("--json", action="store_true")


async def _by_number(tx: Tx, number: str) -> Contract:
    record = await tx.get_contract_by_number(number.strip())
    if record is None:
        raise CliError(say("missing.contract", number=number))
    return record


def _today(settings: Settings) -> date:
    return utcnow().astimezone(settings.zone).date()


@command("contracts", "add")
async def _contracts_add(args: argparse.Namespace, settings: Settings) -> int:
    tier = Tier(args.tier)
    rules = tier_rules(settings)
    if rules[tier].needs_purchase_order and not args.purchase_order:
        raise CliError(say("contract.needs_order"))
    number = args.number.strip()
    if not number:
        raise CliError(say("contract.no_number"))
    if args.ends is not None and args.ends < args.starts:
        raise CliError(say("contract.ends_before", starts=args.starts, ends=args.ends))
    terms = DomainContract.new(number, tier, args.starts, rules=rules, ends_on=args.ends)
    total = Decimal(str(args.hours)) if args.hours is not None else terms.hours_total
    async with transaction(settings) as tx:
        await require_client(tx, args.client)
        if await tx.get_contract_by_number(number) is not None:
            raise CliError(say("duplicate.contract", number=number))
        contract = await tx.add_contract(
            number=number, client_id=args.client, tier=tier, starts_on=terms.starts_on, ends_on=terms.ends_on,
            minutes_total=int(total * 60), onsite_minutes_total=int(terms.onsite_hours_total * 60),
            office_minutes_total=int(terms.office_hours_total * 60), purchase_order=args.purchase_order,
            special_eol_support=args.special_eol,
        )  # fmt: skip
    print(say("contract.added", id=contract.id, number=contract.number, tier=contract.tier.value,
              starts=contract.starts_on, ends=contract.ends_on, hours=hours(contract.hours_total)))  # fmt: skip
    return 0


@command("contracts", "show")
async def _contracts_show(args: argparse.Namespace, settings: Settings) -> int:
    async with transaction(settings) as tx:
        record = await _by_number(tx, args.number)
        client = await tx.get_client(record.client_id)
        products = [p for p in await tx.list_products(record.client_id) if p.contract_id in (None, record.id)]
    c = domain_contract(record)
    lines = [
        ("contract", f"{c.number} ({c.tier.value})"),
        ("client", client.name if client else str(record.client_id)),
        ("valid", f"{c.starts_on} .. {c.ends_on}  [{say(f'contract.state.{c.status(_today(settings)).value}')}]"),
        ("hours", say("contract.pool", used=hours(c.hours_used), left=hours(c.hours_left),
                      total=hours(c.hours_total)) + " " + say("contract.percent_left", percent=hours(c.percent_left))),
    ]  # fmt: skip
    if c.office_hours_total:  # R-POOLS: two pools when the tier has both (P-POL-6)
        pool = say("contract.pool", used=hours(c.office_hours_used), left=hours(c.office_hours_left),
                   total=hours(c.office_hours_total))  # fmt: skip
        lines.append(("office", f"{pool} (P-POL-6)"))
    if c.onsite_hours_total:
        pool = say("contract.pool", used=hours(c.onsite_hours_used), left=hours(c.onsite_hours_left),
                   total=hours(c.onsite_hours_total))  # fmt: skip
        lines.append(("onsite", f"{pool} (P-POL-6)"))
    if c.purchase_order:
        lines.append(("order", c.purchase_order))
    for product in products:
        flags = []
        if product.warranty_until:
            flags.append(say("product.warranty_until", day=product.warranty_until))
        if product.discontinued:
            flags.append(say("product.discontinued"))
        lines.append(("product", f"{product.name} [{product.service_area.value}] {', '.join(flags)}".rstrip()))
    labels = {key: say(f"contract.show.{key}") for key, _ in lines}
    width = max(len(label) for label in labels.values()) + 1
    for key, value in lines:
        print(f"{labels[key]:<{width}}{value}")
    return 0


def _contract_row(record: Contract, client: str, today: date) -> dict[str, Any]:
    c = domain_contract(record)
    return {
        "id": record.id, "number": c.number, "client_id": record.client_id, "client": client, "tier": c.tier.value,
        "starts_on": c.starts_on, "ends_on": c.ends_on, "hours_total": float(c.hours_total),
        "hours_left": float(c.hours_left), "percent_left": float(c.percent_left), "status": c.status(today).value,
        "days_left": (c.ends_on - today).days,
    }  # fmt: skip


def _readable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**r, "hours_left": hours(r["hours_left"]), "percent_left": hours(r["percent_left"]),
             "status": say(f"contract.state.{r['status']}")} for r in rows]  # fmt: skip


@command("contracts", "list")
async def _contracts_list(args: argparse.Namespace, settings: Settings) -> int:
    today = _today(settings)
    async with transaction(settings) as tx:
        if args.client is not None:
            await require_client(tx, args.client)
        names = {c.id: c.name for c in await tx.list_clients()}
        rows = [_contract_row(r, names.get(r.client_id, "?"), today) for r in await tx.list_contracts(args.client)]
    emit(rows if args.json else _readable(rows), [("id", "id"), ("number", "number"), ("client", "client"),
         ("tier", "tier"), ("ends_on", "ends"), ("hours_left", "hours_left"), ("status", "status")],
         as_json=args.json)  # fmt: skip
    return 0


@command("contracts", "expiring")
async def _contracts_expiring(args: argparse.Namespace, settings: Settings) -> int:
    if args.within_days < 0:
        raise CliError(say("contract.within_days"))
    today = _today(settings)
    async with transaction(settings) as tx:
        names = {c.id: c.name for c in await tx.list_clients()}
        records = await tx.list_contracts()
    rows = [
        _contract_row(r, names.get(r.client_id, "?"), today)
        for r in records
        if running_out(
            domain_contract(r), today, within_days=args.within_days, low_percent=settings.low_hours_warning_percent
        )
    ]
    emit(rows if args.json else _readable(rows), [("number", "number"), ("client", "client"), ("tier", "tier"),
         ("ends_on", "ends"), ("days_left", "days_left"), ("hours_left", "hours_left"),
         ("percent_left", "percent_left")], as_json=args.json)  # fmt: skip
    return 0


def _next_number(number: str, year: int) -> str:
    """POL-2026-001 renewed in 2027 -> POL-2027-001; a number without its year gets "-R" and the year."""
    parts = number.split("-")
    for i, part in enumerate(parts):
        if len(part) == 4 and part.isdigit():
            parts[i] = str(year)
            return "-".join(parts)
    return f"{number}-R{year}"


@command("contracts", "renew")
async def _contracts_renew(args: argparse.Namespace, settings: Settings) -> int:
    """A new period from the old end (P-POL-2), hours reset to the tier's (or --hours), the products moved to
    it, and its certificate written (P-POL-8)."""
    rules = tier_rules(settings)
    async with transaction(settings) as tx:
        old = await _by_number(tx, args.number)
        tier = Tier(args.tier) if args.tier else old.tier
        starts = old.ends_on + timedelta(days=1)
        number = (args.new_number or _next_number(old.number, starts.year)).strip()
        if not number:
            raise CliError(say("contract.no_number"))
        if await tx.get_contract_by_number(number) is not None:
            raise CliError(say("duplicate.contract", number=number))
        if rules[tier].needs_purchase_order and not args.purchase_order:
            raise CliError(say("contract.needs_order"))
        terms = DomainContract.new(number, tier, starts, rules=rules)
        total = Decimal(str(args.hours)) if args.hours is not None else terms.hours_total
        new = await tx.add_contract(
            number=number, client_id=old.client_id, tier=tier, starts_on=terms.starts_on, ends_on=terms.ends_on,
            minutes_total=int(total * 60), onsite_minutes_total=int(terms.onsite_hours_total * 60),
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
              hours=hours(new.hours_total), products=moved))  # fmt: skip
    path = await _write_certificate(settings, new.number, Path(args.out) if args.out else None)
    print(say("contract.certificate", path=path))
    return 0


async def _write_certificate(settings: Settings, number: str, out: Path | None) -> Path:
    from bot.certificate import certificate_facts, write_certificate

    async with transaction(settings) as tx:
        facts = await certificate_facts(tx, settings, number)
        if facts is None:
            raise CliError(say("missing.contract", number=number))
    target = out or Path("certificates") / f"{facts.number}.pdf"
    write_certificate(facts, target, lang=cli_language())
    return target


@command("contracts", "certificate")
async def _contracts_certificate(args: argparse.Namespace, settings: Settings) -> int:
    path = await _write_certificate(settings, args.number, Path(args.out) if args.out else None)
    print(say("contract.certificate", path=path))
    return 0


# --- products ---------------------------------------------------------------------------------------------
async def _product(tx: Tx, product_id: int) -> Product:
    product = await tx.get_product(product_id)
    if product is None:
        raise CliError(say("missing.product", id=product_id))
    return product


@command("products", "add")
async def _products_add(args: argparse.Namespace, settings: Settings) -> int:
    async with transaction(settings) as tx:
        await require_client(tx, args.client)
        if args.contract is not None:
            contract = await tx.get_contract(args.contract)
            if contract is None or contract.client_id != args.client:
                raise CliError(say("product.no_contract", client=args.client, contract=args.contract))
        product = await tx.add_product(
            args.client, args.name, ServiceArea(args.area), contract_id=args.contract,
            warranty_until=args.warranty_until, discontinued=args.discontinued,
        )  # fmt: skip
    print(say("product.added", id=product.id, name=product.name, area=product.service_area.value))
    return 0


@command("products", "discontinue")
async def _products_discontinue(args: argparse.Namespace, settings: Settings) -> int:
    async with transaction(settings) as tx:
        await _product(tx, args.product_id)
        product = await tx.set_product_discontinued(args.product_id, not args.undo)
    state = say("product.discontinued" if product.discontinued else "product.supported")
    print(say("product.state", id=product.id, name=product.name, state=state))
    return 0


@command("products", "warranty")
async def _products_warranty(args: argparse.Namespace, settings: Settings) -> int:
    async with transaction(settings) as tx:
        await _product(tx, args.product_id)
        product = await tx.set_product_warranty(args.product_id, None if args.none else args.until)
    until = product.warranty_until or say("product.no_warranty")
    print(say("product.warranty", id=product.id, name=product.name, until=until))
    return 0


@command("products", "list")
async def _products_list(args: argparse.Namespace, settings: Settings) -> int:
    async with transaction(settings) as tx:
        client = await require_client(tx, args.client)
        numbers = {c.id: c.number for c in await tx.contracts_for_client(client.id)}
        rows = [
            {"id": p.id, "name": p.name, "client": client.name, "area": p.service_area.value,
             "contract": numbers.get(p.contract_id) if p.contract_id else None,
             "warranty_until": p.warranty_until, "discontinued": p.discontinued}
            for p in await tx.list_products(client.id)
        ]  # fmt: skip
    shown = [{**r, "discontinued": yes_no(bool(r["discontinued"]))} for r in rows] if not args.json else rows
    columns = [("id", "id"), ("name", "name"), ("area", "area"), ("contract", "contract"),
               ("warranty_until", "warranty_until"), ("discontinued", "discontinued")]  # fmt: skip
    emit(shown, columns, as_json=args.json)
    return 0
