"""Escalation use cases (P-ESC-1/2) against a real SQLite store."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.domain.errors import (
    EscalationAlreadyPending,
    EscalationLimitReached,
    EscalationNotAllowed,
    InvalidInput,
    NoPendingEscalation,
    NotAuthorized,
)
from bot.domain.types import EscalationStatus, HoursKind, Severity, TicketStatus
from bot.services import desk, desk_resolve, escalation
from bot.services.desk_common import NotAnAgent, NotTheAssignee, NotTheClient, NotTheReporter
from sandbox.demo import (
    AGENT_ANA,
    AGENT_MARCO,
    KEVIN_ID,
    LAURA_ID,
    NORTE_ID,
    OPERATIONS_RICARDO,
    QUALITY_SOFIA,
    STRANGER_SLACK,
)
from storage.records import Escalation
from tests.services.desk_env import DeskEnv, payloads
from tests.services.desk_env import desk as desk_env

_ = desk_env


async def claimed(env: DeskEnv, severity: Severity = Severity.MEDIUM) -> int:
    t = await env.open(severity=severity)
    await env.do(desk.claim, ticket_id=t.id, slack_user_id=AGENT_MARCO)
    await env.drain()
    return t.id


async def ask(
    env: DeskEnv,
    ticket_id: int,
    kind: str = "agent",
    who: str = AGENT_MARCO,
    *,
    reason: str = "Urge",
    new_severity: Severity | None = None,
) -> Escalation:
    return await env.do(
        escalation.request_in_tx,
        ticket_id=ticket_id,
        requested_by_kind=kind,
        requested_by_id=who,
        reason=reason,
        new_severity=new_severity,
    )


async def test_p_esc_2_level_2_request_goes_to_the_quality_managers(desk_env: DeskEnv) -> None:
    ticket_id = await claimed(desk_env)
    esc = await ask(desk_env, ticket_id, new_severity=Severity.HIGH)
    assert esc.to_level == 2 and esc.status is EscalationStatus.REQUESTED
    rows = await desk_env.drain()
    [dm] = payloads(rows, "dm")
    assert dm["user"] == QUALITY_SOFIA and dm["escalation_id"] == esc.id
    assert "Severidad 2" in dm["text"] and "<@U0MARCO>" in dm["text"]
    assert [p["escalation_id"] for p in payloads(rows, "thread")] == [esc.id]
    assert payloads(rows, "card") and "escalation_requested" in await desk_env.audit(ticket_id)


async def test_p_esc_1_reason_and_severity_are_validated(desk_env: DeskEnv) -> None:
    ticket_id = await claimed(desk_env)
    with pytest.raises(InvalidInput):
        await ask(desk_env, ticket_id, reason="   ")
    with pytest.raises(InvalidInput):  # escalation only makes a ticket more urgent
        await ask(desk_env, ticket_id, new_severity=Severity.LOW)
    async with desk_env.store.transaction() as tx:
        assert await tx.list_escalations(ticket_id) == []


async def test_only_the_assignee_or_a_manager_may_ask(desk_env: DeskEnv) -> None:
    ticket_id = await claimed(desk_env)
    with pytest.raises(NotTheAssignee):
        await ask(desk_env, ticket_id, who=AGENT_ANA)
    with pytest.raises(NotAnAgent):
        await ask(desk_env, ticket_id, who=STRANGER_SLACK)
    esc = await ask(desk_env, ticket_id, who=OPERATIONS_RICARDO)
    assert esc.requested_by_id == OPERATIONS_RICARDO


async def test_the_client_may_ask_for_their_own_ticket_only(desk_env: DeskEnv) -> None:
    """P-ESC-2: another company's contact, a stranger and a colleague who did not report it are refused."""
    ticket_id = await claimed(desk_env)
    with pytest.raises(NotTheClient):
        await ask(desk_env, ticket_id, kind="client", who=str(NORTE_ID))
    with pytest.raises(NotTheClient):
        await ask(desk_env, ticket_id, kind="client", who="not-a-number")
    with pytest.raises(NotTheReporter):
        await ask(desk_env, ticket_id, kind="client", who=str(KEVIN_ID))
    await ask(desk_env, ticket_id, kind="client", who=str(LAURA_ID))
    [told] = payloads(await desk_env.drain(), "send")
    assert "Pedí escalar tu ticket" in told["text"]


async def test_a_second_request_waits_for_the_first_decision(desk_env: DeskEnv) -> None:
    ticket_id = await claimed(desk_env)
    await ask(desk_env, ticket_id)
    with pytest.raises(EscalationAlreadyPending):
        await ask(desk_env, ticket_id, kind="client", who=str(LAURA_ID))


async def decide(env: DeskEnv, esc_id: int, who: str, approve: bool = True, reason: str | None = None) -> Escalation:
    return await env.decide(escalation_id=esc_id, decider_slack_id=who, approve=approve, reason=reason)


