"""E-mail intake end to end (P-IN-6): a message in the support mailbox becomes a ticket on the same desk, and the
conversation goes on by e-mail both ways. Real dovecot and a real SMTP server on loopback, the real bot."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from sandbox.demo import AGENT_MARCO, LAURA_ID
from sandbox.testing import running_world
from tests.e2e.email.conftest import MailWorld, mail_settings
from tests.email.messages import LAURA_MAIL, PDF, PNG, mail
from tests.email.servers import running_dovecot, running_smtp, text_of

pytestmark = pytest.mark.mailserver

HTML = (
    "<html><head><style>p {color: red}</style></head><body><p>No hay internet en <b>toda</b> la oficina.</p>"
    "<p>El firewall tiene la luz de alarma en rojo &amp; no responde.</p></body></html>"
)


async def test_an_html_mail_with_two_attachments_becomes_a_ticket_with_its_card(mail_world: MailWorld) -> None:
    w = mail_world
    services = w.world.bot.services
    assert services is not None
    arrived = w.world.clock() - timedelta(minutes=45)  # the mailbox got it before the bot read it
    first = mail(
        text=None, html=HTML, files=[("captura.png", "image/png", PNG), ("bitacora.pdf", "application/pdf", PDF)]
    )
    await w.dovecot.deliver(first, at=arrived)
    ticket = await w.one_ticket()

    # The deadline counts from the moment the mailbox received it (P-SLA-5), at the provisional severity.
    assert ticket.opened_at == arrived.replace(microsecond=0)
    assert ticket.response_due_at == services.calendar.add(ticket.opened_at, services.targets[ticket.severity])
    card = await w.world.team.card_for(ticket.number)
    shown = str(w.world.team.message(card).blocks)
    assert "Severidad por confirmar" in shown and LAURA_MAIL in shown
    assert "No hay internet en toda la oficina." in shown and "&amp; no responde" in shown and "color" not in shown
    names = [f["name"] for m in w.world.team.thread(card) for f in m.files]
    assert sorted(names) == ["bitacora.pdf", "captura.png"]

    # The automatic reply: number, deadline, the numbered question and the deep link; it threads under hers.
    [reply] = await w.smtp.wait_for(lambda: w.smtp.to(LAURA_MAIL), "the automatic reply")
    assert str(reply["Subject"]) == f"Re: [{ticket.number}] Sin internet en la oficina"
    assert reply["In-Reply-To"] == first["Message-ID"] and first["Message-ID"] in str(reply["References"])
    assert reply["Auto-Submitted"] == "auto-replied"
    body = text_of(reply)
    assert (
        ticket.number in body and "1. No funciona nada" in body and "https://t.me/IntecniaSoporteBot?start=sev-" in body
    )
    # Marked handled on the server once the ticket was committed.
    assert await w.until(lambda: w.handled_on_server(str(first["Message-ID"])), "the message marked handled")
    # Once Slack has the files, the next day's prune forgets their bytes (names and sizes stay).
    w.world.clock.advance(days=1)
    await w.world.fire_timers()
    async with w.store.transaction() as tx:
        kept = [await tx.get_mail_file(int(a.telegram_file_id.removeprefix("mail:")))
                for a in await tx.list_attachments(ticket.id)]  # fmt: skip
    assert kept == [None, None]


async def test_the_conversation_goes_on_by_mail_both_ways(mail_world: MailWorld) -> None:
    w = mail_world
    first = mail(subject="El firewall no responde")
    await w.dovecot.deliver(first)
    ticket = await w.one_ticket()
    card = await w.world.team.card_for(ticket.number)
    await w.world.team.click(card, "desk_claim", as_user=AGENT_MARCO)
    await w.world.team.reply_in_thread(card, "nota: revisar el contrato antes", as_user=AGENT_MARCO)
    await w.world.team.reply_in_thread(
        card, "Hola Laura, ¿puedes reiniciar el equipo <y> decirme?", as_user=AGENT_MARCO
    )

    def marcos() -> list[object]:
        return [m for m in w.smtp.to(LAURA_MAIL) if "reiniciar el equipo" in text_of(m)]

    [answer] = await w.smtp.wait_for(marcos, "Marco's reply by e-mail")
    assert not any("revisar el contrato" in text_of(m) for m in w.smtp.messages)  # the note stayed in Slack
    assert str(answer["Subject"]) == f"Re: [{ticket.number}] El firewall no responde"
    assert answer["In-Reply-To"] == first["Message-ID"] and str(first["Message-ID"]) in str(answer["References"])
    assert answer["Auto-Submitted"] is None  # a person wrote it
    assert "¿puedes reiniciar el equipo <y> decirme?" in text_of(answer)
    await w.world.settle()
    [relayed] = [m for m in w.world.team.thread(card) if "reiniciar el equipo" in m.text]
    assert "white_check_mark" in w.world.team.reactions(relayed)
    async with w.store.transaction() as tx:
        answered = await tx.get_ticket(ticket.id)
    assert answered is not None and answered.first_response_at is not None  # R-RESPONSE: it reached her

    # A file Marco drops in the thread reaches her as an attachment, with its name.
    await w.world.team.share_file(card, "diagrama.pdf", PDF, as_user=AGENT_MARCO, mimetype="application/pdf")

    def with_files() -> list[EmailMessage]:
        return [m for m in w.smtp.to(LAURA_MAIL) if list(m.iter_attachments())]

    [carrying] = await w.smtp.wait_for(with_files, "the file by e-mail")
    [attached] = list(carrying.iter_attachments())
    assert attached.get_filename() == "diagrama.pdf" and attached.get_content() == PDF

    # Her reply, with the quoted history her mail program adds, lands in the thread without it.
    quoted = (
        "Ya lo reinicié y sigue igual.\n\nSaludos,\nLaura Pérez\n\n"
        "El mar, 24 nov 2026 a las 10:30, Soporte Intecnia <soporte@intecnia.com.mx> escribió:\n"
        "> Hola Laura, ¿puedes reiniciar el equipo <y> decirme?\n> Marco\n"
    )
    her = mail(subject=str(answer["Subject"]), text=quoted, reply_to=answer)
    await w.dovecot.deliver(her)

    def in_thread() -> list[object]:
        return [m for m in w.world.team.thread(card) if "Ya lo reinicié y sigue igual." in m.text]

    [line] = await w.until(in_thread, "her reply in the thread")
    assert "escribió" not in line.text and "puedes reiniciar" not in line.text and "Saludos" not in line.text
    assert len(await w.tickets()) == 1


async def test_an_out_of_office_reply_opens_nothing_and_gets_no_answer(mail_world: MailWorld) -> None:
    w = mail_world
    away = mail(
        subject="Respuesta automática: Fuera de la oficina",
        text="Estoy fuera de la oficina hasta el lunes.",
        headers={"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"},
    )
    listed = mail(subject="Boletín", text="Novedades", headers={"Precedence": "list", "List-Id": "<x.lists.test>"})
    await w.dovecot.deliver(away)
    await w.dovecot.deliver(listed)
    for sent in (away, listed):
        assert await w.until(lambda s=sent: w.handled_on_server(str(s["Message-ID"])), "marked handled")
    assert await w.tickets() == [] and w.smtp.messages == []


async def test_an_unknown_sender_gets_one_reply_with_our_contact_details(mail_world: MailWorld) -> None:
    w = mail_world
    settings = w.world.settings
    for n in range(2):
        await w.dovecot.deliver(mail(sender="alguien@desconocida.test", name="Pedro", subject=f"Ayuda {n}"))
    await w.until(lambda: len(w.world.slack.top_level(settings.slack_support_channel)) >= 2, "desk notices")
    [reply] = await w.smtp.wait_for(lambda: w.smtp.to("alguien@desconocida.test"), "the polite reply")
    body = text_of(reply)
    assert settings.support_phones in body and settings.support_email in body  # P-CONTACT-1
    assert reply["Auto-Submitted"] == "auto-replied"
    assert await w.tickets() == []
    notices = [m.text for m in w.world.slack.top_level(settings.slack_support_channel)]
    assert sum("Correo sin cliente" in t for t in notices) == 2
    assert len(w.smtp.to("alguien@desconocida.test")) == 1  # one reply, not one per message


async def test_a_mailbox_without_idle_is_polled(tmp_path: Path) -> None:
    """IMAP IDLE where the server offers it, polling otherwise (IMAP_POLL_SECONDS)."""
    with running_dovecot(idle=False) as dovecot:
        async with running_smtp() as smtp:
            async with running_world(tmp_path, **{**mail_settings(dovecot, smtp), "imap_poll_seconds": 0.5}) as world:
                w = MailWorld(world, dovecot, smtp)
                assert world.bot.store is not None
                async with world.bot.store.transaction() as tx:
                    laura = await tx.get_contact_by_telegram_user(LAURA_ID)
                    assert laura is not None
                    await tx.set_contact_email(laura.id, LAURA_MAIL)
                first = mail(subject="Sondeo")
                await dovecot.deliver(first)
                ticket = await w.one_ticket()
                assert ticket.description.startswith("Sondeo")
                assert await w.until(lambda: w.handled_on_server(str(first["Message-ID"])), "marked handled")
