"""Ask, resolve, confirm, reopen, rate (P-SLA-7, P-POL-2/4/6, P-CLOSE-1/2) against a real SQLite store."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.domain.errors import IllegalTransition, InvalidHours, InvalidInput
from bot.domain.types import HoursKind, TicketStatus, Tier
from bot.services import desk, desk_info, desk_resolve
from bot.services.desk_common import NotTheAssignee, NotTheClient, NotTheReporter
from sandbox.demo import AGENT_ANA, AGENT_MARCO, KEVIN_ID, LAURA_ID, NORTE_ID
from storage.records import Contract
from tests.services.desk_env import DeskEnv, payloads
from tests.services.desk_env import desk as desk_env

_ = desk_env
H = HoursKind


async def claimed(env: DeskEnv, chat_id: int | None = LAURA_ID, *, warranty: bool = False) -> int:
    t = await env.open(chat_id=chat_id, warranty=warranty)
    await env.do(desk.claim, ticket_id=t.id, slack_user_id=AGENT_MARCO)
    await env.drain()
    return t.id


async def resolve(
    env: DeskEnv, ticket_id: int, hours: dict[HoursKind, Decimal], charged: bool = True, reason: str | None = None
) -> desk_resolve.ResolveResult:
    return await env.do(
        desk_resolve.resolve,
        ticket_id=ticket_id,
        slack_user_id=AGENT_MARCO,
        solution="Se cambió la fuente",
        hours=hours,
        charged=charged,
        billing_reason=reason,
    )


async def used(env: DeskEnv) -> tuple[int, int]:
    async with env.store.transaction() as tx:
        contract = await tx.get_contract(env.demo.contract_id)
    assert contract is not None
    return contract.minutes_used, contract.onsite_minutes_used


async def test_p_sla_7_asking_the_client_pauses_the_clock(desk_env: DeskEnv) -> None:
    ticket_id = await claimed(desk_env)
    await desk_env.do(desk_info.ask_client, ticket_id=ticket_id, slack_user_id=AGENT_MARCO, question="¿Foto?")
    assert (await desk_env.ticket(ticket_id)).status is TicketStatus.WAITING_CLIENT
    async with desk_env.store.transaction() as tx:
        [pause] = await tx.list_pauses(ticket_id)
    assert pause.ended_at is None and pause.started_at == desk_env.clock()
    [sent] = payloads(await desk_env.drain(), "send")
    assert "¿Foto?" in sent["text"] and "4 días hábiles" in sent["text"]


async def test_asking_needs_the_assignee_a_question_and_a_client_chat(desk_env: DeskEnv) -> None:
    ticket_id = await claimed(desk_env)
    with pytest.raises(NotTheAssignee):
        await desk_env.do(desk_info.ask_client, ticket_id=ticket_id, slack_user_id=AGENT_ANA, question="x")
    with pytest.raises(InvalidInput):
        await desk_env.do(desk_info.ask_client, ticket_id=ticket_id, slack_user_id=AGENT_MARCO, question=" ")
    no_chat = await claimed(desk_env, chat_id=None)
    with pytest.raises(desk_info.NoClientChat):
        await desk_env.do(desk_info.ask_client, ticket_id=no_chat, slack_user_id=AGENT_MARCO, question="x")
    await desk_env.do(desk_info.ask_client, ticket_id=ticket_id, slack_user_id=AGENT_MARCO, question="x")
    with pytest.raises(IllegalTransition):  # already waiting
        await desk_env.do(desk_info.ask_client, ticket_id=ticket_id, slack_user_id=AGENT_MARCO, question="y")


async def test_p_pol_5_charged_remote_hours_come_off_the_yearly_budget(desk_env: DeskEnv) -> None:
    ticket_id = await claimed(desk_env)
    before = await used(desk_env)
    result = await resolve(desk_env, ticket_id, {H.REMOTE: Decimal("1.25")})
    assert await used(desk_env) == (before[0] + 75, before[1])
    assert result.low_hours is False
    rows = await desk_env.drain()
    [sent] = payloads(rows, "send")
    assert "Se cambió la fuente" in sent["text"]
    flat = [b["data"] for row in sent["keyboard"] for b in row]
    assert flat[:2] == [f"desk:ok:{ticket_id}", f"desk:reopen:{ticket_id}"]
    assert all(len(d.encode()) <= 64 for d in flat) and len(flat) == 7
    assert (await desk_env.ticket(ticket_id)).status is TicketStatus.RESOLVED


async def test_p_pol_4_warranty_work_is_free(desk_env: DeskEnv) -> None:
    ticket_id = await claimed(desk_env, warranty=True)
    before = await used(desk_env)
    await resolve(desk_env, ticket_id, {H.REMOTE: Decimal(3)}, charged=False)
    assert await used(desk_env) == before
    async with desk_env.store.transaction() as tx:
        ledger = [(e.minutes, e.charged) for e in await tx.list_hours(desk_env.demo.contract_id) if e.ticket_id]
    assert ledger == [(180, False)]


async def test_r_warranty_the_consultant_confirms_the_mark_or_changes_it_with_a_reason(desk_env: DeskEnv) -> None:
    """R-WARRANTY: the billing starts at the ticket's warranty mark; charging a warranty ticket (or giving a
    plain one for free) needs a reason, which the audit keeps."""
    ticket_id = await claimed(desk_env, warranty=True)
    with pytest.raises(desk_resolve.BillingReasonRequired):
        await resolve(desk_env, ticket_id, {H.REMOTE: Decimal(1)}, charged=True)
    assert (await desk_env.ticket(ticket_id)).status is TicketStatus.ASSIGNED
    before = await used(desk_env)
    await resolve(desk_env, ticket_id, {H.REMOTE: Decimal(1)}, charged=True, reason="Lo desconfiguró un tercero")
    assert await used(desk_env) == (before[0] + 60, before[1])
    async with desk_env.store.transaction() as tx:
        events = {e.action: e.data for e in await tx.list_audit(ticket_id)}
    assert events["billing_changed"] == {"warranty_mark": True, "charged": True, "reason": "Lo desconfiguró un tercero"}
    assert events["resolved"]["warranty_mark"] is True
    plain = await claimed(desk_env)
    with pytest.raises(desk_resolve.BillingReasonRequired):
        await resolve(desk_env, plain, {H.REMOTE: Decimal(1)}, charged=False)
    await resolve(desk_env, plain, {H.REMOTE: Decimal(1)}, charged=True)  # the default needs no reason
    assert "billing_changed" not in await desk_env.audit(plain)


async def test_r_pools_in_office_and_on_site_hours_come_from_their_own_pool(desk_env: DeskEnv) -> None:
    """R-POOLS, P-POL-6: Empresarial Plus has 3 h of each; 3 h in office then 3 h on site are both covered
    (one shared pool of 3 h billed the second 3 h)."""
    plus = await _plus_contract(desk_env)
    ticket_id = await claimed(desk_env)
    t = await desk_env.ticket(ticket_id)
    async with desk_env.store.transaction() as tx:
        await tx.update_ticket(ticket_id, t.version, contract_id=plus.id)
    result = await resolve(desk_env, ticket_id, {H.IN_OFFICE: Decimal(3), H.ON_SITE: Decimal(3)})
    assert result.billed_extra_hours == 0
    async with desk_env.store.transaction() as tx:
        after = await tx.get_contract(plus.id)
    assert after is not None and (after.office_minutes_used, after.onsite_minutes_used) == (180, 180)


async def test_r_response_the_solution_that_reaches_the_client_is_a_first_response(desk_env: DeskEnv) -> None:
    """R-RESPONSE: resolving without any reply before: the solution reaching the client is the first contact."""
    ticket_id = await claimed(desk_env)
    desk_env.clock.advance(minutes=40)
    await resolve(desk_env, ticket_id, {H.REMOTE: Decimal(1)})
    await desk_env.deliver()
    answered = await desk_env.ticket(ticket_id)
    assert answered.first_response_at == desk_env.clock() and answered.response_met is True


async def test_p_pol_2_hours_beyond_the_budget_are_reported_never_negative(desk_env: DeskEnv) -> None:
    ticket_id = await claimed(desk_env)
    result = await resolve(desk_env, ticket_id, {H.REMOTE: Decimal(15)})  # 12.5 h were left
    assert result.overage_hours == Decimal("2.5") and result.low_hours is True
    minutes, _ = await used(desk_env)
    assert minutes == 20 * 60
    rows = await desk_env.drain()
    assert any("ya no cubrió: 2.5" in p["text"] for p in payloads(rows, "thread"))
    assert any("0 de 20 h" in p["text"] for p in payloads(rows, "channel"))


async def _plus_contract(desk_env: DeskEnv) -> Contract:
    async with desk_env.store.transaction() as tx:
        client = (await tx.get_contact_by_telegram_user(LAURA_ID)).client_id  # type: ignore[union-attr]
        return await tx.add_contract(
            number="POL-PLUS",
            client_id=client,
            tier=Tier.BUSINESS_PLUS,
            starts_on=desk_env.clock().date(),
            ends_on=desk_env.clock().date().replace(year=2027),
            minutes_total=50 * 60,
            onsite_minutes_total=3 * 60,
            office_minutes_total=3 * 60,
        )


async def test_p_pol_6_advice_hours_beyond_the_included_are_billed(desk_env: DeskEnv) -> None:
    plus = await _plus_contract(desk_env)
    ticket_id = await claimed(desk_env)
    t = await desk_env.ticket(ticket_id)
    async with desk_env.store.transaction() as tx:
        await tx.update_ticket(ticket_id, t.version, contract_id=plus.id)
    result = await resolve(desk_env, ticket_id, {H.ON_SITE: Decimal(4), H.REMOTE: Decimal(1)})
    assert result.billed_extra_hours == Decimal(1)
    async with desk_env.store.transaction() as tx:
        after = await tx.get_contract(plus.id)
    assert after is not None and (after.minutes_used, after.onsite_minutes_used) == (60, 180)


async def test_resolve_refuses_bad_input_and_strangers(desk_env: DeskEnv) -> None:
    ticket_id = await claimed(desk_env)
    with pytest.raises(InvalidHours):
        await resolve(desk_env, ticket_id, {H.REMOTE: Decimal(-1)})
    with pytest.raises(InvalidHours):
        await resolve(desk_env, ticket_id, {H.REMOTE: Decimal("NaN")})
    with pytest.raises(InvalidInput):
        await desk_env.do(
            desk_resolve.resolve, ticket_id=ticket_id, slack_user_id=AGENT_MARCO, solution="", hours={}, charged=True
        )
    with pytest.raises(NotTheAssignee):
        await desk_env.do(
            desk_resolve.resolve, ticket_id=ticket_id, slack_user_id=AGENT_ANA, solution="x", hours={}, charged=True
        )
    assert (await desk_env.ticket(ticket_id)).status is TicketStatus.ASSIGNED


async def test_p_close_2_reopen_confirm_rate(desk_env: DeskEnv) -> None:
    ticket_id = await claimed(desk_env)
    await resolve(desk_env, ticket_id, {H.REMOTE: Decimal(1)})
    with pytest.raises(NotTheClient):
        await desk_env.do(desk_resolve.client_reopen, ticket_id=ticket_id, telegram_user_id=NORTE_ID)
    await desk_env.do(desk_resolve.client_reopen, ticket_id=ticket_id, telegram_user_id=LAURA_ID)
    reopened = await desk_env.ticket(ticket_id)
    assert reopened.status is TicketStatus.ASSIGNED and reopened.resolved_at is None
    assert reopened.assignee_id == await desk_env.agent_id(AGENT_MARCO)
    with pytest.raises(IllegalTransition):
        await desk_env.do(desk_resolve.client_confirm, ticket_id=ticket_id, telegram_user_id=LAURA_ID)
    await resolve(desk_env, ticket_id, {H.REMOTE: Decimal(1)})
    # P-CLOSE-2: a colleague of the same company may not answer for the reporter (safe by default).
    with pytest.raises(NotTheReporter):
        await desk_env.do(desk_resolve.client_rate, ticket_id=ticket_id, telegram_user_id=KEVIN_ID, rating=3)
    await desk_env.do(desk_resolve.client_rate, ticket_id=ticket_id, telegram_user_id=LAURA_ID, rating=3)
    await desk_env.do(desk_resolve.client_confirm, ticket_id=ticket_id, telegram_user_id=LAURA_ID)
    closed = await desk_env.ticket(ticket_id)
    assert closed.status is TicketStatus.CLOSED and closed.rating == 3
    async with desk_env.store.transaction() as tx:
        assert await tx.get_credentials(ticket_id) == []
    for bad in (0, 6, True):
        with pytest.raises(InvalidInput):
            await desk_env.do(desk_resolve.client_rate, ticket_id=ticket_id, telegram_user_id=LAURA_ID, rating=bad)
    assert await desk_env.audit(ticket_id) == [
        "claimed",
        "resolved",
        "reopened",
        "resolved",
        "rated",
        "client_confirmed",
    ]


async def test_rating_before_resolution_is_refused(desk_env: DeskEnv) -> None:
    ticket_id = await claimed(desk_env)
    with pytest.raises(InvalidInput):
        await desk_env.do(desk_resolve.client_rate, ticket_id=ticket_id, telegram_user_id=LAURA_ID, rating=5)


async def test_the_low_hours_warning_comes_once_when_the_threshold_is_crossed(desk_env: DeskEnv) -> None:
    first = await claimed(desk_env)
    assert (await resolve(desk_env, first, {H.REMOTE: Decimal(10)})).low_hours is True  # 62.5 % -> 12.5 %
    assert len(payloads(await desk_env.drain(), "channel")) == 1
    second = await claimed(desk_env)
    assert (await resolve(desk_env, second, {H.REMOTE: Decimal(1)})).low_hours is False
    assert payloads(await desk_env.drain(), "channel") == []


async def test_the_low_hours_threshold_is_configuration(desk_env: DeskEnv) -> None:
    desk_env.services.settings.low_hours_warning_percent = 61
    ticket_id = await claimed(desk_env)
    assert (await resolve(desk_env, ticket_id, {H.REMOTE: Decimal("0.5")})).low_hours is True  # 62.5 % -> 60 %
