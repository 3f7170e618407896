"""The SLA watch and the desk timers through the real Scheduler: warning, breach, reminders, auto-close."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from bot.delivery import Scheduler
from bot.domain.types import EscalationStatus, HoursKind, Severity, TicketStatus
from bot.services import bridge, desk, desk_info, desk_resolve, desk_response, escalation
from bot.services.desk_deadline import SLA_BREACH, SLA_WARNING, business_left, response_deadline
from bot.services.sla import register_timers
from sandbox.demo import AGENT_MARCO, LAURA_ID, QUALITY_SOFIA
from sandbox.testing import MEXICO
from tests.services.desk_env import DeskEnv, payloads
from tests.services.desk_env import desk as desk_env

_ = desk_env


async def fire(env: DeskEnv, at: datetime) -> None:
    env.clock.set(at)
    scheduler = Scheduler(env.store, clock=env.clock)
    register_timers(scheduler, env.services)
    await scheduler.drain()


async def test_p_esc_1_warning_at_75_percent_of_the_response_time(desk_env: DeskEnv) -> None:
    """Sev 1 opened Tue 10:15: 75 % of 8 business hours is Tue 18:15 (lunch 14-16 does not count)."""
    t = await desk_env.open()
    await fire(desk_env, datetime(2026, 11, 24, 18, 14, tzinfo=MEXICO))
    assert payloads(await desk_env.drain(), "channel") == []
    await fire(desk_env, datetime(2026, 11, 24, 18, 15, tzinfo=MEXICO))
    [warning] = payloads(await desk_env.drain(), "channel")
    assert t.number in warning["text"] and "quedan 2 horas hábiles" in warning["text"]
    assert "sla_warning" in await desk_env.audit(t.id)


async def test_p_esc_1_unclaimed_at_the_deadline_requests_escalation_automatically(desk_env: DeskEnv) -> None:
    t = await desk_env.open()
    assert t.response_due_at is not None
    await fire(desk_env, t.response_due_at)
    rows = await desk_env.drain()
    assert [p["user"] for p in payloads(rows, "dm")] == [QUALITY_SOFIA]
    assert any("venció sin respuesta" in p["text"] for p in payloads(rows, "channel"))
    async with desk_env.store.transaction() as tx:
        [esc] = await tx.list_escalations(t.id)
    assert (esc.requested_by_kind, esc.status) == ("system", EscalationStatus.REQUESTED)


async def test_breach_with_an_escalation_already_pending_adds_nothing(desk_env: DeskEnv) -> None:
    t = await desk_env.open()
    await desk_env.do(
        escalation.request_in_tx, ticket_id=t.id, requested_by_kind="client", requested_by_id=str(LAURA_ID), reason="ya"
    )
    assert t.response_due_at is not None
    await fire(desk_env, t.response_due_at + timedelta(minutes=1))
    async with desk_env.store.transaction() as tx:
        assert len(await tx.list_escalations(t.id)) == 1


async def test_timers_of_a_superseded_deadline_do_nothing(desk_env: DeskEnv) -> None:
    """A raised severity gives a new deadline and new timers; the old ones find they are stale."""
    t = await desk_env.open(severity=Severity.LOW)
    assert t.response_due_at is not None
    async with desk_env.store.transaction() as tx:
        fresh = await tx.get_ticket(t.id)
        assert fresh is not None
        await tx.update_ticket(t.id, fresh.version, response_due_at=t.response_due_at + timedelta(days=30))
    await fire(desk_env, t.response_due_at + timedelta(minutes=1))
    assert payloads(await desk_env.drain(), "channel") == []
    assert "sla_breached" not in await desk_env.audit(t.id)


async def test_r_response_a_claimed_ticket_without_a_response_is_still_warned_and_escalated(
    desk_env: DeskEnv,
) -> None:
    """R-RESPONSE, P-ESC-1: warnings and the automatic escalation apply until the first response, claimed or
    not (the old claim silenced both for good). The warning names the assignee."""
    t = await desk_env.open()
    await desk_env.do(desk.claim, ticket_id=t.id, slack_user_id=AGENT_MARCO)
    await desk_env.drain()
    await fire(desk_env, datetime(2026, 11, 24, 18, 15, tzinfo=MEXICO))
    [warning] = payloads(await desk_env.drain(), "channel")
    assert t.number in warning["text"] and "sin primera respuesta" in warning["text"] and AGENT_MARCO in warning["text"]
    assert t.response_due_at is not None
    await fire(desk_env, t.response_due_at)
    rows = await desk_env.drain()
    assert [p["user"] for p in payloads(rows, "dm")] == [QUALITY_SOFIA]
    async with desk_env.store.transaction() as tx:
        [esc] = await tx.list_escalations(t.id)
    assert esc.requested_by_kind == "system" and "nadie había respondido" in esc.reason


async def test_r_response_a_responded_ticket_gets_no_warning(desk_env: DeskEnv) -> None:
    t = await desk_env.open()
    await desk_env.do(desk.claim, ticket_id=t.id, slack_user_id=AGENT_MARCO)
    await desk_env.do(desk_response.record_contact, ticket_id=t.id, slack_user_id=AGENT_MARCO)
    await desk_env.drain()
    await fire(desk_env, datetime(2026, 12, 10, 12, 0, tzinfo=MEXICO))
    assert payloads(await desk_env.drain(), "channel") == []
    assert "sla_breached" not in await desk_env.audit(t.id)


async def test_r_response_p_sla_7_the_wait_for_the_client_is_off_the_clock(desk_env: DeskEnv) -> None:
    """R-RESPONSE, P-SLA-7: an information request is no response; while the client is waited for, the warning
    does not fire, and once they answer the deadline has moved by the wait and the warning comes at its new
    time (Tue 10:15 + 75 % of 8 h = Tue 18:15, moved by a 2 h wait to Wed 10:15)."""
    t = await desk_env.open()
    await desk_env.do(desk.claim, ticket_id=t.id, slack_user_id=AGENT_MARCO)
    await desk_env.do(desk_info.ask_client, ticket_id=t.id, slack_user_id=AGENT_MARCO, question="¿Foto?")
    await desk_env.drain()
    desk_env.clock.set(datetime(2026, 11, 24, 12, 15, tzinfo=MEXICO))
    async with desk_env.store.transaction() as tx:
        await bridge._resume(tx, desk_env.services, t.id, desk_env.clock())  # the client answered
    moved = await desk_env.ticket(t.id)
    assert moved.response_due_at is not None and t.response_due_at is not None
    assert desk_env.services.calendar.between(t.response_due_at, moved.response_due_at) == timedelta(hours=2)
    await fire(desk_env, datetime(2026, 11, 24, 18, 15, tzinfo=MEXICO))
    assert payloads(await desk_env.drain(), "channel") == []
    await fire(desk_env, datetime(2026, 11, 25, 10, 15, tzinfo=MEXICO))
    [warning] = payloads(await desk_env.drain(), "channel")
    assert t.number in warning["text"]


async def test_r_response_a_warning_fired_before_the_wait_is_not_given_twice(desk_env: DeskEnv) -> None:
    t = await desk_env.open()
    await desk_env.do(desk.claim, ticket_id=t.id, slack_user_id=AGENT_MARCO)
    await fire(desk_env, datetime(2026, 11, 24, 18, 15, tzinfo=MEXICO))
    assert len(payloads(await desk_env.drain(), "channel")) == 1
    await desk_env.do(desk_info.ask_client, ticket_id=t.id, slack_user_id=AGENT_MARCO, question="¿Foto?")
    desk_env.clock.set(datetime(2026, 11, 24, 18, 45, tzinfo=MEXICO))
    async with desk_env.store.transaction() as tx:
        await bridge._resume(tx, desk_env.services, t.id, desk_env.clock())
    await fire(desk_env, datetime(2026, 11, 24, 18, 50, tzinfo=MEXICO))
    assert payloads(await desk_env.drain(), "channel") == []


async def test_p_sla_7_paused_time_moves_the_deadline(desk_env: DeskEnv) -> None:
    t = await desk_env.open()
    start = desk_env.clock()
    async with desk_env.store.transaction() as tx:
        await tx.open_pause(t.id, start, "test")
        await tx.close_pause(t.id, start + timedelta(hours=2))
        fresh = await tx.get_ticket(t.id)
        assert fresh is not None and t.response_due_at is not None
        moved = await response_deadline(tx, desk_env.services, fresh, fresh.severity, start + timedelta(hours=3))
    assert desk_env.services.calendar.between(t.response_due_at, moved) == timedelta(hours=2)


def test_business_left_is_negative_once_overdue(desk_env: DeskEnv) -> None:
    due = datetime(2026, 11, 24, 12, 0, tzinfo=MEXICO)
    assert business_left(desk_env.services, due, due - timedelta(hours=1)) == timedelta(hours=1)
    assert business_left(desk_env.services, due, due + timedelta(hours=1)) == -timedelta(hours=1)


async def waiting(env: DeskEnv) -> int:
    t = await env.open()
    await env.do(desk.claim, ticket_id=t.id, slack_user_id=AGENT_MARCO)
    await env.do(desk_info.ask_client, ticket_id=t.id, slack_user_id=AGENT_MARCO, question="¿Foto?")
    await env.drain()
    return t.id


async def test_p_close_3_three_business_day_reminders_then_closed(desk_env: DeskEnv) -> None:
    ticket_id = await waiting(desk_env)
    texts: list[str] = []
    # Tue 10:15 asked -> Wed, Thu, Fri reminders; the weekend skipped; Mon closed.
    for day in (25, 26, 27, 28, 29, 30):
        await fire(desk_env, datetime(2026, 11, day, 10, 16, tzinfo=MEXICO))
        texts += [p["text"] for p in payloads(await desk_env.drain(), "send")]
    assert [t for t in texts if "aviso" in t] == [
        f"Seguimos esperando tu respuesta para el ticket SOP-2026-000001 (aviso {n} de 3). Si no la recibimos, "
        f"el ticket se cerrará en {left}."
        for n, left in ((1, "3 días hábiles"), (2, "2 días hábiles"), (3, "1 día hábil"))
    ]
    assert "no recibimos la información" in texts[-1]
    stored = await desk_env.ticket(ticket_id)
    assert stored.status is TicketStatus.CLOSED and stored.closed_at is not None
    async with desk_env.store.transaction() as tx:
        assert await tx.get_credentials(ticket_id) == []
        assert all(p.ended_at is not None for p in await tx.list_pauses(ticket_id))


async def test_p_close_3_the_reminder_count_is_configuration(desk_env: DeskEnv) -> None:
    desk_env.services.settings.info_reminder_count = 1
    ticket_id = await waiting(desk_env)
    await fire(desk_env, datetime(2026, 11, 25, 10, 16, tzinfo=MEXICO))
    assert "aviso 1 de 1" in payloads(await desk_env.drain(), "send")[0]["text"]
    await fire(desk_env, datetime(2026, 11, 26, 10, 16, tzinfo=MEXICO))
    assert (await desk_env.ticket(ticket_id)).status is TicketStatus.CLOSED


async def test_an_answered_wait_stops_its_reminders(desk_env: DeskEnv) -> None:
    ticket_id = await waiting(desk_env)
    async with desk_env.store.transaction() as tx:
        assert await desk_info.resume_from_waiting(tx, desk_env.services, ticket_id, desk_env.clock())
        assert not await desk_info.resume_from_waiting(tx, desk_env.services, ticket_id, desk_env.clock())
    await fire(desk_env, datetime(2026, 12, 4, 12, 0, tzinfo=MEXICO))
    assert [p for p in payloads(await desk_env.drain(), "send") if "aviso" in p["text"]] == []
    assert (await desk_env.ticket(ticket_id)).status is TicketStatus.ASSIGNED


async def test_resolved_auto_closes_after_the_configured_business_days(desk_env: DeskEnv) -> None:
    desk_env.services.settings.resolved_autoclose_business_days = 2
    t = await desk_env.open()
    await desk_env.do(desk.claim, ticket_id=t.id, slack_user_id=AGENT_MARCO)
    await desk_env.do(
        desk_resolve.resolve,
        ticket_id=t.id,
        slack_user_id=AGENT_MARCO,
        solution="listo",
        hours={HoursKind.REMOTE: Decimal(1)},
        charged=True,
    )
    await fire(desk_env, datetime(2026, 11, 25, 12, 0, tzinfo=MEXICO))
    assert (await desk_env.ticket(t.id)).status is TicketStatus.RESOLVED
    await fire(desk_env, datetime(2026, 11, 26, 10, 16, tzinfo=MEXICO))
    assert (await desk_env.ticket(t.id)).status is TicketStatus.CLOSED
    assert "auto_close" in await desk_env.audit(t.id)


async def test_every_desk_timer_kind_is_registered(desk_env: DeskEnv) -> None:
    scheduler = Scheduler(desk_env.store, clock=desk_env.clock)
    register_timers(scheduler, desk_env.services)
    kinds = set(scheduler._handlers)
    assert {
        SLA_WARNING,
        SLA_BREACH,
        desk_info.INFO_REMINDER,
        desk_info.INFO_CLOSE,
        desk_resolve.RESOLVED_AUTOCLOSE,
    } <= kinds


async def test_a_pause_that_starts_after_the_instant_rendered_is_no_pause_yet(desk_env: DeskEnv) -> None:
    """Issue "the desk tells the truth": the card rendered for an instant a moment before "Pedir información"
    opened the pause failed on every try with "a pause must not end before it starts" (P-SLA-7)."""
    from bot.services.desk_deadline import pauses_of, response_taken

    t = await desk_env.open()
    rendered_for = desk_env.clock()
    async with desk_env.store.transaction() as tx:
        await tx.open_pause(t.id, rendered_for + timedelta(seconds=1), "info")
    async with desk_env.store.transaction() as tx:
        assert await pauses_of(tx, t.id, rendered_for) == []
        taken = await response_taken(tx, desk_env.services, t, rendered_for)
        later = rendered_for + timedelta(hours=1)
        assert await pauses_of(tx, t.id, later) == [(rendered_for + timedelta(seconds=1), later)]
    assert taken >= timedelta(0)
