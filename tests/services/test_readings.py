"""POLICY.md "Readings" through the client's use cases on a real store: each test fails under the old behaviour.

R-WARRANTY (the free route without a contract), R-EVENT (a per-event contract covers one ticket, its purchase order
never twice), R-POOLS (two advice pools on /poliza), R-CONTACT (refusals give phones and e-mail; "vencida" with its
end date), and the way back from a scope refusal. R-SEVERITY and R-RESPONSE have theirs in tests/domain,
tests/conversation, tests/services/test_desk.py and test_sla.py.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from bot.conversation import Text
from bot.domain.types import HoursKind, ServiceArea, Tier
from bot.services import desk, desk_resolve
from bot.services.events import ButtonTapped
from sandbox.demo import AGENT_MARCO, CLINICA_ID, LAURA_ID, NORTE_ID
from sandbox.testing import DEFAULT_NOW
from storage.records import OutboxMessage, Ticket
from tests.services.test_intake import DESCRIPTION, answer, begin, tap
from tests.services.test_intake_helpers import Env, command, env

__all__ = ["env"]


@pytest.fixture
def e(env: Env) -> Env:
    """The intake harness under a short name (tests/services/test_intake_helpers.py)."""
    return env


PHONES, EMAIL = "222 248 3734, 222 248 2573", "soporte@intecnia.com.mx"
NEW_CLIENT_ID = 5550101  # a company with no contract at all, whose router is in warranty
TODAY = DEFAULT_NOW.date()


async def no_contract_client(e: Env, *, warranty_days: int = 90) -> int:
    """A company with no contract, one contact on Telegram and one registered product; returns its id."""
    async with e.services.store.transaction() as tx:
        client = await tx.add_client("Dental Angelópolis", at=e.clock())
        await tx.add_contact(client.id, "Rosa Díaz", telegram_user_id=NEW_CLIENT_ID, at=e.clock())
        product = await tx.add_product(
            client.id, "Router MikroTik", ServiceArea.ROUTING, warranty_until=TODAY + timedelta(days=warranty_days)
        )
    return product.id


async def tickets(e: Env) -> list[Ticket]:
    async with e.services.store.transaction() as tx:
        return await tx.list_tickets()


def sent(rows: list[OutboxMessage]) -> list[str]:
    return [str(r.payload["text"]) for r in rows if r.kind == "send"]


def buttons(rows: list[OutboxMessage]) -> list[str]:
    return [b["data"] for r in rows if r.kind == "send" for row in r.payload.get("keyboard") or [] for b in row]


async def report_failure(e: Env, user: int, product_id: int, *, area: str = "a.routing") -> None:
    await begin(e, user)
    await tap(e, area, user)
    await tap(e, f"p.{product_id}", user)
    await tap(e, "t.down", user)
    await tap(e, "t.whole_company", user)


async def finish(e: Env, user: int) -> None:
    await answer(e, Text(DESCRIPTION, 10), user)
    await tap(e, "dk", user)
    await tap(e, "ok", user)
    await tap(e, "ok", user)  # no files: asked once more for severity 1
    await tap(e, "acc.onsite", user)
    await answer(e, Text("Av. Juárez 100, Centro, Puebla", 11), user)
    await answer(e, Text("Rosa Díaz 222 111 2233", 12), user)
    await tap(e, "none", user)
    await tap(e, "ok", user)


# --- R-WARRANTY ---------------------------------------------------------------------------------------------
async def test_r_warranty_a_client_without_a_contract_gets_a_free_ticket_for_a_product_in_warranty(e: Env) -> None:
    """R-WARRANTY, P-POL-4: the free route is open without a contract (the old intake refused at the start)."""
    router = await no_contract_client(e)
    await report_failure(e, NEW_CLIENT_ID, router)
    await tap(e, "c.product", NEW_CLIENT_ID)  # nobody changed anything: the product's own failure
    told = " ".join(sent(await e.outbox()))
    assert "garantía" in told and "sin costo" in told
    await finish(e, NEW_CLIENT_ID)
    [ticket] = await tickets(e)
    assert ticket.warranty is True and ticket.contract_id is None and ticket.product_id == router
    async with e.services.store.transaction() as tx:
        opened = next(a for a in await tx.list_audit(ticket.id) if a.action == "opened")
    assert opened.data["charged"] is False and opened.data["entitlement_rule"] == "P-POL-4"
    rows = await e.outbox()
    assert any(r.kind == "card" for r in rows)


async def test_r_warranty_without_a_contract_a_change_or_a_question_goes_to_sales(e: Env) -> None:
    """R-WARRANTY: misuse, third-party causes and usage questions are not free; with no contract, sales."""
    router = await no_contract_client(e)
    await report_failure(e, NEW_CLIENT_ID, router)
    await tap(e, "c.change", NEW_CLIENT_ID)
    rows = await e.outbox()
    [refused] = [t for t in sent(rows) if "no entran sin costo" in t]
    assert PHONES in refused and EMAIL in refused
    assert any(r.kind == "channel" and "Dental Angelópolis" in str(r.payload["text"]) for r in rows)
    await begin(e, NEW_CLIENT_ID)
    await tap(e, "a.routing", NEW_CLIENT_ID)
    await tap(e, f"p.{router}", NEW_CLIENT_ID)
    await tap(e, "t.question", NEW_CLIENT_ID)
    await tap(e, "t.usage_question", NEW_CLIENT_ID)
    assert any("no entran sin costo" in t for t in sent(await e.outbox()))
    assert await tickets(e) == []


async def test_r_warranty_no_product_in_warranty_no_route(e: Env) -> None:
    await no_contract_client(e, warranty_days=-1)
    await begin(e, NEW_CLIENT_ID)
    [told] = sent(await e.outbox())
    assert "No encuentro una póliza vigente" in told and PHONES in told and EMAIL in told


async def test_r_warranty_an_expired_contract_still_has_the_free_route(e: Env) -> None:
    """R-WARRANTY: Jorge's contract expired; his switch in warranty is still supported for free."""
    async with e.services.store.transaction() as tx:
        switch = await tx.add_product(
            e.demo.expired_client_id, "Switch Cisco", ServiceArea.SWITCHING, warranty_until=TODAY
        )
    await report_failure(e, NORTE_ID, switch.id, area="a.switching")
    await tap(e, "c.unsure", NORTE_ID)  # provisionally the product's: the consultant confirms it
    await finish(e, NORTE_ID)
    [ticket] = await tickets(e)
    assert ticket.warranty is True and ticket.contract_id is None


