"""Desk use cases against a real SQLite store: claim (P-SLA-6), credentials reveal, thread relay."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.domain.types import TicketStatus
from bot.services import desk, desk_info, desk_response
from bot.services.desk_common import NotAnAgent, NotTheAssignee, TicketGone, escape_mrkdwn
from bot.services.desk_deadline import SLA_BREACH, SLA_WARNING
from bot.services.events import ThreadMessage
from sandbox.demo import AGENT_ANA, AGENT_MARCO, LAURA_ID, QUALITY_SOFIA, STRANGER_SLACK
from tests.services.desk_env import PASSWORD, DeskEnv, payloads
from tests.services.desk_env import desk as desk_fixture

desk_env = desk_fixture  # the fixture under a name that does not shadow the module


async def test_r_response_claim_assigns_and_tells_card_thread_client_but_is_no_response(desk_env: DeskEnv) -> None:
    """R-RESPONSE, P-SLA-6: "Tomar" assigns the ticket and the client is told, but nobody talked to them yet:
    no first response is stamped (the old claim stamped it, met, at the click)."""
    t = await desk_env.open()
    desk_env.clock.advance(minutes=12)
    result = await desk_env.do(desk.claim, ticket_id=t.id, slack_user_id=AGENT_MARCO)
    assert result.agent.slack_user_id == AGENT_MARCO
    stored = await desk_env.ticket(t.id)
    assert stored.status is TicketStatus.ASSIGNED and stored.assignee_id == await desk_env.agent_id(AGENT_MARCO)
    assert stored.first_response_at is None and stored.response_met is None
    rows = await desk_env.drain()
    assert payloads(rows, "card") == [{"ticket_id": t.id, "ticket": t.number}]
    assert "tomó el ticket" in payloads(rows, "thread")[0]["text"]
    assert payloads(rows, "send")[0]["text"].startswith("Marco tomó tu ticket")
    assert desk_env.wakes


async def test_r_response_a_claim_leaves_the_response_timers_armed(desk_env: DeskEnv) -> None:
    """R-RESPONSE, P-ESC-1: the warning and the breach stay armed after "Tomar" (the old claim cancelled them)."""
    t = await desk_env.open()
    await desk_env.do(desk.claim, ticket_id=t.id, slack_user_id=AGENT_MARCO)
    far = desk_env.clock() + timedelta(days=30)
    kinds = sorted(x.kind for x in await desk_env.due_timers(far) if x.kind in (SLA_WARNING, SLA_BREACH))
    assert kinds == [SLA_BREACH, SLA_WARNING]


async def test_r_response_the_first_relayed_reply_that_reaches_the_client_is_the_response(desk_env: DeskEnv) -> None:
    """R-RESPONSE: a reply of the assignee counts once Telegram accepted it (not when it was written), and
    only the first one counts; it stops the warning and the breach."""
    ticket_id = await claimed(desk_env)
    desk_env.clock.advance(minutes=20)
    assert await relay(desk_env, "Hola Laura, ya lo reviso") is desk.RelayOutcome.SENT
    assert (await desk_env.ticket(ticket_id)).first_response_at is None  # written, not delivered yet
    desk_env.clock.advance(minutes=1)
    await desk_env.deliver()
    answered = await desk_env.ticket(ticket_id)
    assert answered.first_response_at == desk_env.clock() and answered.response_met is True
    await relay(desk_env, "otra cosa", event="Ev2")
    desk_env.clock.advance(minutes=5)
    rows = await desk_env.deliver()
    assert (await desk_env.ticket(ticket_id)).first_response_at == answered.first_response_at
    assert not any("Primera respuesta" in str(r.payload.get("text")) for r in rows)
    far = desk_env.clock() + timedelta(days=30)
    assert [x for x in await desk_env.due_timers(far) if x.kind in (SLA_WARNING, SLA_BREACH)] == []
    async with desk_env.store.transaction() as tx:
        [first] = [e for e in await tx.list_audit(ticket_id) if e.action == "first_response"]
    assert first.data["how"] == "reply" and first.data["met"] is True


async def test_r_response_a_reply_to_a_client_who_blocked_the_bot_is_no_response(desk_env: DeskEnv) -> None:
    """R-RESPONSE: a reply that never reached the client (Telegram refused it) is not the first response."""
    ticket_id = await claimed(desk_env)
    async with desk_env.store.transaction() as tx:
        await tx.set_contact_unreachable(LAURA_ID, desk_env.clock())
    assert await relay(desk_env, "Hola") is desk.RelayOutcome.UNREACHABLE
    await desk_env.deliver()
    assert (await desk_env.ticket(ticket_id)).first_response_at is None


async def test_r_response_an_information_request_is_no_response(desk_env: DeskEnv) -> None:
    """R-RESPONSE: "Pedir información" reaches the client, but it is not the response: its wait is taken off
    the clock instead (P-SLA-7)."""
    ticket_id = await claimed(desk_env)
    await desk_env.do(desk_info.ask_client, ticket_id=ticket_id, slack_user_id=AGENT_MARCO, question="¿Foto?")
    await desk_env.deliver()
    assert (await desk_env.ticket(ticket_id)).first_response_at is None


async def test_r_response_a_recorded_call_is_the_first_response_and_audited(desk_env: DeskEnv) -> None:
    """R-RESPONSE: "Registré llamada/sesión" by the assignee is a first contact; every press is audited, only
    the first one is the response. Someone else's press is refused."""
    t = await desk_env.open()
    with pytest.raises(NotTheAssignee):  # unclaimed: take it first
        await desk_env.do(desk_response.record_contact, ticket_id=t.id, slack_user_id=AGENT_MARCO)
    await desk_env.do(desk.claim, ticket_id=t.id, slack_user_id=AGENT_MARCO)
    with pytest.raises(NotTheAssignee):
        await desk_env.do(desk_response.record_contact, ticket_id=t.id, slack_user_id=AGENT_ANA)
    desk_env.clock.advance(minutes=30)
    await desk_env.do(desk_response.record_contact, ticket_id=t.id, slack_user_id=AGENT_MARCO)
    stored = await desk_env.ticket(t.id)
    assert stored.first_response_at == desk_env.clock() and stored.response_met is True
    threads = [p["text"] for p in payloads(await desk_env.drain(), "thread")]
    assert any("Primera respuesta al cliente (llamada o sesión remota)" in text for text in threads)
    desk_env.clock.advance(minutes=30)
    await desk_env.do(desk_response.record_contact, ticket_id=t.id, slack_user_id=AGENT_MARCO)
    assert (await desk_env.ticket(t.id)).first_response_at == stored.first_response_at
    audit = await desk_env.audit(t.id)
    assert audit.count("contact_recorded") == 2 and audit.count("first_response") == 1


