"""The same policy by e-mail (P-IN-6): the severity question, the consultant's change of severity, P-CLOSE-3's
reminders, contract refusals, passwords never stored, bounces and floods, and "correo sin cliente"."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.domain.types import Severity, TicketStatus
from sandbox.demo import AGENT_MARCO, LAURA_ID, NORTE_ID, STRANGER_SLACK
from sandbox.slack.driver import Card
from sandbox.testing import MEXICO
from tests.e2e.email.conftest import MailWorld
from tests.email.messages import LAURA_MAIL, mail
from tests.email.servers import text_of

pytestmark = pytest.mark.mailserver


async def test_the_client_answers_the_severity_question_by_mail(mail_world: MailWorld) -> None:
    w = mail_world
    services = w.world.bot.services
    assert services is not None
    first = mail(subject="Caída total")
    await w.dovecot.deliver(first)
    ticket = await w.one_ticket()
    [auto] = await w.smtp.wait_for(lambda: w.smtp.to(LAURA_MAIL), "the automatic reply")
    await w.dovecot.deliver(mail(subject=str(auto["Subject"]), text="1\n\nEl mar escribió:\n> ...", reply_to=auto))

    async def severe() -> bool:
        async with w.store.transaction() as tx:
            found = await tx.get_ticket(ticket.id)
        return found is not None and found.severity is Severity.CRITICAL

    await w.until(severe, "severity 1")
    async with w.store.transaction() as tx:
        now = await tx.get_ticket(ticket.id)
        assert now is not None
        mail_ticket = await tx.get_mail_ticket(ticket.id)
    assert mail_ticket is not None and not mail_ticket.severity_pending
    # The deadline is recomputed from the same start: the moment the mailbox received the message.
    assert now.response_due_at == services.calendar.add(now.opened_at, services.targets[Severity.CRITICAL])
    card = await w.world.team.card_for(ticket.number)
    assert "Severidad 1" in str(w.world.team.message(card).blocks)
    assert any("respondió la pregunta de severidad" in m.text for m in w.world.team.thread(card))
    confirmed = await w.smtp.wait_for(
        lambda: [m for m in w.smtp.to(LAURA_MAIL) if "severidad 1 (crítica)" in text_of(m)], "the confirmation"
    )
    assert confirmed


async def test_a_consultant_settles_a_severity_to_be_confirmed(mail_world: MailWorld) -> None:
    w = mail_world
    await w.dovecot.deliver(mail(subject="Duda sobre el reporte"))
    ticket = await w.one_ticket()
    card = await w.world.team.card_for(ticket.number)
    await w.world.team.click(card, "desk_claim", as_user=AGENT_MARCO)
    await w.world.team.click(card, "desk_severity", as_user=AGENT_MARCO)
    modal = await w.world.team.modal(AGENT_MARCO)
    options = [o["value"] for o in modal.blocks[0]["element"]["options"]]
    assert options == ["1", "2", "3", "4"]  # "por confirmar": every severity, the provisional one included
    values = {"severity": {"value": str(int(ticket.severity))}, "reason": {"value": "Confirmado por teléfono"}}
    await w.world.team.submit(modal, values, as_user=AGENT_MARCO)
    await w.world.settle()
    shown = str(w.world.team.message(card).blocks)
    assert "por confirmar" not in shown and f"Severidad {int(ticket.severity)}" in shown


async def test_the_three_reminders_and_the_closing_go_by_mail(mail_world: MailWorld) -> None:
    w = mail_world
    await w.dovecot.deliver(mail(subject="No imprime"))
    ticket = await w.one_ticket()
    card = await w.world.team.card_for(ticket.number)
    await w.world.team.click(card, "desk_claim", as_user=AGENT_MARCO)
    await w.world.team.click(card, "desk_ask", as_user=AGENT_MARCO)
    modal = await w.world.team.modal(AGENT_MARCO)
    await w.world.team.submit(modal, {"question": {"value": "¿Qué modelo de impresora es?"}}, as_user=AGENT_MARCO)
    await w.smtp.wait_for(lambda: [m for m in w.smtp.messages if "¿Qué modelo" in text_of(m)], "the question")
    for day in (25, 26, 27):
        w.world.clock.set(datetime(2026, 11, day, 10, 20, tzinfo=MEXICO))
        await w.world.fire_timers()
    w.world.clock.set(datetime(2026, 11, 30, 10, 20, tzinfo=MEXICO))
    await w.world.fire_timers()

    def reminders() -> list[str]:
        return [text_of(m) for m in w.smtp.to(LAURA_MAIL) if "Seguimos esperando tu respuesta" in text_of(m)]

    sent = await w.smtp.wait_for(lambda: len(reminders()) == 3 and reminders(), "three reminders")
    assert [("aviso 1 de 3" in t, "aviso 2 de 3" in t, "aviso 3 de 3" in t) for t in sent] == [
        (True, False, False), (False, True, False), (False, False, True),
    ]  # fmt: skip
    closing = await w.smtp.wait_for(
        lambda: [m for m in w.smtp.to(LAURA_MAIL) if "Cerramos tu ticket" in text_of(m)], "the closing"
    )
    assert "escríbenos de nuevo" in text_of(closing[0]) and "toca" not in text_of(closing[0])
    assert all(ticket.number in str(m["Subject"]) for m in w.smtp.to(LAURA_MAIL))
    texts = [m.text for m in w.world.team.thread(card)]
    assert sum("enviado al cliente" in t for t in texts) == 3  # "Aviso n de 3 enviado" once the server took it


async def test_a_telegram_ticket_hears_its_reminders_by_mail_too(mail_world: MailWorld) -> None:
    """P-CLOSE-3: "por teléfono o correo electrónico": a contact with an address gets them both ways."""
    from tests.e2e.slack.helpers import open_ticket

    w = mail_world
    laura = w.world.client(LAURA_ID)
    await laura.send("/start")
    opened = await open_ticket(w.world)
    card = await w.world.team.card_for(opened.number)
    await w.world.team.click(card, "desk_claim", as_user=AGENT_MARCO)
    await w.world.team.click(card, "desk_ask", as_user=AGENT_MARCO)
    modal = await w.world.team.modal(AGENT_MARCO)
    await w.world.team.submit(modal, {"question": {"value": "¿Qué luz está encendida?"}}, as_user=AGENT_MARCO)
    w.world.clock.set(datetime(2026, 11, 25, 10, 20, tzinfo=MEXICO))
    await w.world.fire_timers()
    await laura.wait_for_text("aviso 1 de 3")
    [by_mail] = await w.smtp.wait_for(lambda: w.smtp.to(LAURA_MAIL), "the reminder by e-mail")
    assert "aviso 1 de 3" in text_of(by_mail) and opened.number in str(by_mail["Subject"])


async def test_an_expired_contract_is_refused_by_mail(mail_world: MailWorld) -> None:
    """P-POL-3, R-CONTACT: no ticket, the reason, the phones and the e-mail."""
    w = mail_world
    async with w.store.transaction() as tx:
        jorge = await tx.get_contact_by_telegram_user(NORTE_ID)
        assert jorge is not None
        await tx.set_contact_email(jorge.id, "jorge@norte.test")
    await w.dovecot.deliver(mail(sender="jorge@norte.test", name="Jorge", subject="Ayuda"))
    [refusal] = await w.smtp.wait_for(lambda: w.smtp.to("jorge@norte.test"), "the refusal")
    body = text_of(refusal)
    assert "vencida" in body and w.world.settings.support_phones in body and w.world.settings.support_email in body
    assert await w.tickets() == []


async def test_a_password_sent_by_mail_is_never_stored_in_clear(mail_world: MailWorld) -> None:
    """P-IN-3: the client is told to use the bot's secure step or the phone instead."""
    w = mail_world
    secret = "Zq81#mailpass"
    await w.dovecot.deliver(mail(subject="Acceso remoto", text=f"El TeamViewer es 123 456 789, contraseña: {secret}"))
    ticket = await w.one_ticket()
    assert secret not in ticket.description and "[retirada por seguridad]" in ticket.description
    [auto] = await w.smtp.wait_for(lambda: w.smtp.to(LAURA_MAIL), "the automatic reply")
    assert "paso seguro" in text_of(auto)
    card = await w.world.team.card_for(ticket.number)
    assert secret not in str(w.world.team.message(card).blocks)
    assert any("traía una contraseña" in m.text for m in w.world.team.thread(card))
    await w.world.bot.stop()  # everything flushed to the files
    database = w.world.settings.database_path
    for path in (database, database.with_name(database.name + "-wal")):
        if path.exists():
            assert secret.encode() not in path.read_bytes(), path
    await w.world.restart_bot()