async def test_r_warranty_with_a_contract_a_change_is_charged(e: Env) -> None:
    """R-WARRANTY: a product in warranty that failed after a change takes the contract route."""
    await begin(e)
    await tap(e, "a.software")
    await tap(e, f"p.{e.demo.products['facturacion']}")
    await tap(e, "t.down")
    await tap(e, "t.whole_company")
    await tap(e, "c.change")
    assert any("lo atendemos con tu póliza" in t for t in sent(await e.outbox()))
    async with e.services.store.transaction() as tx:
        draft = await tx.get_draft(LAURA_ID)
    assert draft is not None and draft.data["intake"]["charged"] is True and draft.step == "description"


# --- R-EVENT ------------------------------------------------------------------------------------------------
async def per_event_ticket(e: Env, order: str = "OC-4471") -> Ticket:
    await begin(e, CLINICA_ID)
    await answer(e, Text(order, 3), CLINICA_ID)
    await tap(e, "a.wireless", CLINICA_ID)
    await tap(e, f"p.{await clinic_product(e)}", CLINICA_ID)
    await tap(e, "t.down", CLINICA_ID)
    await tap(e, "t.whole_company", CLINICA_ID)
    await finish(e, CLINICA_ID)
    [ticket] = [t for t in await tickets(e) if t.client_id == e.demo.per_event_client_id and t.purchase_order]
    return ticket


async def clinic_product(e: Env) -> int:
    async with e.services.store.transaction() as tx:
        [product] = await tx.list_products(e.demo.per_event_client_id)
    return product.id


async def test_r_event_a_per_event_contract_covers_one_ticket(e: Env) -> None:
    """R-EVENT: the ticket takes the order; a second report is refused while it is open (the old contract
    stayed active for a year, report after report)."""
    ticket = await per_event_ticket(e)
    assert ticket.purchase_order == "OC-4471" and ticket.warranty is False
    await e.outbox()
    await begin(e, CLINICA_ID)
    [told] = sent(await e.outbox())
    assert ticket.number in told and "OC-4471" in told and "sigue abierto" in told and PHONES in told


