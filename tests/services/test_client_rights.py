"""Who may act on a ticket from Telegram (P-ESC-2, P-CLOSE-2): the contact who reported it, or a contact the
company named to act on all its tickets. Anyone else is refused kindly, the refusal is audited, nothing moves."""

from __future__ import annotations

from typing import Any

from bot.conversation import Text
from bot.domain.types import EscalationStatus, TicketStatus
from bot.services import desk, desk_entry, desk_resolve
from bot.services.events import ButtonTapped, CardButton, ContactShared, MessageSent
from sandbox.demo import AGENT_MARCO, KEVIN_ID, LAURA_ID, NORTE_ID, STRANGER_SLACK
from storage.records import AuditEvent, Ticket
from tests.services.test_client_requests import new_ticket
from tests.services.test_intake_helpers import Env, command, env

__all__ = ["env"]

COLLEAGUE_ES = "lo reportó otra persona de tu empresa"
COLLEAGUE_EN = "Another person at your company reported"


async def resolved(e: Env, *, user: int = LAURA_ID) -> Ticket:
    """A ticket reported by `user`, claimed by Marco and resolved: it carries Resuelto / Reabrir / rating."""
    ticket = await new_ticket(e, user=user)
    s = e.services
    async with s.store.transaction() as tx:
        await desk.claim(tx, s, ticket_id=ticket.id, slack_user_id=AGENT_MARCO, at=e.clock())
    async with s.store.transaction() as tx:
        await desk_resolve.resolve(
            tx, s, ticket_id=ticket.id, slack_user_id=AGENT_MARCO, solution="Se reinició el switch",
            hours={}, charged=True, at=e.clock(),
        )  # fmt: skip
    await e.outbox()
    return await current(e, ticket.id)


async def current(e: Env, ticket_id: int) -> Ticket:
    async with e.services.store.transaction() as tx:
        ticket = await tx.get_ticket(ticket_id)
    assert ticket is not None
    return ticket


async def audit(e: Env, ticket_id: int) -> list[AuditEvent]:
    async with e.services.store.transaction() as tx:
        return await tx.list_audit(ticket_id)


async def refusals(e: Env, ticket_id: int) -> list[dict[str, Any]]:
    return [
        {"actor": ev.actor_id, **ev.data} for ev in await audit(e, ticket_id) if ev.action == "client_action_refused"
    ]


async def tap(e: Env, user: int, data: str, *, lang: str = "es") -> str | None:
    """Tap a button; returns the toast the tap's answer shows."""
    await e.say(ButtonTapped(data, f"q-{e.updates}"), user, lang=lang)
    [answer] = [r for r in await e.outbox() if r.kind == "answer"]
    return answer.payload.get("text")


async def act_for_company(e: Env, user: int, value: bool = True) -> None:
    async with e.services.store.transaction() as tx:
        contact = await tx.get_contact_by_telegram_user(user)
        assert contact is not None
        await tx.update_contact(contact.id, acts_for_company=value)


async def test_p_close_2_a_colleague_cannot_rate_reopen_or_confirm(env: Env) -> None:
    """P-CLOSE-2: Kevin (same company) taps the buttons under Laura's solution: each is refused in his
    language, audited with the reason, and the ticket does not move."""
    t = await resolved(env)
    actions = [a.action for a in await audit(env, t.id)]
    for data in (f"desk:rate:{t.id}:1", f"desk:reopen:{t.id}", f"desk:ok:{t.id}"):
        toast = await tap(env, KEVIN_ID, data, lang="en")
        assert toast is not None and COLLEAGUE_EN in toast
    after = await current(env, t.id)
    assert after.status is TicketStatus.RESOLVED and after.rating is None and after.version == t.version
    assert [r["attempted"] for r in await refusals(env, t.id)] == ["rate", "reopen", "confirm"]
    assert {(r["actor"], r["reason"]) for r in await refusals(env, t.id)} == {(str(KEVIN_ID), "not_the_reporter")}
    assert [a.action for a in await audit(env, t.id)][: len(actions)] == actions
    # The reporter still may.
    assert await tap(env, LAURA_ID, f"desk:rate:{t.id}:4") is None
    assert (await current(env, t.id)).rating == 4


async def test_p_close_2_the_refusal_is_spanish_for_a_spanish_colleague(env: Env) -> None:
    t = await resolved(env, user=KEVIN_ID)
    toast = await tap(env, LAURA_ID, f"desk:reopen:{t.id}")
    assert toast is not None and COLLEAGUE_ES in toast and len(toast) <= 200
    assert (await current(env, t.id)).status is TicketStatus.RESOLVED


async def test_another_companys_tap_is_refused_and_audited(env: Env) -> None:
    t = await resolved(env)
    toast = await tap(env, NORTE_ID, f"desk:ok:{t.id}")
    assert toast == "Ese ticket no es de tu empresa."
    assert [(r["attempted"], r["reason"]) for r in await refusals(env, t.id)] == [("confirm", "other_company")]
    assert (await current(env, t.id)).status is TicketStatus.RESOLVED


