"""Raw messages to MailReceived: the body from text or HTML, files with their names, threading headers, and the
machines' messages told from people's (RFC 3834, lists, bounces, our own address)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage

from handlers.email.parse import html_to_text, parse_message
from tests.email.messages import LAURA_MAIL, PDF, PNG, mail

AT = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
OWN = frozenset({"soporte@intecnia.com.mx"})


def parse(msg: EmailMessage | bytes, **kwargs: str):  # type: ignore[no-untyped-def]
    raw = msg if isinstance(msg, bytes) else msg.as_bytes()
    return parse_message(raw, AT, OWN, **kwargs)


def test_a_plain_message_gives_its_sender_subject_body_and_id() -> None:
    msg = mail(subject="Sin  internet   en la oficina", message_id="<abc@comercializadora.test>")
    got = parse(msg)
    assert got.message_id == "<abc@comercializadora.test>" and got.address == LAURA_MAIL and got.name == "Laura Pérez"
    assert got.subject == "Sin internet en la oficina" and got.text == "No hay internet en toda la oficina desde las 9."
    assert got.automatic is None and got.files == () and got.arrived_at == AT


def test_an_html_only_body_is_read_as_text_without_markup_scripts_or_styles() -> None:
    html = (
        "<html><head><style>.x{color:red}</style><script>alert(1)</script></head><body>"
        "<div>Hola,</div><p>el <b>firewall</b> no&nbsp;responde &amp; parpadea.</p><ul><li>uno</li><li>dos</li></ul>"
        "</body></html>"
    )
    got = parse(mail(text=None, html=html))
    assert got.text == "Hola,\n\nel firewall no responde & parpadea.\n\n- uno\n\n- dos"
    assert html_to_text("<p>a<br>b</p>") == "a\nb"


def test_the_text_part_wins_over_the_html_alternative() -> None:
    got = parse(mail(text="texto plano", html="<p>versión html</p>"))
    assert got.text == "texto plano"


def test_attachments_and_inline_images_are_files_with_their_names() -> None:
    msg = mail(files=[("captura.png", "image/png", PNG), ("bitacora.pdf", "application/pdf", PDF)])
    inline = EmailMessage()
    inline.set_content(b"\x89PNG inline", maintype="image", subtype="png", disposition="inline")
    msg.attach(inline)
    got = parse(msg)
    assert [(f.name, f.mime) for f in got.files] == [
        ("captura.png", "image/png"), ("bitacora.pdf", "application/pdf"), ("adjunto-4.png", "image/png"),
    ]  # fmt: skip
    assert got.files[0].content == PNG and got.files[1].content == PDF


def test_replies_name_the_messages_they_answer_newest_first() -> None:
    first = mail(message_id="<1@x>")
    second = mail(reply_to=first, message_id="<2@x>")
    third = mail(reply_to=second)
    assert parse(third).answers == ("<2@x>", "<1@x>")


def test_a_message_without_an_id_gets_the_mailbox_name_or_a_stable_one() -> None:
    msg = mail()
    del msg["Message-ID"]
    assert parse(msg, fallback_id="<imap-INBOX-7@nomid>").message_id == "<imap-INBOX-7@nomid>"
    assert parse(msg).message_id == parse(msg).message_id and parse(msg).message_id.endswith("@no-message-id>")


def test_machines_are_told_from_people() -> None:
    cases = {
        "auto-submitted: auto-replied": {"Auto-Submitted": "auto-replied"},
        "precedence: bulk": {"Precedence": "bulk"},
        "mailing list": {"List-Id": "<ofertas.lista.test>"},
        "x-autoreply": {"X-Autoreply": "yes"},
    }
    for reason, headers in cases.items():
        assert parse(mail(headers=headers)).automatic == reason
    assert parse(mail(headers={"Auto-Submitted": "no"})).automatic is None
    assert parse(mail(sender="MAILER-DAEMON@mx.test", name="")).automatic == "delivery report"
    assert parse(mail(sender="soporte@intecnia.com.mx", name="")).automatic == "our own address"
    assert parse(mail(headers={"Return-Path": "<>"})).automatic == "null sender"


def test_a_delivery_report_names_the_addresses_that_failed() -> None:
    raw = (
        b"From: Mail Delivery System <MAILER-DAEMON@mx.test>\r\nTo: soporte@intecnia.com.mx\r\n"
        b"Subject: Undelivered Mail\r\nMessage-ID: <dsn1@mx.test>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\nNo se pudo entregar.\r\n"
        b"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.test\r\n\r\n"
        b"Final-Recipient: rfc822; Laura.Perez@Comercializadora.test\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        b"Final-Recipient: rfc822; otra@x.test\r\nAction: delayed\r\nStatus: 4.0.0\r\n\r\n"
        b"--B--\r\n"
    )
    got = parse(raw)
    assert got.bounced == (LAURA_MAIL,) and got.automatic == "delivery report"
    header_only = parse(mail(sender="postmaster@mx.test", headers={"X-Failed-Recipients": "a@b.test, c@d.test"}))
    assert header_only.bounced == ("a@b.test", "c@d.test")
