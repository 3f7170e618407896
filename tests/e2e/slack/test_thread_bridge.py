"""The card's thread as a bridge: the assignee's replies reach the client; notes and strangers do not."""

from __future__ import annotations

from sandbox.demo import AGENT_ANA, AGENT_MARCO, LAURA_ID, STRANGER_SLACK
from sandbox.slack.driver import Card
from sandbox.testing import World
from tests.e2e.slack.helpers import audit_actions, open_ticket


async def claimed(world: World) -> tuple[int, Card]:
    await world.client(LAURA_ID).send("/start")
    t = await open_ticket(world)
    card = await world.team.card_for(t.number)
    await world.team.click(card, "desk_claim", as_user=AGENT_MARCO)
    return t.id, card


def agent_lines(world: World) -> list[str]:
    return [m for m in world.client(LAURA_ID).texts() if "sobre tu ticket" in m]


async def test_the_assignee_reply_reaches_the_client_escaped(world: World) -> None:
    _, card = await claimed(world)
    await world.team.reply_in_thread(card, "Reinicia el equipo <b>ahora</b> & dime", as_user=AGENT_MARCO)
    [line] = agent_lines(world)
    # What Marco typed, shown literally (Telegram HTML escaped; Slack's &lt; undone first).
    assert "Reinicia el equipo <b>ahora</b> & dime" in line and line.startswith("Marco")


async def test_an_internal_note_stays_in_slack(world: World) -> None:
    """Chatwoot #15605: a note meant as internal must never reach the customer."""
    ticket_id, card = await claimed(world)
    await world.team.reply_in_thread(card, "NOTA: el cliente debe 3 facturas", as_user=AGENT_MARCO)
    assert agent_lines(world) == []
    assert "internal_note" in await audit_actions(world, ticket_id)


async def test_another_agent_talking_in_the_thread_stays_internal(world: World) -> None:
    ticket_id, card = await claimed(world)
    await world.team.reply_in_thread(card, "¿Quieres que te ayude con esto?", as_user=AGENT_ANA)
    assert agent_lines(world) == []
    assert "internal_note" in await audit_actions(world, ticket_id)


async def test_nothing_from_a_user_without_a_role_reaches_the_client(world: World) -> None:
    ticket_id, card = await claimed(world)
    await world.team.reply_in_thread(card, "Hola, soy de otra área", as_user=STRANGER_SLACK)
    assert agent_lines(world) == []
    assert "relay_refused" in await audit_actions(world, ticket_id)


async def test_a_retried_event_is_relayed_once(world: World) -> None:
    """bolt-python #868: a retried event must not produce a second message to the client."""
    _, card = await claimed(world)
    await world.team.reply_in_thread(card, "¿Ya reiniciaste?", as_user=AGENT_MARCO)
    delivery = world.slack.deliverer.log[-1]
    assert delivery.kind == "events_api"
    await world.slack.deliverer.replay(delivery)
    await world.settle()
    assert len(agent_lines(world)) == 1


async def test_the_client_messages_and_files_appear_in_the_thread(world: World) -> None:
    _, card = await claimed(world)
    laura = world.client(LAURA_ID)
    await laura.send("Ya lo reinicié <!channel> y sigue igual")
    await laura.send_photo()
    await world.settle()
    thread = world.team.thread(card)
    texts = [m.text for m in thread]
    assert any("Ya lo reinicié &lt;!channel&gt; y sigue igual" in t for t in texts)
    assert any(m.files for m in thread)
    assert "files.completeUploadExternal" in [c["method"] for c in world.slack.api_log]


async def test_a_file_too_big_to_download_is_announced_not_dropped(world: World) -> None:
    """Zammad #2289: a file over Telegram's 20 MB download limit must be said in the thread."""
    _, card = await claimed(world)
    await world.client(LAURA_ID).send_document("respaldo.zip", size=25 * 1024 * 1024)
    await world.settle()
    texts = [m.text for m in world.team.thread(card)]
    assert any("respaldo.zip" in t and "otra vía" in t for t in texts)