async def test_p_esc_2_approval_raises_level_severity_and_deadline_and_tells_everyone(desk_env: DeskEnv) -> None:
    ticket_id = await claimed(desk_env)
    before = await desk_env.ticket(ticket_id)
    esc = await ask(desk_env, ticket_id, new_severity=Severity.CRITICAL)
    await desk_env.drain()
    await decide(desk_env, esc.id, QUALITY_SOFIA)
    after = await desk_env.ticket(ticket_id)
    assert after.escalation_level == 2 and after.severity is Severity.CRITICAL
    assert after.response_due_at is not None and before.response_due_at is not None
    assert after.response_due_at < before.response_due_at
    rows = await desk_env.drain()
    assert [p["user"] for p in payloads(rows, "dm")] == [AGENT_MARCO]
    assert "escalado a Calidad" in payloads(rows, "send")[0]["text"]
    assert "escalation_approved" in await desk_env.audit(ticket_id)


async def test_p_esc_2_only_the_level_role_decides_and_refusals_are_audited(desk_env: DeskEnv) -> None:
    ticket_id = await claimed(desk_env)
    esc_id = (await ask(desk_env, ticket_id)).id
    with pytest.raises(NotAuthorized):
        await decide(desk_env, esc_id, OPERATIONS_RICARDO)
    with pytest.raises(NotAuthorized):
        await decide(desk_env, esc_id, AGENT_MARCO)
    with pytest.raises(NotAnAgent):
        await decide(desk_env, esc_id, STRANGER_SLACK)
    refused = await desk_env.do(escalation.check_decider, escalation_id=esc_id, decider_slack_id=AGENT_ANA)
    assert isinstance(refused, NotAuthorized)  # returned, so its audit row commits with the refusal
    assert (await desk_env.audit(ticket_id)).count("escalation_decision_refused") == 4
    assert (await desk_env.ticket(ticket_id)).escalation_level == 1


async def test_a_decision_cannot_happen_twice(desk_env: DeskEnv) -> None:
    ticket_id = await claimed(desk_env)
    esc_id = (await ask(desk_env, ticket_id)).id
    await decide(desk_env, esc_id, QUALITY_SOFIA)
    with pytest.raises(NoPendingEscalation):
        await decide(desk_env, esc_id, QUALITY_SOFIA, approve=False)
    assert (await desk_env.ticket(ticket_id)).escalation_level == 2


async def test_rejection_carries_the_reason_to_the_client_who_asked(desk_env: DeskEnv) -> None:
    ticket_id = await claimed(desk_env)
    esc_id = (await ask(desk_env, ticket_id, kind="client", who=str(LAURA_ID))).id
    await desk_env.drain()
    await decide(desk_env, esc_id, QUALITY_SOFIA, approve=False, reason="Va en tiempo <b>")
    rows = await desk_env.drain()
    [told] = payloads(rows, "send")
    assert "Va en tiempo &lt;b&gt;" in told["text"]
    assert (await desk_env.ticket(ticket_id)).escalation_level == 1


async def test_p_esc_2_level_3_by_operations_then_no_higher(desk_env: DeskEnv) -> None:
    ticket_id = await claimed(desk_env)
    await decide(desk_env, (await ask(desk_env, ticket_id)).id, QUALITY_SOFIA)
    await desk_env.drain()
    esc = await ask(desk_env, ticket_id)
    [dm] = [p for p in payloads(await desk_env.drain(), "dm") if "escalation_id" in p]
    assert dm["user"] == OPERATIONS_RICARDO
    with pytest.raises(NotAuthorized):
        await decide(desk_env, esc.id, QUALITY_SOFIA)
    await decide(desk_env, esc.id, OPERATIONS_RICARDO)
    assert (await desk_env.ticket(ticket_id)).escalation_level == 3
    with pytest.raises(EscalationLimitReached):
        await ask(desk_env, ticket_id)


async def test_p_esc_1_a_finished_ticket_is_not_escalated(desk_env: DeskEnv) -> None:
    ticket_id = await claimed(desk_env)
    t = await desk_env.ticket(ticket_id)
    async with desk_env.store.transaction() as tx:
        await tx.update_ticket(ticket_id, t.version, status=TicketStatus.RESOLVED)
    with pytest.raises(EscalationNotAllowed):
        await ask(desk_env, ticket_id)


async def test_p_esc_1_resolving_drops_a_pending_request_so_a_late_approval_changes_nothing(desk_env: DeskEnv) -> None:
    ticket_id = await claimed(desk_env)
    esc = await ask(desk_env, ticket_id)
    await desk_env.do(
        desk_resolve.resolve,
        ticket_id=ticket_id,
        slack_user_id=AGENT_MARCO,
        solution="listo",
        hours={HoursKind.REMOTE: Decimal(1)},
        charged=True,
    )
    with pytest.raises(NoPendingEscalation):
        await decide(desk_env, esc.id, QUALITY_SOFIA)
    async with desk_env.store.transaction() as tx:
        [dropped] = await tx.list_escalations(ticket_id)
    assert (dropped.status, dropped.decision_reason) == (EscalationStatus.REJECTED, "resolved")
    await desk_env.do(desk_resolve.client_reopen, ticket_id=ticket_id, telegram_user_id=LAURA_ID)
    assert (await ask(desk_env, ticket_id)).to_level == 2  # a reopened ticket may ask again
