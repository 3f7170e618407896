"""Nothing said into the void, end to end: whoever writes in a card's thread knows whether the client got it."""

from __future__ import annotations

from sandbox.demo import AGENT_ANA, AGENT_MARCO, LAURA_ID, STRANGER_SLACK
from sandbox.slack.driver import Card
from sandbox.telegram.models import tiny_png
from sandbox.testing import World
from tests.e2e.slack.helpers import audit_actions, open_ticket


async def opened(world: World, *, claim: bool = True) -> tuple[int, Card]:
    await world.client(LAURA_ID).send("/start")
    t = await open_ticket(world)
    card = await world.team.card_for(t.number)
    if claim:
        await world.team.click(card, "desk_claim", as_user=AGENT_MARCO)
    return t.id, card


def heard(world: World, user: str, card: Card) -> list[str]:
    """What the user was told privately in the card's thread."""
    return [e.text for e in world.team.ephemerals(user) if e.thread_ts == card.ts]


async def test_another_agent_is_told_at_once_why_the_client_did_not_get_it(world: World) -> None:
    _, card = await opened(world)
    await world.team.reply_in_thread(card, "Laura, ¿ya reiniciaste?", as_user=AGENT_ANA)
    [told] = heard(world, AGENT_ANA, card)
    assert "no llegó al cliente" in told and "<@U0MARCO>" in told and "«nota:»" in told
    assert not [t for t in world.client(LAURA_ID).texts() if "Laura, ¿ya reiniciaste?" in t]


async def test_on_an_unclaimed_ticket_the_agent_is_told_to_take_it_first(world: World) -> None:
    _, card = await opened(world, claim=False)
    await world.team.reply_in_thread(card, "Hola Laura, lo reviso", as_user=AGENT_MARCO)
    [told] = heard(world, AGENT_MARCO, card)
    assert "nadie ha tomado este ticket" in told and "«Tomar»" in told and "«nota:»" in told


async def test_someone_without_a_role_is_told_nothing_reached_the_client(world: World) -> None:
    ticket_id, card = await opened(world)
    await world.team.reply_in_thread(card, "Yo le llamo", as_user=STRANGER_SLACK)
    [told] = heard(world, STRANGER_SLACK, card)
    assert "no tienes un rol" in told
    assert "relay_refused" in await audit_actions(world, ticket_id)


async def test_an_internal_note_is_intended_and_needs_no_explanation(world: World) -> None:
    _, card = await opened(world)
    await world.team.reply_in_thread(card, "nota: el cliente debe 3 facturas", as_user=AGENT_ANA)
    await world.team.reply_in_thread(card, "nota: lo veo mañana", as_user=AGENT_MARCO)
    assert heard(world, AGENT_ANA, card) == [] and heard(world, AGENT_MARCO, card) == []


async def test_a_reply_in_a_closed_tickets_thread_is_said_to_go_nowhere(world: World) -> None:
    ticket_id, card = await opened(world)
    await world.team.click(card, "desk_resolve", as_user=AGENT_MARCO)
    modal = await world.team.modal(AGENT_MARCO)
    values = {"solution": {"value": "Fuente reemplazada"}, "hours_remote": {"value": "1"}}
    await world.team.submit(modal, values, as_user=AGENT_MARCO)
    await world.client(LAURA_ID).tap(f"desk:ok:{ticket_id}")
    await world.team.reply_in_thread(card, "¿Todo bien?", as_user=AGENT_MARCO)
    [told] = heard(world, AGENT_MARCO, card)
    assert "está cerrado" in told


async def test_a_relayed_reply_gets_a_check_mark_once_telegram_took_it(world: World) -> None:
    _, card = await opened(world)
    reply = await world.team.reply_in_thread(card, "Reinicia el equipo, por favor", as_user=AGENT_MARCO)
    await world.client(LAURA_ID).wait_for_text("Reinicia el equipo, por favor")
    assert world.team.reactions(reply) == {"white_check_mark": [world.slack.config.bot_user_id]}
    assert heard(world, AGENT_MARCO, card) == []


async def test_a_reply_telegram_refused_gets_a_warning_and_a_note(world: World) -> None:
    _, card = await opened(world)
    world.telegram.state.user(LAURA_ID).blocked = True  # blocked without the update reaching the bot
    reply = await world.team.reply_in_thread(card, "¿Puedes reiniciar el equipo?", as_user=AGENT_MARCO)
    await world.settle()
    assert "warning" in world.team.reactions(reply) and "white_check_mark" not in world.team.reactions(reply)
    assert any("No se pudo entregar" in m.text for m in world.team.thread(card))
    world.telegram.violations.clear()  # the one refused send is what this test is about


async def test_the_assignees_photo_and_file_reach_the_client(world: World) -> None:
    ticket_id, card = await opened(world)
    laura = world.client(LAURA_ID)
    photo = await world.team.share_file(
        card, "panel.png", tiny_png(40, 30), mimetype="image/png", text="Así debe verse", as_user=AGENT_MARCO
    )
    guide = await world.team.share_file(
        card, "guia.pdf", b"%PDF-1.4 guia de reinicio", mimetype="application/pdf", as_user=AGENT_MARCO
    )
    await laura.wait_for_text("Así debe verse")
    sent = [m for m in laura.bot_messages() if "photo" in m or "document" in m]
    assert ["photo" in m for m in sent] == [True, False]
    assert sent[1]["document"]["file_name"] == "guia.pdf"
    assert all("Marco" in m["text"] and "SOP-2026-000001" in m["text"] for m in sent)
    for message in (photo, guide):
        assert "white_check_mark" in world.team.reactions(message)
    assert "agent_files_relayed" in await audit_actions(world, ticket_id)
    assert [v for v in world.slack.violations if v.kind == "file_unauthorized"] == []


async def test_a_file_too_big_for_telegram_is_refused_with_the_reason(world: World) -> None:
    _, card = await opened(world)
    big = b"0" * (50 * 1024 * 1024 + 1)
    await world.team.share_file(card, "respaldo.zip", big, mimetype="application/zip", as_user=AGENT_MARCO)
    [told] = heard(world, AGENT_MARCO, card)
    assert "respaldo.zip" in told and "50 MB" in told
    assert not [m for m in world.client(LAURA_ID).bot_messages() if "document" in m]