async def test_r_response_a_late_first_response_is_recorded_as_missed(desk_env: DeskEnv) -> None:
    t = await desk_env.open()
    await desk_env.do(desk.claim, ticket_id=t.id, slack_user_id=AGENT_MARCO)
    assert t.response_due_at is not None
    desk_env.clock.set(t.response_due_at + timedelta(minutes=1))
    await desk_env.do(desk_response.record_contact, ticket_id=t.id, slack_user_id=AGENT_MARCO)
    assert (await desk_env.ticket(t.id)).response_met is False


async def test_two_claims_at_once_give_one_owner(desk_env: DeskEnv) -> None:
    t = await desk_env.open()
    results = await asyncio.gather(
        desk_env.do(desk.claim, ticket_id=t.id, slack_user_id=AGENT_MARCO),
        desk_env.do(desk.claim, ticket_id=t.id, slack_user_id=AGENT_ANA),
        return_exceptions=True,
    )
    wins = [r for r in results if isinstance(r, desk.ClaimResult)]
    losses = [r for r in results if isinstance(r, desk.AlreadyTaken)]
    assert len(wins) == 1 and len(losses) == 1
    assert losses[0].assignee is not None and losses[0].assignee.id == wins[0].agent.id
    assert (await desk_env.audit(t.id)).count("claimed") == 1


