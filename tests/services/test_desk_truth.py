"""The desk tells the truth, against a real SQLite store: the card's facts, release and reassignment, severity
changes, thread messages that cannot reach the client, and every copy of an escalation request."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.domain.errors import IllegalTransition, InvalidInput
from bot.domain.since import DayPart, Precision
from bot.domain.types import Severity, TicketStatus
from bot.services import desk, desk_assign, desk_info, desk_queries, escalation
from bot.services.desk_common import NotTheAssignee
from bot.services.events import SharedFile, ThreadMessage
from sandbox.demo import AGENT_ANA, AGENT_MARCO, QUALITY_SOFIA, STRANGER_SLACK
from sandbox.testing import MEXICO
from tests.services.desk_env import DeskEnv, payloads
from tests.services.desk_env import desk as desk_fixture

desk_env = desk_fixture  # the fixture under a name that does not shadow the module


async def claimed(env: DeskEnv) -> int:
    t = await env.open()
    await env.do(desk.claim, ticket_id=t.id, slack_user_id=AGENT_MARCO)
    await env.drain()
    return t.id


async def facts(env: DeskEnv, ticket_id: int) -> desk_queries.CardFacts:
    return await desk_queries.read_card(env.services, ticket_id)


# --- the card's facts ----------------------------------------------------------------------------------------


async def test_the_card_is_computed_for_one_instant(desk_env: DeskEnv) -> None:
    t = await desk_env.open()
    desk_env.clock.advance(hours=1)
    found = await facts(desk_env, t.id)
    assert found.now == desk_env.clock()
    assert found.left == timedelta(hours=7)  # 8 business hours, one gone
    assert found.reporter is not None and found.reporter.name == "Laura Pérez" and found.reporter.language == "es"


async def test_the_card_reads_the_since_precision_the_intake_recorded(desk_env: DeskEnv) -> None:
    t = await desk_env.open()
    async with desk_env.store.transaction() as tx:
        data = {"since_precision": "part_of_day", "since_part": "morning"}
        await tx.append_audit(t.id, at=desk_env.clock(), actor_kind="client", actor_id="1", action="opened", data=data)
    found = await facts(desk_env, t.id)
    assert (found.since_precision, found.since_part) == (Precision.PART_OF_DAY, DayPart.MORNING)


async def test_waiting_reopened_and_the_reminders_are_facts_of_the_card(desk_env: DeskEnv) -> None:
    ticket_id = await claimed(desk_env)
    await desk_env.do(desk_info.ask_client, ticket_id=ticket_id, slack_user_id=AGENT_MARCO, question="¿Modelo?")
    waiting = await facts(desk_env, ticket_id)
    assert waiting.paused_since == desk_env.clock() and waiting.reminders_sent == 0 and waiting.left is None
    desk_env.clock.set(datetime(2026, 11, 25, 10, 20, tzinfo=MEXICO))
    async with desk_env.store.transaction() as tx:
        [timer] = [x for x in await tx.claim_due_timers(desk_env.clock(), "t", 10, 60) if x.kind == "info_reminder"]
        await desk_info.on_info_reminder(desk_env.services, tx, timer)
    assert (await facts(desk_env, ticket_id)).reminders_sent == 1
    assert "card" in [r.kind for r in await desk_env.drain()]  # the card says "aviso 1 de 3" at once


# --- release, reassign, severity ---------------------------------------------------------------------------


async def test_release_is_audited_and_refused_to_anyone_but_the_assignee(desk_env: DeskEnv) -> None:
    ticket_id = await claimed(desk_env)
    with pytest.raises(NotTheAssignee):
        await desk_env.do(desk_assign.release, ticket_id=ticket_id, slack_user_id=AGENT_ANA)
    released = await desk_env.do(desk_assign.release, ticket_id=ticket_id, slack_user_id=AGENT_MARCO)
    assert released.status is TicketStatus.NEW and released.assignee_id is None
    assert "released" in await desk_env.audit(ticket_id)
    rows = await desk_env.drain()
    assert payloads(rows, "card") and "quedó sin consultor" in payloads(rows, "send")[0]["text"]


async def test_reassign_needs_a_manager_and_a_consultant(desk_env: DeskEnv) -> None:
    ticket_id = await claimed(desk_env)
    with pytest.raises(desk_assign.NotAManager):
        await desk_env.do(desk_assign.reassign, ticket_id=ticket_id, slack_user_id=AGENT_ANA, to_slack_id=AGENT_ANA)
    with pytest.raises(desk_assign.NotAConsultant):
        await desk_env.do(
            desk_assign.reassign, ticket_id=ticket_id, slack_user_id=QUALITY_SOFIA, to_slack_id=STRANGER_SLACK
        )
    with pytest.raises(desk_assign.SameAssignee):
        await desk_env.do(
            desk_assign.reassign, ticket_id=ticket_id, slack_user_id=QUALITY_SOFIA, to_slack_id=AGENT_MARCO
        )
    moved = await desk_env.do(
        desk_assign.reassign, ticket_id=ticket_id, slack_user_id=QUALITY_SOFIA, to_slack_id=AGENT_ANA
    )
    assert moved.assignee_id == await desk_env.agent_id(AGENT_ANA)
    rows = await desk_env.drain()
    assert [p["user"] for p in payloads(rows, "dm")] == [AGENT_ANA]
    assert "Ahora Ana atiende tu ticket" in payloads(rows, "send")[0]["text"]


async def test_r_severity_recomputes_the_deadline_and_arms_its_timers(desk_env: DeskEnv) -> None:
    t = await desk_env.open(severity=Severity.LOW)
    changed = await desk_env.do(
        desk_assign.change_severity, ticket_id=t.id, slack_user_id=QUALITY_SOFIA, severity=Severity.CRITICAL,
        reason="Ya no factura nadie",
    )  # fmt: skip
    assert changed.severity is Severity.CRITICAL
    assert changed.response_due_at == datetime(2026, 11, 25, 10, 15, tzinfo=MEXICO)  # 8 h instead of 24 h
    far = desk_env.clock() + timedelta(days=30)
    due = {x.payload.get("due") for x in await desk_env.due_timers(far) if x.kind == "sla_breach"}
    assert changed.response_due_at.isoformat() in due
    rows = await desk_env.drain()
    assert "severidad 1 (crítica)" in payloads(rows, "send")[0]["text"]
    with pytest.raises(InvalidInput):
        await desk_env.do(
            desk_assign.change_severity, ticket_id=t.id, slack_user_id=QUALITY_SOFIA, severity=Severity.CRITICAL,
            reason="otra vez",
        )  # fmt: skip


async def test_r_severity_of_a_finished_ticket_is_refused(desk_env: DeskEnv) -> None:
    ticket_id = await claimed(desk_env)
    async with desk_env.store.transaction() as tx:
        t = await tx.get_ticket(ticket_id)
        assert t is not None
        await tx.update_ticket(ticket_id, t.version, status=TicketStatus.CLOSED)
    with pytest.raises(IllegalTransition):
        await desk_env.do(
            desk_assign.change_severity, ticket_id=ticket_id, slack_user_id=AGENT_MARCO, severity=Severity.LOW,
            reason="x",
        )  # fmt: skip


# --- nothing said into the void -----------------------------------------------------------------------------


def message(user: str, text: str, *, files: tuple[SharedFile, ...] = (), ts: str = "2.0") -> ThreadMessage:
    return ThreadMessage(user=user, channel="C0SUPPORT", thread_ts="1.0", ts=ts, text=text, files=files)


async def posted(env: DeskEnv, ticket_id: int) -> None:
    async with env.store.transaction() as tx:
        t = await tx.get_ticket(ticket_id)
        assert t is not None
        await tx.update_ticket(ticket_id, t.version, slack_channel="C0SUPPORT", slack_ts="1.0")


async def test_whoever_cannot_talk_to_the_client_is_told_in_the_thread(desk_env: DeskEnv) -> None:
    ticket_id = await claimed(desk_env)
    await posted(desk_env, ticket_id)
    assert await desk_env.thread_message(message(AGENT_ANA, "Hola"), "Ev1") is desk.RelayOutcome.INTERNAL
    assert await desk_env.thread_message(message(STRANGER_SLACK, "Hola"), "Ev2") is desk.RelayOutcome.REFUSED
    assert await desk_env.thread_message(message(AGENT_ANA, "nota: ojo"), "Ev3") is desk.RelayOutcome.INTERNAL
    told = payloads(await desk_env.drain(), "ephemeral")
    assert [(p["user"], p["thread_ts"]) for p in told] == [(AGENT_ANA, "1.0"), (STRANGER_SLACK, "1.0")]
    assert "<@U0MARCO>" in told[0]["text"] and "no tienes un rol" in told[1]["text"]


async def test_the_assignees_files_go_as_photo_and_document_and_a_huge_one_is_refused(desk_env: DeskEnv) -> None:
    ticket_id = await claimed(desk_env)
    await posted(desk_env, ticket_id)
    files = (
        SharedFile("F1", "panel.png", "image/png", 2048, "https://files.slack.com/files-pri/F1/panel.png"),
        SharedFile("F2", "guia.pdf", "application/pdf", 4096, "https://files.slack.com/files-pri/F2/guia.pdf"),
        SharedFile("F3", "todo.zip", "application/zip", 60 * 2**20, "https://files.slack.com/files-pri/F3/todo.zip"),
    )
    outcome = await desk_env.thread_message(message(AGENT_MARCO, "", files=files), "Ev1")
    assert outcome is desk.RelayOutcome.SENT
    rows = await desk_env.drain()
    assert [p["file"]["name"] for p in payloads(rows, "photo")] == ["panel.png"]
    assert [p["file"]["name"] for p in payloads(rows, "document")] == ["guia.pdf"]
    assert all(p["relayed"] == {"channel": "C0SUPPORT", "ts": "2.0"} for p in payloads(rows, "photo"))
    [told] = payloads(rows, "ephemeral")
    assert "todo.zip" in told["text"] and "50 MB" in told["text"]


async def test_a_relayed_reply_is_marked_once_telegram_took_it(desk_env: DeskEnv) -> None:
    ticket_id = await claimed(desk_env)
    await posted(desk_env, ticket_id)
    await desk_env.thread_message(message(AGENT_MARCO, "Reinicia, por favor"), "Ev1")
    rows = await desk_env.deliver()
    assert {"channel": "C0SUPPORT", "ts": "2.0", "name": "white_check_mark"} in payloads(rows, "reaction")


# --- every copy of an escalation request --------------------------------------------------------------------


async def test_a_decision_replaces_every_recorded_copy_with_its_context(desk_env: DeskEnv) -> None:
    ticket_id = await claimed(desk_env)
    requested = await desk_env.do(
        escalation.request_in_tx, ticket_id=ticket_id, requested_by_kind="agent", requested_by_id=AGENT_MARCO,
        reason="Necesitamos al fabricante",
    )  # fmt: skip
    await desk_env.drain()
    for channel, ts in (("D0SOFIA", "5.0"), ("C0SUPPORT", "6.0")):  # as the sent hooks record them
        await desk_env.do(escalation.record_copy, escalation_id=requested.id, channel=channel, ts=ts)
    await desk_env.decide(escalation_id=requested.id, decider_slack_id=QUALITY_SOFIA, approve=True)
    updates = payloads(await desk_env.drain(), "update")
    assert sorted((u["channel"], u["ts"]) for u in updates) == [("C0SUPPORT", "6.0"), ("D0SOFIA", "5.0")]
    for update in updates:
        text = update["text"]
        assert "SOP-2026-000001" in text and "<@U0MARCO>" in text and "Necesitamos al fabricante" in text
        assert "Decidido por <@U0SOFIA>: aprobada" in text
    assert await desk_queries.decided_request(desk_env.services, requested.id) == updates[0]["text"]