async def test_p_esc_2_a_colleague_cannot_escalate(env: Env) -> None:
    """P-ESC-2: /escalar on a colleague's ticket is refused before the reason is asked, and audited."""
    t = await new_ticket(env)
    await env.say(command("escalar", t.number), KEVIN_ID, lang="en")
    [text] = await env.texts()
    assert COLLEAGUE_EN in text and t.number in text
    async with env.services.store.transaction() as tx:
        assert await tx.get_draft(KEVIN_ID) is None
        assert await tx.list_escalations(t.id) == []
    assert [(r["attempted"], r["reason"]) for r in await refusals(env, t.id)] == [("escalate", "not_the_reporter")]


async def test_p_esc_2_a_right_taken_away_before_the_reason_is_refused_too(env: Env) -> None:
    """P-ESC-2: the right is checked again when the reason arrives (the request itself enforces it)."""
    t = await new_ticket(env)
    await act_for_company(env, KEVIN_ID)
    await env.say(command("escalar", "1"), KEVIN_ID)
    assert "¿Por qué quieres escalarlo?" in (await env.texts())[0]
    await act_for_company(env, KEVIN_ID, False)
    await env.say(MessageSent(Text("Nadie responde")), KEVIN_ID)
    [text] = await env.texts()
    assert COLLEAGUE_ES in text
    async with env.services.store.transaction() as tx:
        assert await tx.list_escalations(t.id) == []
        assert await tx.get_draft(KEVIN_ID) is None
    assert [r["attempted"] for r in await refusals(env, t.id)] == ["escalate"]


async def test_p_esc_2_p_close_2_a_contact_acting_for_the_company_may(env: Env) -> None:
    """P-ESC-2, P-CLOSE-2: a contact the company named acts on every ticket of the company."""
    await act_for_company(env, KEVIN_ID)
    t = await resolved(env)
    assert await tap(env, KEVIN_ID, f"desk:rate:{t.id}:5", lang="en") is None
    assert await tap(env, KEVIN_ID, f"desk:reopen:{t.id}", lang="en") is None
    after = await current(env, t.id)
    assert after.rating == 5 and after.status is TicketStatus.ASSIGNED
    await env.say(command("escalar", t.number), KEVIN_ID, lang="en")
    await env.say(MessageSent(Text("Still down")), KEVIN_ID, lang="en")
    async with env.services.store.transaction() as tx:
        [esc] = await tx.list_escalations(t.id)
    assert esc.status is EscalationStatus.REQUESTED and esc.requested_by_id == str(KEVIN_ID)
    assert await refusals(env, t.id) == []


async def test_colleagues_may_still_read_the_companys_tickets(env: Env) -> None:
    """Reading changes nothing: /ticket N and /mis_tickets stay open to the whole company."""
    t = await new_ticket(env)
    await env.say(command("ticket", t.number), KEVIN_ID)
    [text] = await env.texts()
    assert t.number in text and "todavía sin asignar" in text
    assert await refusals(env, t.id) == []


async def test_a_deactivated_contact_is_a_stranger_and_cannot_link_again_by_phone(env: Env) -> None:
    t = await resolved(env)
    async with env.services.store.transaction() as tx:
        laura = await tx.get_contact_by_telegram_user(LAURA_ID)
        assert laura is not None
        await tx.deactivate_contact(laura.id)
    assert await tap(env, LAURA_ID, f"desk:ok:{t.id}") == "Ese ticket no es de tu empresa."
    assert [r["reason"] for r in await refusals(env, t.id)] == ["not_a_contact"]
    await env.say(ContactShared("+52 222 123 4567", LAURA_ID), LAURA_ID)
    async with env.services.store.transaction() as tx:
        assert await tx.get_contact_by_telegram_user(LAURA_ID) is None
    assert "No encuentro ese número" in (await env.texts())[-1]


async def test_slack_role_refusals_are_audited(env: Env) -> None:
    """Slack keeps its role checks; a refused button leaves an audit row too."""
    t = await new_ticket(env)
    await desk_entry.handle_action(env.services, None, CardButton(STRANGER_SLACK, desk_entry.CLAIM, t.id, "C1"))
    [row] = [ev for ev in await audit(env, t.id) if ev.action == "desk_action_refused"]
    assert row.actor_kind == "agent" and row.actor_id == STRANGER_SLACK
    assert row.data == {"attempted": "claim", "reason": "NotAnAgent"}
    assert (await current(env, t.id)).assignee_id is None


async def test_p_close_2_a_confirmation_by_a_contact_acting_for_the_company_names_them(env: Env) -> None:
    """P-CLOSE-2: the audit says who closed it (Kevin for the company), not the reporter's chat."""
    await act_for_company(env, KEVIN_ID)
    t = await resolved(env)
    assert await tap(env, KEVIN_ID, f"desk:ok:{t.id}", lang="en") is None
    assert (await current(env, t.id)).status is TicketStatus.CLOSED
    [closed] = [ev for ev in await audit(env, t.id) if ev.action == "client_confirmed"]
    assert (closed.actor_kind, closed.actor_id) == ("client", str(KEVIN_ID))