async def test_a_second_claim_names_the_owner(desk_env: DeskEnv) -> None:
    t = await desk_env.open()
    await desk_env.do(desk.claim, ticket_id=t.id, slack_user_id=AGENT_MARCO)
    with pytest.raises(desk.AlreadyTaken) as caught:
        await desk_env.do(desk.claim, ticket_id=t.id, slack_user_id=AGENT_ANA)
    assert caught.value.assignee is not None and caught.value.assignee.slack_user_id == AGENT_MARCO


async def test_claim_refuses_users_without_a_role_and_unknown_tickets(desk_env: DeskEnv) -> None:
    t = await desk_env.open()
    with pytest.raises(NotAnAgent):
        await desk_env.do(desk.claim, ticket_id=t.id, slack_user_id=STRANGER_SLACK)
    with pytest.raises(TicketGone):
        await desk_env.do(desk.claim, ticket_id=999, slack_user_id=AGENT_MARCO)
    assert (await desk_env.ticket(t.id)).status is TicketStatus.NEW


async def test_an_inactive_agent_cannot_claim(desk_env: DeskEnv) -> None:
    t = await desk_env.open()
    ana = await desk_env.agent_id(AGENT_ANA)
    async with desk_env.store.transaction() as tx:
        await tx.set_agent_active(ana, False)
    with pytest.raises(NotAnAgent):
        await desk_env.do(desk.claim, ticket_id=t.id, slack_user_id=AGENT_ANA)


async def test_a_closed_ticket_cannot_be_claimed(desk_env: DeskEnv) -> None:
    t = await desk_env.open()
    ana = await desk_env.agent_id(AGENT_ANA)
    async with desk_env.store.transaction() as tx:
        await tx.update_ticket(t.id, t.version, status=TicketStatus.CLOSED, assignee_id=ana)
    with pytest.raises(desk.AlreadyTaken):  # the lifecycle names the real cause: it has an owner
        await desk_env.do(desk.claim, ticket_id=t.id, slack_user_id=AGENT_MARCO)
    assert (await desk_env.ticket(t.id)).status is TicketStatus.CLOSED


async def test_credentials_reveal_is_for_the_assignee_audited_and_never_queued_in_clear(desk_env: DeskEnv) -> None:
    t = await desk_env.open()
    with pytest.raises(NotTheAssignee):
        await desk_env.do(desk.request_credentials, ticket_id=t.id, slack_user_id=AGENT_MARCO, channel="C1")
    await desk_env.do(desk.claim, ticket_id=t.id, slack_user_id=AGENT_MARCO)
    await desk_env.drain()
    with pytest.raises(NotTheAssignee):
        await desk_env.do(desk.request_credentials, ticket_id=t.id, slack_user_id=AGENT_ANA, channel="C1")
    count = await desk_env.do(desk.request_credentials, ticket_id=t.id, slack_user_id=AGENT_MARCO, channel="C1")
    assert count == 1
    rows = await desk_env.drain()
    [ephemeral] = payloads(rows, "ephemeral")
    assert ephemeral["credentials_of"] == t.id and PASSWORD not in str(ephemeral)
    assert (await desk_env.audit(t.id)).count("credentials_revealed") == 1


async def claimed(desk_env: DeskEnv) -> int:
    t = await desk_env.open()
    await desk_env.do(desk.claim, ticket_id=t.id, slack_user_id=AGENT_MARCO)
    await desk_env.drain()
    version = (await desk_env.ticket(t.id)).version
    async with desk_env.store.transaction() as tx:
        await tx.update_ticket(t.id, version, slack_channel="C0", slack_ts="1.1")
    return t.id


