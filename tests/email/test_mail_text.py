"""What the bot reads out of a reply: the new part only, passwords out, the severity answer, subjects."""

from __future__ import annotations

from bot.services.mail_text import (
    REDACTED,
    clean_subject,
    plain_from_html,
    redact_secrets,
    reply_subject,
    severity_answer,
    strip_reply,
    ticket_numbers,
)


def test_quoted_history_and_signatures_are_stripped() -> None:
    gmail = (
        "Ya lo reinicié y sigue igual.\n\nSaludos,\nLaura Pérez\n\n"
        "El mar, 24 nov 2026 a las 10:30, Soporte Intecnia <soporte@intecnia.com.mx>\nescribió:\n> Hola\n> Marco\n"
    )
    outlook = "Sigue fallando.\n\n-----Mensaje original-----\nDe: Soporte\nEnviado: martes\n"
    outlook_es = "Listo.\n\nDe: Soporte Intecnia <soporte@intecnia.com.mx>\nEnviado: martes\nAsunto: x\n\ntexto\n"
    english = "Thanks, it works now.\n\nOn Tue, Nov 24, 2026 at 10:30 AM Support <s@x.mx> wrote:\n> hello\n"
    dashes = "Sigue fallando\n\n--\nLaura\nGerente de sistemas\n"
    assert strip_reply(gmail) == "Ya lo reinicié y sigue igual."
    assert strip_reply(outlook) == "Sigue fallando."
    assert strip_reply(outlook_es) == "Listo."
    assert strip_reply(english) == "Thanks, it works now."
    assert strip_reply(dashes) == "Sigue fallando"
    assert strip_reply("") == ""


def test_passwords_are_taken_out_wherever_they_are_written() -> None:
    text, found = redact_secrets(
        "El ID es 123 456 789 y la contraseña: k9#Lm2, gracias.\nPassword = abc123\nla clave de TeamViewer es zz99"
    )
    assert found and "k9#Lm2" not in text and "abc123" not in text and "zz99" not in text
    assert text.count(REDACTED) == 3 and "123 456 789" in text
    assert redact_secrets("Nada secreto aquí") == ("Nada secreto aquí", False)


def test_the_severity_answer_is_the_number_a_reply_starts_with() -> None:
    assert [severity_answer(t) for t in ("2", "La 2.", " 3) impacto medio", "opción 1", "\n\n4\nsaludos")] == [
        2, 2, 3, 1, 4,
    ]  # fmt: skip
    assert [severity_answer(t) for t in ("hola 2", "5", "12 usuarios sin red", "")] == [None, None, None, None]


def test_subjects_keep_the_ticket_number_once() -> None:
    assert clean_subject("RE: Fwd: [SOP-2026-000001] Sin internet") == "Sin internet"
    assert (
        reply_subject("SOP-2026-000001", "Re: [SOP-2026-000001] Sin internet") == "Re: [SOP-2026-000001] Sin internet"
    )
    assert reply_subject("SOP-2026-000001", "") == "[SOP-2026-000001]"
    assert ticket_numbers("Re: [SOP-2026-000001] y [SOP-2026-000002]") == ["SOP-2026-000001", "SOP-2026-000002"]


def test_catalogue_html_becomes_mail_text() -> None:
    html = '<b>Marco</b> sobre tu ticket SOP-1:\nRevisa <a href="https://x.test/a?b=1&amp;c=2">esto</a> &lt;ya&gt;'
    assert plain_from_html(html) == "Marco sobre tu ticket SOP-1:\nRevisa esto (https://x.test/a?b=1&c=2) <ya>"
