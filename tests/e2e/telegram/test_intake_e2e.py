"""The guided intake over the Telegram stand-in, end to end: from /start to a ticket with its card (issue 4)."""

from __future__ import annotations

from datetime import datetime

from bot.domain.types import Severity, TicketStatus
from sandbox.demo import KEVIN_ID, LAURA_ID
from sandbox.testing import MEXICO, World
from storage.records import CredentialKind
from tests.e2e.telegram.helpers import (
    DESCRIPTION,
    TV_PASSWORD,
    draft,
    store,
    tap,
    tickets,
    to_description,
    to_summary_remote,
)


async def test_p_in_1_remote_intake_opens_a_complete_ticket(world: World) -> None:
    laura = world.client(LAURA_ID)
    await laura.send("/start")
    assert "¡Hola, Laura!" in laura.last_text()
    assert "12.5 de 20 horas" in laura.last_text()
    await laura.tap("m:report")
    assert laura.last_text() == "¿Sobre qué servicio es tu reporte?"
    await tap(laura, "a.firewall")
    assert "FortiGate 60F — oficina Puebla" in [label for label, _ in laura.last_buttons()]
    await tap(laura, f"p.{world.demo.products['fortigate60']}")
    assert laura.last_text() == "¿El servicio está completamente caído?"
    await tap(laura, "t.down")
    await tap(laura, "t.whole_company")
    assert "severidad 1 (crítica)" in laura.last_text() and "8 horas hábiles" in laura.last_text()
    await laura.send(DESCRIPTION)
    assert "¿Desde cuándo ocurre?" in laura.last_text()
    await laura.send("desde hoy a las 9")
    assert "Anotado: desde hoy, martes 24 de noviembre, a las 09:00." in laura.last_text()
    await laura.send_photo()
    await laura.send_photo()
    assert "Recibí 2 archivos" in laura.last_text()
    await tap(laura, "ok")
    await tap(laura, "acc.remote")
    await laura.send("1 234 567 890")
    password = await laura.send(TV_PASSWORD)
    # P-IN-3: the message with the password is gone from the chat; P-IN-4: do not use the machine.
    assert password.message is not None
    shown = [m for m in laura.messages() if m["message_id"] == password.message.message_id]
    assert shown == []
    assert any("Guardada y borrada del chat" in t and "no uses el equipo" in t for t in laura.texts())
    await tap(laura, "n")
    summary = laura.last_text()
    assert "Revisa tu reporte" in summary and "TeamViewer 1234567890" in summary and "2 imágenes" in summary
    await tap(laura, "ok")
    assert "Tu ticket es SOP-2026-000001" in laura.last_text()
    assert "Te responderemos a más tardar el miércoles 25 de noviembre a las 10:15" in laura.last_text()

    [ticket] = await tickets(world)
    assert ticket.severity is Severity.CRITICAL and ticket.status is TicketStatus.NEW
    assert ticket.description == DESCRIPTION
    assert ticket.since_at == datetime(2026, 11, 24, 9, 0, tzinfo=MEXICO)
    assert ticket.response_due_at == datetime(2026, 11, 25, 10, 15, tzinfo=MEXICO)
    async with store(world).transaction() as tx:
        creds = await tx.get_credentials(ticket.id)
        audit = [e.action for e in await tx.list_audit(ticket.id)]
        attachments = await tx.list_attachments(ticket.id)
    assert [(c.kind, c.secret) for c in creds] == [(CredentialKind.TEAMVIEWER_PASSWORD, TV_PASSWORD)]
    assert "opened" in audit and len(attachments) == 2
    assert await draft(world, LAURA_ID) is None
    card = await world.team.card_for(ticket.number)
    assert TV_PASSWORD not in str(world.team.message(card).blocks)


async def test_english_telegram_gets_the_whole_intake_in_english(world: World) -> None:
    kevin = world.client(KEVIN_ID)
    await to_summary_remote(kevin, world)
    assert "Cancel" in [label for label, _ in kevin.last_buttons()]
    await tap(kevin, "ok")
    assert "Your ticket is SOP-2026-000001" in kevin.last_text()
    assert "Wednesday, November 25 at 10:15" in kevin.last_text()
    assert not any("¿" in text for text in kevin.texts())


async def test_summary_edit_description_returns_to_summary(world: World) -> None:
    laura = world.client(LAURA_ID)
    await to_summary_remote(laura, world)
    await tap(laura, "e.desc")
    await laura.send("El firewall reinicia solo cada diez minutos y se pierde la conexión de todos.")
    await laura.send("ayer")
    assert "Revisa tu reporte" in laura.last_text()
    assert "reinicia solo" in laura.last_text()


async def test_cancel_button_and_command_drop_the_draft(world: World) -> None:
    laura = world.client(LAURA_ID)
    await to_description(laura, world)
    await laura.send("/cancelar")
    assert "cancelé" in laura.last_text()
    assert await draft(world, LAURA_ID) is None
    await laura.send("/reportar")
    await tap(laura, "cancel")
    assert await draft(world, LAURA_ID) is None
    assert await tickets(world) == []