async def test_a_bounce_marks_the_address_failing_and_tells_the_desk(mail_world: MailWorld) -> None:
    w = mail_world
    await w.dovecot.deliver(mail(subject="Sin red"))
    ticket = await w.one_ticket()
    card = await w.world.team.card_for(ticket.number)
    report = mail(sender="MAILER-DAEMON@mx.comercializadora.test", name="Mail Delivery System",
                  subject="Undelivered Mail Returned to Sender", text="This is the mail system.",
                  headers={"X-Failed-Recipients": LAURA_MAIL, "Auto-Submitted": "auto-replied"})  # fmt: skip
    await w.dovecot.deliver(report)
    await w.until(lambda: any("rebotó" in m.text for m in w.world.team.thread(card)), "the desk told")
    async with w.store.transaction() as tx:
        [laura] = await tx.find_contacts_by_email(LAURA_MAIL)
    assert laura.email_failing_since is not None
    assert len(await w.tickets()) == 1  # a bounce opens nothing
    before = len(w.smtp.messages)
    await w.world.team.click(card, "desk_claim", as_user=AGENT_MARCO)
    await w.world.settle()
    assert len(w.smtp.messages) == before  # nothing more is sent to a failing address
    assert any("está fallando" in m.text for m in w.world.team.thread(card))