async def test_r_event_used_up_when_resolved_and_its_order_never_again(e: Env) -> None:
    """R-EVENT: resolved, the contract is used up (/poliza says so); a new per-event contract does not take
    the same purchase order again: the client is told clearly which ticket used it."""
    ticket = await per_event_ticket(e)
    s = e.services
    async with s.store.transaction() as tx:
        await desk.claim(tx, s, ticket_id=ticket.id, slack_user_id=AGENT_MARCO, at=e.clock())
    async with s.store.transaction() as tx:
        result = await desk_resolve.resolve(
            tx, s, ticket_id=ticket.id, slack_user_id=AGENT_MARCO, solution="Se reconfiguró el AP",
            hours={HoursKind.REMOTE: Decimal(2)}, charged=True, at=e.clock(),
        )  # fmt: skip
    assert result.billed_extra_hours == Decimal(1) and result.overage_hours == 0  # beyond its one hour: billed
    await e.outbox()
    await e.say(command("poliza"), CLINICA_ID)
    [certificate] = sent(await e.outbox())
    assert "usada" in certificate and ticket.number in certificate and "disponibles" not in certificate
    await begin(e, CLINICA_ID)
    [told] = sent(await e.outbox())
    assert "ya se usó en el ticket" in told and "OC-4471" in told
    async with s.store.transaction() as tx:
        await tx.add_contract(
            number="EV-2026-0102", client_id=e.demo.per_event_client_id, tier=Tier.PER_EVENT,
            starts_on=TODAY, ends_on=TODAY + timedelta(days=365), minutes_total=60,
        )  # fmt: skip
    await begin(e, CLINICA_ID)
    await answer(e, Text("oc-4471", 4), CLINICA_ID)
    [again] = [t for t in sent(await e.outbox()) if "4471" in t]
    assert "ya se usó en el ticket" in again and ticket.number in again
    async with s.store.transaction() as tx:
        draft = await tx.get_draft(CLINICA_ID)
    assert draft is not None and draft.step == "purchase_order"
    await answer(e, Text("OC-4480", 5), CLINICA_ID)
    async with s.store.transaction() as tx:
        draft = await tx.get_draft(CLINICA_ID)
    assert draft is not None and draft.step == "area"


# --- R-POOLS, R-CONTACT -------------------------------------------------------------------------------------
async def test_r_pools_poliza_shows_the_two_advice_pools(e: Env) -> None:
    async with e.services.store.transaction() as tx:
        plus = await tx.add_contract(
            number="POL-PLUS", client_id=e.demo.client_id, tier=Tier.BUSINESS_PLUS, starts_on=TODAY,
            ends_on=TODAY + timedelta(days=400), minutes_total=50 * 60, onsite_minutes_total=180,
            office_minutes_total=180,
        )  # fmt: skip
        await tx.record_hours(plus.id, None, 60, HoursKind.IN_OFFICE, True, e.clock())
    await e.say(command("poliza"), LAURA_ID)
    [certificate] = sent(await e.outbox())
    assert "POL-PLUS" in certificate
    assert "oficinas: 2 de 3 horas" in certificate and "en sitio: 3 de 3 horas" in certificate


async def test_r_contact_an_expired_contract_is_vencida_with_its_end_date_and_the_phones(e: Env) -> None:
    """R-CONTACT: /poliza for Jorge's expired contract said "Horas: 5 de 5 disponibles"."""
    await e.say(command("poliza"), NORTE_ID)
    [certificate] = sent(await e.outbox())
    async with e.services.store.transaction() as tx:
        [contract] = await tx.contracts_for_client(e.demo.expired_client_id)
    assert "vencida" in certificate and "disponibles" not in certificate
    assert str(contract.ends_on.year) in certificate and str(contract.ends_on.day) in certificate
    assert PHONES in certificate and EMAIL in certificate


@pytest.mark.parametrize("path", ["no_contract", "expired", "exhausted", "scope", "discontinued"])
async def test_r_contact_every_refusal_gives_the_phones_and_the_email(e: Env, path: str) -> None:
    """R-CONTACT, P-CONTACT-1: no contract, expired, exhausted, out of scope, discontinued."""
    user = LAURA_ID
    if path == "no_contract":
        await no_contract_client(e, warranty_days=-1)
        user = NEW_CLIENT_ID
        await begin(e, user)
    elif path == "expired":
        user = NORTE_ID
        await begin(e, user)
    elif path == "exhausted":
        async with e.services.store.transaction() as tx:
            await tx.record_hours(e.demo.contract_id, None, 750, HoursKind.REMOTE, True, e.clock())
            await tx.set_product_warranty(e.demo.products["facturacion"], None)
        await begin(e, user)
    elif path == "scope":
        await begin(e, user)
        await tap(e, "a.other", user)
        await tap(e, "x.training", user)
    else:
        await begin(e, user)
        await tap(e, "a.maintenance", user)
        await tap(e, f"p.{e.demo.products['conmutador']}", user)
    last = sent(await e.outbox())[-1]
    assert PHONES in last and EMAIL in last


# --- scope refusals offer a way back ------------------------------------------------------------------------
async def test_none_of_these_is_no_dead_end(e: Env) -> None:
    """ "Otro tema → Ninguna de estas" ended the conversation with no button: now back to the menu, or report
    something else."""
    await begin(e)
    await tap(e, "a.other")
    await tap(e, "x.none")
    rows = await e.outbox()
    assert {"m:report", "m:menu"} <= set(buttons(rows))
    await e.say(ButtonTapped("m:menu", "q-menu"), LAURA_ID)
    rows = await e.outbox()
    assert "m:report" in buttons(rows) and any("Hola" in t or "hola" in t for t in sent(rows))
    await e.say(ButtonTapped("m:report", "q-report"), LAURA_ID)
    assert any("¿Sobre qué servicio" in t for t in sent(await e.outbox()))