async def relay(
    desk_env: DeskEnv, text: str, user: str = AGENT_MARCO, event: str = "Ev1", thread_ts: str = "1.1"
) -> desk.RelayOutcome | None:
    message = ThreadMessage(user, "C0", thread_ts, f"2.{event}", text)
    return await desk_env.thread_message(message, event)


async def test_relay_sends_the_assignee_reply_to_the_client_html_escaped(desk_env: DeskEnv) -> None:
    await claimed(desk_env)
    assert await relay(desk_env, "usa &lt;b&gt; &amp; <https://x.mx|la guía>") is desk.RelayOutcome.SENT
    [sent] = payloads(await desk_env.drain(), "send")
    assert sent["chat_id"] == LAURA_ID
    assert "usa &lt;b&gt; &amp; la guía (https://x.mx)" in sent["text"]


async def test_relay_keeps_internal_notes_with_the_configured_prefix(desk_env: DeskEnv) -> None:
    ticket_id = await claimed(desk_env)
    assert await relay(desk_env, "  Nota: llamar al proveedor") is desk.RelayOutcome.INTERNAL
    desk_env.services.settings.internal_note_prefix = "interno:"
    assert await relay(desk_env, "interno: otro", event="Ev2") is desk.RelayOutcome.INTERNAL
    assert await relay(desk_env, "nota: ya no es prefijo", event="Ev3") is desk.RelayOutcome.SENT
    assert (await desk_env.audit(ticket_id)).count("internal_note") == 2


async def test_relay_refuses_strangers_and_keeps_other_agents_internal(desk_env: DeskEnv) -> None:
    ticket_id = await claimed(desk_env)
    assert await relay(desk_env, "hola", user=STRANGER_SLACK) is desk.RelayOutcome.REFUSED
    assert await relay(desk_env, "hola", user=QUALITY_SOFIA, event="Ev2") is desk.RelayOutcome.INTERNAL
    assert payloads(await desk_env.drain(), "send") == []
    assert "relay_refused" in await desk_env.audit(ticket_id)


async def test_relay_ignores_a_retried_event_and_other_threads(desk_env: DeskEnv) -> None:
    await claimed(desk_env)
    assert await relay(desk_env, "uno") is desk.RelayOutcome.SENT
    assert await relay(desk_env, "uno") is None  # the same event_id again: recognised at the inbox
    assert await relay(desk_env, "x", event="Ev9", thread_ts="9.9") is desk.RelayOutcome.NOT_A_TICKET
    assert len(payloads(await desk_env.drain(), "send")) == 1


async def test_relay_splits_a_long_reply_under_telegram_limits(desk_env: DeskEnv) -> None:
    await claimed(desk_env)
    await relay(desk_env, "x" * 8000)
    sent = payloads(await desk_env.drain(), "send")
    assert len(sent) == 3 and all(len(p["text"]) < 4096 for p in sent)


@pytest.mark.parametrize(
    ("typed", "plain"),
    [
        ("&lt;!channel&gt;", "<!channel>"),
        ("<@U0MARCO> mira", "mira"),
        ("<https://a.mx>", "https://a.mx"),
        ("<https://a.mx|aquí>", "aquí (https://a.mx)"),
        ("5 &gt; 3 &amp;&amp; 2 &lt; 4", "5 > 3 && 2 < 4"),
    ],
)
def test_slack_to_plain(typed: str, plain: str) -> None:
    assert desk.slack_to_plain(typed) == plain


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("<!channel>", "&lt;!channel&gt;"),
        ("<@U1>", "&lt;@U1&gt;"),
        ("a & b", "a &amp; b"),
        ("<http://e|bank.com>", "&lt;http://e|bank.com&gt;"),
    ],
)
def test_escape_mrkdwn_defuses_pings_mentions_and_links(raw: str, safe: str) -> None:
    assert escape_mrkdwn(raw) == safe
