"""A client who blocks the bot (issue "every event exactly once", part 5; P-CLOSE-3).

Telegram tells the bot with a my_chat_member update ("kicked") and answers every later send with 403.
Nothing may be claimed as sent to that client: the thread is told at once, the consultant's replies say they
were not delivered, the three reminders are not reported as sent, and the P-CLOSE-3 closing says the client
could not be reached. Unblocking clears the mark.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain.types import TicketStatus
from sandbox.demo import AGENT_MARCO, LAURA_ID
from sandbox.testing import MEXICO, World
from storage.records import OutboxStatus
from tests.e2e.slack.helpers import audit_actions, parts, ticket
from tests.e2e.slack.test_info_and_resolve import ask, claimed


async def _unreachable(world: World) -> bool:
    store, _ = parts(world)
    async with store.transaction() as tx:
        contact = await tx.get_contact_by_telegram_user(LAURA_ID)
    assert contact is not None
    return contact.unreachable_since is not None


def _thread_texts(world: World, card: object) -> list[str]:
    return [m.text for m in world.team.thread(card)]  # type: ignore[arg-type]


async def test_a_blocked_client_is_never_claimed_as_reached(world: World) -> None:
    ticket_id, card = await claimed(world)
    laura = world.client(LAURA_ID)
    await laura.block()
    await world.settle()
    assert await _unreachable(world)
    assert sum("bloqueó el bot" in t for t in _thread_texts(world, card)) == 1  # told at once, once
    assert "bot_blocked" not in await audit_actions(world, ticket_id)  # the contact's event, not the ticket's

    # The consultant's reply is not queued for a chat that refuses it; the thread says it did not arrive.
    before = len(laura.messages())
    await world.team.reply_in_thread(card, "¿Puedes reiniciar el equipo?", as_user=AGENT_MARCO)
    await world.settle()
    assert "No se pudo entregar a Laura" in _thread_texts(world, card)[-1]
    assert "agent_reply_undelivered" in await audit_actions(world, ticket_id)

    # P-SLA-7 / P-CLOSE-3: the wait and the reminders run, but none is reported as "Aviso n de 3 enviado".
    await ask(world, card, "¿Nos mandas la foto del panel?")
    for day in (25, 26, 27):
        world.clock.set(datetime(2026, 11, day, 10, 20, tzinfo=MEXICO))
        await world.fire_timers()
    world.clock.set(datetime(2026, 11, 30, 10, 20, tzinfo=MEXICO))
    await world.fire_timers()
    assert (await ticket(world, ticket_id)).status is TicketStatus.CLOSED
    texts = _thread_texts(world, card)
    assert not [t for t in texts if "Aviso" in t and "enviado" in t]
    assert any("no se pudo contactar al cliente por Telegram" in t for t in texts)
    assert not [t for t in texts if "el cliente no respondió" in t]
    assert len(laura.messages()) == before  # nothing reached the chat while it was blocked

    store, _ = parts(world)
    async with store.transaction() as tx:
        dead = await tx.list_outbox(OutboxStatus.DEAD)
        waiting = await tx.list_outbox(OutboxStatus.PENDING)
    assert [m for m in dead + waiting if m.payload.get("chat_id") == LAURA_ID] == []  # nothing queued to fail

    # She unblocks: the mark is cleared and the bot talks to her again.
    await world.telegram.unblock(LAURA_ID)
    await world.settle()
    assert not await _unreachable(world)
    await laura.send("/start")
    assert len(laura.messages()) > before + 1


async def test_unblocking_while_a_ticket_is_open_tells_its_thread(world: World) -> None:
    _, card = await claimed(world)
    laura = world.client(LAURA_ID)
    await laura.block()
    await world.telegram.unblock(LAURA_ID)
    await world.settle()
    assert not await _unreachable(world)
    texts = _thread_texts(world, card)
    assert "bloqueó el bot" in texts[-2] and "volvió a activar el bot" in texts[-1]


async def test_a_403_without_the_update_marks_the_client_and_tells_the_thread(world: World) -> None:
    """The my_chat_member update can be missed (allowed_updates, an old bot): the 403 itself is the proof."""
    ticket_id, card = await claimed(world)
    world.telegram.state.user(LAURA_ID).blocked = True  # blocked without the update reaching the bot
    await world.team.reply_in_thread(card, "¿Puedes reiniciar el equipo?", as_user=AGENT_MARCO)
    await world.settle()
    assert await _unreachable(world)
    assert any("bloqueó el bot" in t for t in _thread_texts(world, card))
    store, _ = parts(world)
    async with store.transaction() as tx:
        [dead] = await tx.list_outbox(OutboxStatus.DEAD)
    assert dead.payload["chat_id"] == LAURA_ID and dead.claims == 1  # a 403 is final: not retried eight times
    assert "agent_replied" in await audit_actions(world, ticket_id)
    # The one refused call was the reply the bot could not know would fail; nothing else was refused.
    assert [(v.method, v.description) for v in world.telegram.violations] == [
        ("sendMessage", "Forbidden: bot was blocked by the user")
    ]
    world.telegram.violations.clear()