async def test_a_flood_opens_at_most_the_tickets_an_hour_allows(mail_world: MailWorld) -> None:
    w = mail_world
    limit = w.world.settings.mail_max_tickets_per_hour
    for n in range(limit + 2):
        await w.dovecot.deliver(mail(subject=f"Reporte {n}"))
    await w.until(
        lambda: len([m for m in w.world.slack.top_level(w.world.settings.slack_support_channel)
                     if "Correo sin cliente" in m.text]) == 2,
        "the held messages in the desk's list",
    )  # fmt: skip
    assert len(await w.tickets()) == limit
    async with w.store.transaction() as tx:
        held = await tx.list_unmatched_mail()
    assert [m.reason.value for m in held] == ["flood", "flood"]


async def test_the_desk_attaches_mail_without_a_client_to_a_company(mail_world: MailWorld) -> None:
    """ "Correo sin cliente": the notice's button, a modal to pick the company, and the ticket under the policy."""
    w = mail_world
    await w.dovecot.deliver(mail(sender="nuevo@comercializadora.test", name="Rosa Díaz", subject="No hay red"))
    await w.smtp.wait_for(lambda: w.smtp.to("nuevo@comercializadora.test"), "the polite reply")
    channel = w.world.settings.slack_support_channel
    [notice] = [m for m in w.world.slack.top_level(channel) if "Correo sin cliente" in m.text]
    await w.world.team.click(Card(notice.channel, notice.ts), "desk_mail_attach", as_user=STRANGER_SLACK)
    assert await w.tickets() == []  # someone without a role attaches nothing
    await w.world.team.click(Card(notice.channel, notice.ts), "desk_mail_attach", as_user=AGENT_MARCO)
    modal = await w.world.team.modal(AGENT_MARCO)
    assert "nuevo@comercializadora.test" in str(modal.blocks)
    values = {"client": {"value": str(w.world.demo.client_id)}, "name": {"value": "Rosa Díaz"}}
    await w.world.team.submit(modal, values, as_user=AGENT_MARCO)
    [ticket] = await w.tickets()
    assert ticket.status is TicketStatus.NEW
    await w.world.settle()
    assert ticket.number in w.world.team.message(Card(notice.channel, notice.ts)).text  # the notice says where
    card = await w.world.team.card_for(ticket.number)
    assert "nuevo@comercializadora.test" in str(w.world.team.message(card).blocks)
    created = await w.smtp.wait_for(
        lambda: [m for m in w.smtp.to("nuevo@comercializadora.test") if ticket.number in str(m["Subject"])],
        "the ticket's reply",
    )
    assert "Hola, Rosa:" in text_of(created[0])
    async with w.store.transaction() as tx:
        [rosa] = await tx.find_contacts_by_email("nuevo@comercializadora.test")
        assert rosa.client_id == w.world.demo.client_id and rosa.name == "Rosa Díaz"
        assert await tx.list_unmatched_mail() == []


async def test_the_deep_link_asks_the_severity_on_telegram(mail_world: MailWorld) -> None:
    """R-SEVERITY: a contact who uses Telegram answers with one tap; a stranger's tap changes nothing."""
    w = mail_world
    await w.dovecot.deliver(mail(subject="Se cayó el conmutador"))
    ticket = await w.one_ticket()
    [auto] = await w.smtp.wait_for(lambda: w.smtp.to(LAURA_MAIL), "the automatic reply")
    link = next(word for word in text_of(auto).split() if word.startswith("https://t.me/"))
    argument = link.split("?start=", 1)[1]
    stranger = w.world.client(5550009)
    await stranger.send(f"/start {argument}")
    assert not any("recibimos por correo" in text for text in stranger.texts())  # only the ticket's client
    laura = w.world.client(LAURA_ID)
    await laura.send(f"/start {argument}")
    asked = await laura.wait_for_text("recibimos por correo")
    assert [b["callback_data"] for row in asked["buttons"] for b in row] == [
        f"ms:{ticket.id}:{n}" for n in (1, 2, 3, 4)
    ]
    await laura.tap(f"ms:{ticket.id}:2")
    await laura.wait_for_text("severidad 2 (alta)")
    async with w.store.transaction() as tx:
        now = await tx.get_ticket(ticket.id)
    assert now is not None and now.severity is Severity.HIGH
    asked_before = sum("recibimos por correo" in text for text in laura.texts())
    await laura.send(f"/start {argument}")  # answered already: the link only greets now
    assert sum("recibimos por correo" in text for text in laura.texts()) == asked_before
    card = await w.world.team.card_for(ticket.number)
    assert "Severidad 2" in str(w.world.team.message(card).blocks)


async def test_old_unread_mail_opens_nothing_and_gets_no_reply(mail_world: MailWorld) -> None:
    """A first start on a mailbox full of unread mail must not answer weeks-old messages out of the blue."""
    w = mail_world
    old = mail(subject="De hace un mes")
    await w.dovecot.deliver(old, at=w.world.clock() - timedelta(days=30))
    await w.until(lambda: w.handled_on_server(str(old["Message-ID"])), "marked handled")
    async with w.store.transaction() as tx:
        [kept] = await tx.list_unmatched_mail()
    assert kept.reason.value == "old" and await w.tickets() == [] and w.smtp.messages == []
