"""The demo company the sandbox and the end-to-end tests start with (seeded once, found again after)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.domain.contracts import Contract as DomainContract
from bot.domain.contracts import TierRules
from bot.domain.types import HoursKind, Role, ServiceArea, Tier
from storage import Tx

DEMO_CLIENT = "Comercializadora del Valle"
# Telegram users of the demo (the sandbox page plays them; tests use them as clients).
LAURA_ID = 5550001  # linked contact of the demo client, Spanish
KEVIN_ID = 5550002  # linked contact of the demo client, English Telegram
NORTE_ID = 5550003  # contact of a client whose contract expired (P-POL-3)
CLINICA_ID = 5550004  # contact of a per-event client (P-POL-1: purchase order)
STRANGER_ID = 5550009  # nobody: gets the company's contact details (P-CONTACT-1)
SPARE_INVITE = "DEMO2026"

AGENT_MARCO = "U0MARCO"
AGENT_ANA = "U0ANA"
QUALITY_SOFIA = "U0SOFIA"
OPERATIONS_RICARDO = "U0RICARDO"
STRANGER_SLACK = "U0VISITA"  # a workspace member with no role

SLACK_PEOPLE: tuple[tuple[str, str, Role | None], ...] = (
    (AGENT_MARCO, "Marco", Role.AGENT),
    (AGENT_ANA, "Ana", Role.AGENT),
    (QUALITY_SOFIA, "Sofía", Role.QUALITY_MANAGER),
    (OPERATIONS_RICARDO, "Ricardo", Role.OPERATIONS_MANAGER),
    (STRANGER_SLACK, "Visitante", None),
)
TELEGRAM_PEOPLE: tuple[tuple[int, str, str], ...] = (
    (LAURA_ID, "Laura", "es"),
    (KEVIN_ID, "Kevin", "en"),
    (NORTE_ID, "Jorge", "es"),
    (CLINICA_ID, "Paty", "es"),
    (STRANGER_ID, "Desconocido", "es"),
)


@dataclass(frozen=True)
class Demo:
    """Ids of what was seeded, for tests and the page."""

    client_id: int
    contract_id: int
    contract_number: str
    products: dict[str, int]
    expired_client_id: int
    per_event_client_id: int
    invite_code: str


class RealData(Exception):
    """The database holds real data: the demo must not be written into it. `names`: a few of its clients."""

    def __init__(self, names: str) -> None:
        super().__init__(f"the database already holds real clients ({names}); the demo is never seeded into it")
        self.names = names


async def seed_demo(tx: Tx, *, today: date, now: datetime, rules: TierRules, invite_ttl: timedelta) -> Demo:
    """Create the demo company unless it exists; return its ids either way."""
    clients = await tx.list_clients()
    existing = [c for c in clients if c.name == DEMO_CLIENT]
    if existing:
        return await _found(tx, existing[0].id)
    if clients:
        # A database with real clients never receives the demo company, its invite code or its managers.
        names = ", ".join(c.name for c in clients[:3]) + (", …" if len(clients) > 3 else "")
        raise RealData(names)
    client = await tx.add_client(DEMO_CLIENT, phone="222 248 0000", tax_id="CVA990101AB1", at=now)
    terms = DomainContract.new("POL-2026-0042", Tier.BUSINESS, today - timedelta(days=255), rules=rules)
    contract = await tx.add_contract(
        number=terms.number,
        client_id=client.id,
        tier=terms.tier,
        starts_on=terms.starts_on,
        ends_on=terms.ends_on,
        minutes_total=int(terms.hours_total * 60),
        onsite_minutes_total=int(terms.onsite_hours_total * 60),
        office_minutes_total=int(terms.office_hours_total * 60),
    )
    # 7.5 of 20 hours already used this year (CONVERSATION.md: "12.5 de 20 horas disponibles").
    await tx.record_hours(contract.id, None, 450, HoursKind.REMOTE, True, now)
    products = {
        "fortigate60": await tx.add_product(
            client.id, "FortiGate 60F — oficina Puebla", ServiceArea.FIREWALL, contract_id=contract.id
        ),
        "fortigate40": await tx.add_product(
            client.id, "FortiGate 40F — bodega", ServiceArea.FIREWALL, contract_id=contract.id
        ),
        "switch": await tx.add_product(client.id, "Switch Aruba 2930F", ServiceArea.SWITCHING, contract_id=contract.id),
        "facturacion": await tx.add_product(
            client.id,
            "Sistema de facturación",
            ServiceArea.SOFTWARE,
            contract_id=contract.id,
            warranty_until=today + timedelta(days=120),  # P-POL-4: free while in warranty
        ),
        "conmutador": await tx.add_product(
            client.id,
            "Conmutador Panasonic KX-TDA100",
            ServiceArea.MAINTENANCE,
            contract_id=contract.id,
            discontinued=True,  # P-POL-7
        ),
    }
    await tx.add_contact(client.id, "Laura Pérez", phone="+52 222 123 4567", telegram_user_id=LAURA_ID, at=now)
    await tx.add_contact(
        client.id, "Kevin Smith", phone="+52 222 765 4321", language="en", telegram_user_id=KEVIN_ID, at=now
    )
    await tx.add_contact(client.id, "Marta Ruiz", phone="+52 222 555 0101", at=now)  # links by sharing her phone
    await tx.create_invite(SPARE_INVITE, client.id, "Invitado de demostración", expires_at=now + invite_ttl, at=now)

    norte = await tx.add_client("Ferretería del Norte", phone="81 8000 0000", at=now)
    old = DomainContract.new("POL-2024-0007", Tier.BASIC, today - timedelta(days=800), rules=rules)
    await tx.add_contract(
        number=old.number,
        client_id=norte.id,
        tier=old.tier,
        starts_on=old.starts_on,
        ends_on=old.ends_on,
        minutes_total=int(old.hours_total * 60),
    )
    await tx.add_contact(norte.id, "Jorge Treviño", telegram_user_id=NORTE_ID, at=now)

    clinica = await tx.add_client("Clínica Santa Fe", at=now)
    event = DomainContract.new("EV-2026-0101", Tier.PER_EVENT, today - timedelta(days=10), rules=rules)
    await tx.add_contract(
        number=event.number,
        client_id=clinica.id,
        tier=event.tier,
        starts_on=event.starts_on,
        ends_on=event.ends_on,
        minutes_total=int(event.hours_total * 60),
    )
    await tx.add_product(clinica.id, "Red inalámbrica consultorios", ServiceArea.WIRELESS)
    await tx.add_contact(clinica.id, "Patricia Gómez", telegram_user_id=CLINICA_ID, at=now)

    for slack_id, name, role in SLACK_PEOPLE:
        if role is not None:
            await tx.add_agent(name, slack_id, role)
    return Demo(
        client_id=client.id,
        contract_id=contract.id,
        contract_number=contract.number,
        products={key: p.id for key, p in products.items()},
        expired_client_id=norte.id,
        per_event_client_id=clinica.id,
        invite_code=SPARE_INVITE,
    )


async def _found(tx: Tx, client_id: int) -> Demo:
    contracts = await tx.contracts_for_client(client_id)
    by_name = {p.name: p.id for p in await tx.list_products(client_id)}
    keys = {
        "FortiGate 60F — oficina Puebla": "fortigate60",
        "FortiGate 40F — bodega": "fortigate40",
        "Switch Aruba 2930F": "switch",
        "Sistema de facturación": "facturacion",
        "Conmutador Panasonic KX-TDA100": "conmutador",
    }
    clients = {c.name: c.id for c in await tx.list_clients()}
    return Demo(
        client_id=client_id,
        contract_id=contracts[-1].id,
        contract_number=contracts[-1].number,
        products={keys[name]: pid for name, pid in by_name.items() if name in keys},
        expired_client_id=clients.get("Ferretería del Norte", 0),
        per_event_client_id=clients.get("Clínica Santa Fe", 0),
        invite_code=SPARE_INVITE,
    )
