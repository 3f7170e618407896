"""After the ticket exists: /mis_tickets, /ticket N, /escalar N, /poliza (P-POL-8), /contacto, /ayuda."""

from __future__ import annotations

from bot.conversation import Text
from bot.delivery import Scheduler
from bot.domain.types import EscalationStatus, ServiceArea, Severity, TicketStatus
from bot.services import intake
from bot.services.events import MessageSent
from sandbox.demo import KEVIN_ID, LAURA_ID, NORTE_ID, STRANGER_ID
from storage.records import NewTicket, Ticket
from tests.services.test_intake_helpers import Env, command, env

__all__ = ["env", "new_ticket"]


async def new_ticket(e: Env, *, user: int = LAURA_ID, description: str = "El switch no levanta la VLAN 20.") -> Ticket:
    """A ticket of the user's company opened now (as the intake's confirm would)."""
    now = e.clock()
    async with e.services.store.transaction() as tx:
        contact = await tx.get_contact_by_telegram_user(user)
        assert contact is not None
        return await tx.create_ticket(
            NewTicket(
                client_id=contact.client_id,
                contact_id=contact.id,
                service_area=ServiceArea.SWITCHING,
                severity=Severity.HIGH,
                description=description,
                opened_at=now,
                telegram_chat_id=user,
                clock_started_at=now,
                response_due_at=e.services.calendar.add(now, e.services.targets[Severity.HIGH]),
            )
        )


async def test_my_tickets_lists_the_companys_open_tickets(env: Env) -> None:
    await env.say(command("mis_tickets"), LAURA_ID)
    assert await env.texts() == ["No tienes tickets abiertos."]
    first = await new_ticket(env, description="Primer <problema> & más")
    second = await new_ticket(env, user=KEVIN_ID)
    await env.say(command("mis_tickets"), LAURA_ID)
    [text] = await env.texts()
    assert text.index(second.number) < text.index(first.number)
    assert "recibido" in text and "Primer &lt;problema&gt; &amp; más" in text


async def test_ticket_detail_shows_status_assignee_and_deadline(env: Env) -> None:
    t = await new_ticket(env)
    for argument in (t.number, "1", t.number.lower()):
        await env.say(command("ticket", argument), LAURA_ID)
    texts = await env.texts()
    assert len(texts) == 3 and all(t.number in x and "todavía sin asignar" in x for x in texts)
    assert "martes 24 de noviembre" in texts[0] and "miércoles 25 de noviembre a las 12:15" in texts[0]


async def test_ticket_of_another_company_is_not_found(env: Env) -> None:
    t = await new_ticket(env)
    await env.say(command("ticket", t.number), NORTE_ID)
    await env.say(command("ticket", ""), LAURA_ID)
    await env.say(command("ticket", "<b>x</b>"), LAURA_ID)
    texts = await env.texts()
    assert f"No encuentro el ticket {t.number}" in texts[0]
    assert "/ticket SOP-2026-000123" in texts[1]
    assert "&lt;b&gt;x&lt;/b&gt;" in texts[2]


async def test_p_esc_1_escalar_asks_why_then_creates_a_request_for_the_managers(env: Env) -> None:
    t = await new_ticket(env)
    await env.say(command("escalar", "1"), LAURA_ID)
    assert "¿Por qué quieres escalarlo?" in (await env.texts())[0]
    await env.say(MessageSent(Text("Nadie me ha respondido")), LAURA_ID)
    async with env.services.store.transaction() as tx:
        [escalation] = await tx.list_escalations(t.id)
        actions = [a.action for a in await tx.list_audit(t.id)]
        assert await tx.get_draft(LAURA_ID) is None
    assert escalation.status is EscalationStatus.REQUESTED and escalation.to_level == 2
    assert escalation.requested_by_kind == "client" and escalation.reason == "Nadie me ha respondido"
    assert "escalation_requested" in actions
    rows = await env.outbox()
    assert any(r.kind == "dm" for r in rows)  # P-ESC-2: the quality manager decides in Slack
    assert any("Pedí escalar tu ticket" in str(r.payload.get("text")) for r in rows if r.kind == "send")


async def test_escalating_twice_is_refused_kindly(env: Env) -> None:
    await new_ticket(env)
    for _ in range(2):
        await env.say(command("escalar", "1"), LAURA_ID)
        await env.say(MessageSent(Text("Urge")), LAURA_ID)
    assert "no se puede escalar" in (await env.texts())[-1]


async def test_closed_ticket_cannot_be_escalated(env: Env) -> None:
    t = await new_ticket(env)
    async with env.services.store.transaction() as tx:
        await tx.update_ticket(t.id, t.version, status=TicketStatus.CLOSED)
    await env.say(command("escalar", "1"), LAURA_ID)
    assert "no se puede escalar" in (await env.texts())[0]
    assert await cr_draft(env) is None


async def cr_draft(env: Env) -> object:
    async with env.services.store.transaction() as tx:
        return await tx.get_draft(LAURA_ID)


async def test_p_pol_8_poliza_shows_the_certificate(env: Env) -> None:
    await env.say(command("poliza"), LAURA_ID)
    [text] = await env.texts()
    assert "POL-2026-0042" in text and "Empresarial" in text and "12.5 de 20" in text
    assert "FortiGate 60F" in text and "de marzo de 2027" in text


async def test_p_contact_1_contacto_and_ayuda_for_anyone(env: Env) -> None:
    await env.say(command("contacto"), STRANGER_ID)
    await env.say(command("ayuda"), LAURA_ID, lang="en")
    await env.say(command("ayuda"), STRANGER_ID, lang="es")
    contact, help_text, stranger_help = await env.texts()
    assert "soporte@intecnia.com.mx" in contact and "/reportar" in help_text
    assert "invitación" in stranger_help and "/reportar" not in stranger_help


async def test_requests_of_an_unknown_user_get_the_contact_card(env: Env) -> None:
    await env.say(command("mis_tickets"), STRANGER_ID)
    assert "invitación" in (await env.texts())[0]


async def test_an_unanswered_why_escalate_lapses_with_the_draft_expiry(env: Env) -> None:
    scheduler = Scheduler(env.services.store, clock=env.clock)
    intake.register_timers(scheduler, env.services)
    await new_ticket(env)
    await env.say(command("escalar", "1"), LAURA_ID)
    await env.outbox()
    env.clock.advance(hours=25)
    await scheduler.drain()
    assert await cr_draft(env) is None
    assert await env.texts() == []  # it lapses quietly; a later message is not taken as the reason
