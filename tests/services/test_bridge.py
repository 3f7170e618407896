"""What a client sends while a ticket is open reaches its Slack thread; an answer resumes a waiting ticket (P-SLA-7)."""

from __future__ import annotations

from datetime import timedelta

from bot.conversation import Document, Photo, Text
from bot.domain.types import TicketStatus
from bot.services import bridge
from bot.services.desk_info import INFO_REMINDER
from bot.services.events import ButtonTapped, MessageSent
from sandbox.demo import LAURA_ID, STRANGER_ID
from storage.records import Ticket
from tests.services.test_client_requests import new_ticket
from tests.services.test_intake_helpers import Env, env

__all__ = ["env"]


async def relay(e: Env, item: bridge.Relayed, user: int = LAURA_ID, key: str | None = None) -> bool:
    """The client sends text or a file outside any intake. Returns: False for a redelivered update."""
    event = Text(item.text or "") if item.file is None else item.file
    return await e.say(MessageSent(event), user, key=key)


async def pick(e: Env, data: str) -> None:
    await e.say(ButtonTapped(data, f"q-{e.key()}"), LAURA_ID)


async def reread(e: Env, ticket_id: int) -> Ticket:
    async with e.services.store.transaction() as tx:
        ticket = await tx.get_ticket(ticket_id)
    assert ticket is not None
    return ticket


async def test_without_an_open_ticket_nothing_is_relayed(env: Env) -> None:
    await relay(env, bridge.Relayed(text="hola"))
    await relay(env, bridge.Relayed(text="hola"), user=STRANGER_ID)
    rows = await env.outbox()
    assert [r.kind for r in rows if r.destination == "slack"] == []
    assert len([r for r in rows if r.kind == "send"]) == 2  # the greeting and the contact card instead


async def test_text_goes_to_the_ticket_thread_escaped_for_slack(env: Env) -> None:
    t = await new_ticket(env)
    assert await relay(env, bridge.Relayed(text="<!channel> mira <http://x|banco> & ya"))
    rows = await env.outbox()
    [thread] = [r for r in rows if r.kind == "thread"]
    assert thread.payload["ticket_id"] == t.id
    text = str(thread.payload["text"])
    assert "&lt;!channel&gt;" in text and "<!channel>" not in text and "&amp; ya" in text
    assert any("Le envié tu respuesta" in str(r.payload.get("text")) for r in rows if r.kind == "send")


async def test_files_become_attachments_uploaded_to_the_thread(env: Env) -> None:
    t = await new_ticket(env)
    await relay(env, bridge.Relayed(file=Photo("ph-1", 1000)))
    await relay(env, bridge.Relayed(file=Document("doc-1", "log.txt", 300, "text/plain")))
    async with env.services.store.transaction() as tx:
        files = await tx.list_attachments(t.id)
    assert [f.telegram_file_id for f in files] == ["ph-1", "doc-1"]
    assert len([r for r in await env.outbox() if r.kind == "thread_file"]) == 2


async def test_several_open_tickets_the_bot_asks_which(env: Env) -> None:
    first = await new_ticket(env, description="Primero")
    await new_ticket(env, description="Segundo")
    await relay(env, bridge.Relayed(text="más datos del primero"))
    [ask] = [r for r in await env.outbox() if r.kind == "send"]
    datas = [b["data"] for row in ask.payload["keyboard"] for b in row]
    assert f"b:{first.id}" in datas and all(len(d.encode()) <= 64 for d in datas)
    await pick(env, f"b:{first.id}")
    [thread] = [r for r in await env.outbox() if r.kind == "thread"]
    assert thread.payload["ticket_id"] == first.id and "más datos del primero" in str(thread.payload["text"])


async def test_pick_with_a_tampered_or_stale_button_sends_nothing_to_slack(env: Env) -> None:
    await new_ticket(env)
    await new_ticket(env)
    await relay(env, bridge.Relayed(text="hola"))
    await env.outbox()
    for data in ("b:999", "b:x", "b:"):
        await pick(env, data)
    rows = await env.outbox()
    # A quiet toast on the tap, no new message, nothing to Slack.
    assert [r.kind for r in rows] == ["answer"] * 3 and all("ya no está activo" in str(r.payload["text"]) for r in rows)


async def test_p_sla_7_answer_resumes_a_waiting_ticket(env: Env) -> None:
    t = await new_ticket(env)
    asked_at = env.clock()
    async with env.services.store.transaction() as tx:
        [marco, *_] = await tx.list_agents()
        t = await tx.update_ticket(t.id, t.version, status=TicketStatus.WAITING_CLIENT, assignee_id=marco.id)
        await tx.open_pause(t.id, asked_at, "info")
        await tx.schedule_timer(INFO_REMINDER, asked_at + timedelta(days=1), ticket_id=t.id, payload={"attempt": 1})
    env.clock.advance(hours=2)
    await relay(env, bridge.Relayed(text="ya les mandé la captura"))
    after = await reread(env, t.id)
    assert after.status is TicketStatus.ASSIGNED
    async with env.services.store.transaction() as tx:
        [pause] = await tx.list_pauses(t.id)
        due_timers = await tx.claim_due_timers(asked_at + timedelta(days=2), "t", 10, 60)
    assert pause.ended_at == env.clock()
    assert INFO_REMINDER not in [timer.kind for timer in due_timers]
    # The two paused business hours move the (unanswered) deadline (P-SLA-7).
    assert t.response_due_at is not None
    assert after.response_due_at == env.services.calendar.add(t.response_due_at, timedelta(hours=2))
    assert after.response_due_at.astimezone(env.services.settings.zone).hour == 16  # Wed 12:15 + 2 h, lunch skipped
    assert any(r.kind == "card" for r in await env.outbox())


async def test_redelivered_message_reaches_the_thread_once(env: Env) -> None:
    await new_ticket(env)
    assert await relay(env, bridge.Relayed(text="uno"), key="55")
    assert not await relay(env, bridge.Relayed(text="uno"), key="55")
    assert len([r for r in await env.outbox() if r.kind == "thread"]) == 1


def test_relayed_round_trips_through_the_draft() -> None:
    for item in (
        bridge.Relayed(text="hola"),
        bridge.Relayed(file=Photo("p", 3)),
        bridge.Relayed(file=Document("d", "a.pdf", 5, "application/pdf")),
    ):
        assert bridge.Relayed.from_data(item.to_data()) == item


async def test_a_file_over_20_mb_is_told_to_both_sides_and_a_caption_reaches_the_thread(env: Env) -> None:
    """Zammad #2289: the client hears the 20 MB limit at once, and the thread learns a file came that nobody
    can fetch (the Slack sender announces it instead of uploading)."""
    t = await new_ticket(env)
    await relay(env, bridge.Relayed(file=Document("huge", "video.mp4", 30 * 1024 * 1024, "video/mp4")))
    rows = await env.outbox()
    assert [r.kind for r in rows] == ["send", "thread_file"] and "más de 20 MB" in str(rows[0].payload["text"])
    assert rows[1].payload["ticket_id"] == t.id
    await relay(env, bridge.Relayed(file=Photo("ph-2", 900, "la pantalla <roja>")))
    rows = await env.outbox()
    [note] = [r for r in rows if r.kind == "thread"]
    assert note.payload["ticket_id"] == t.id and "la pantalla &lt;roja&gt;" in str(note.payload["text"])
