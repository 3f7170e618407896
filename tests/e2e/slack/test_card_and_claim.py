"""The card in the support channel and "Tomar", end to end: real bolt + slack_sdk against the Slack stand-in."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import aiohttp

from bot.services import outbox
from sandbox.demo import AGENT_ANA, AGENT_MARCO, LAURA_ID, STRANGER_SLACK
from sandbox.slack.driver import Card
from sandbox.testing import World, running_world
from storage.records import OutboxStatus
from tests.e2e.slack.helpers import TV_PASSWORD, audit_actions, open_ticket, parts, ticket


def card_text(world: World, card: Card) -> str:
    message = world.team.message(card)
    return message.text + json.dumps(message.blocks, ensure_ascii=False)


def top_level_count(world: World) -> int:
    return len(world.slack.top_level(world.slack.support_channel.id))


async def started_laura(world: World) -> None:
    await world.client(LAURA_ID).send("/start")  # a private chat needs the client to have started the bot


async def test_card_shows_the_ticket_and_never_the_password(world: World) -> None:
    """The card: number, client, tier and hours left, severity, deadline (Slack date), service, product,
    remote access (no password), status, level, the four buttons and the whole description: one Slack post
    per ticket (the thread stays empty until someone writes)."""
    await started_laura(world)
    t = await open_ticket(world)
    card = await world.team.card_for(t.number)
    text = card_text(world, card)
    for expected in (
        t.number,
        "Comercializadora del Valle",
        "Empresarial",
        "horas disponibles: 12.5",
        "Severidad 1",
        "<!date^",
        "8 horas hábiles",
        "Firewall",
        "FortiGate 60F",
        "TeamViewer 123 456 789",
        "sin asignar",
        "Nivel 1",
    ):
        assert expected in text, expected
    assert TV_PASSWORD not in text
    actions = next(b for b in world.team.message(card).blocks if b["type"] == "actions")
    assert [e["action_id"] for e in actions["elements"]] == [
        "desk_claim",
        "desk_ask",
        "desk_escalate",
        "desk_resolve",
        "desk_severity",
        "desk_reassign",
    ]
    assert t.description in text
    assert world.team.thread(card) == []


async def test_claim_updates_the_card_in_place_and_tells_the_client(world: World) -> None:
    """The claim assigns (R-RESPONSE: it is not the first response, so no "respondido ✅" yet); the card is
    edited, never posted twice."""
    await started_laura(world)
    t = await open_ticket(world)
    card = await world.team.card_for(t.number)
    before = top_level_count(world)
    await world.team.click(card, "desk_claim", as_user=AGENT_MARCO)
    assert top_level_count(world) == before
    text = card_text(world, card)
    assert "asignado a <@U0MARCO>" in text and "respondido" not in text
    actions = next(b for b in world.team.message(card).blocks if b["type"] == "actions")
    assert actions["elements"][0]["action_id"] == "desk_reveal"
    assert "desk_contact" in [e["action_id"] for e in actions["elements"]]  # "Registré llamada/sesión"
    await world.client(LAURA_ID).wait_for_text("Marco tomó tu ticket " + t.number)
    stored = await ticket(world, t.id)
    assert stored.first_response_at is None and stored.response_met is None
    assert "claimed" in await audit_actions(world, t.id)
    assert [c["method"] for c in world.slack.api_log].count("chat.update") >= 1
    await world.team.reply_in_thread(card, "Hola Laura, lo reviso ahora.", as_user=AGENT_MARCO)
    answered = await ticket(world, t.id)
    assert answered.first_response_at is not None and answered.response_met is True
    assert "respondido" in card_text(world, card) and "✅" in card_text(world, card)


async def test_late_first_response_records_that_the_deadline_was_missed(world: World) -> None:
    await started_laura(world)
    t = await open_ticket(world)
    assert t.response_due_at is not None
    world.clock.set(t.response_due_at)
    world.clock.advance(hours=1)
    card = await world.team.card_for(t.number)
    await world.team.click(card, "desk_claim", as_user=AGENT_MARCO)
    assert (await ticket(world, t.id)).response_met is None  # R-RESPONSE: the claim is no response
    await world.team.click(card, "desk_contact", as_user=AGENT_MARCO)
    assert (await ticket(world, t.id)).response_met is False
    assert "fuera de tiempo" in card_text(world, card)


async def test_double_claim_race_gives_one_owner_and_tells_the_other(world: World) -> None:
    await started_laura(world)
    t = await open_ticket(world)
    card = await world.team.card_for(t.number)
    await asyncio.gather(
        world.team.click(card, "desk_claim", as_user=AGENT_MARCO),
        world.team.click(card, "desk_claim", as_user=AGENT_ANA),
    )
    await world.settle()
    stored = await ticket(world, t.id)
    store, _ = parts(world)
    async with store.transaction() as tx:
        owner = await tx.get_agent(stored.assignee_id or 0)
    assert owner is not None
    loser = AGENT_ANA if owner.slack_user_id == AGENT_MARCO else AGENT_MARCO
    assert [e.text for e in world.team.ephemerals(loser)] == [f"Ya lo tomó <@{owner.slack_user_id}>."]
    assert world.team.ephemerals(owner.slack_user_id) == []
    assert (await audit_actions(world, t.id)).count("claimed") == 1
    assert len([m for m in world.client(LAURA_ID).texts() if "tomó tu ticket" in m]) == 1


async def test_a_user_without_a_role_cannot_claim(world: World) -> None:
    await started_laura(world)
    t = await open_ticket(world)
    card = await world.team.card_for(t.number)
    await world.team.click(card, "desk_claim", as_user=STRANGER_SLACK)
    assert "No tienes un rol" in world.team.ephemerals(STRANGER_SLACK)[0].text
    stored = await ticket(world, t.id)
    assert stored.assignee_id is None and stored.first_response_at is None


async def test_a_replayed_claim_does_nothing_twice(world: World) -> None:
    """A captured request resent inside Slack's 300 s window passes the signature check: it must be a no-op."""
    await started_laura(world)
    t = await open_ticket(world)
    card = await world.team.card_for(t.number)
    delivery = await world.team.click(card, "desk_claim", as_user=AGENT_MARCO)
    calls = len(world.slack.api_log)
    again = await world.slack.deliverer.replay(delivery, same_bytes=True)
    assert again.acked
    await world.settle()
    assert world.team.ephemerals(AGENT_MARCO) == []  # not even a "ya lo tomaste"
    assert len(world.slack.api_log) == calls
    assert (await audit_actions(world, t.id)).count("claimed") == 1
    assert len([m for m in world.client(LAURA_ID).texts() if "tomó tu ticket" in m]) == 1


async def test_a_forged_claim_for_a_resolved_ticket_cannot_move_it_back(world: World) -> None:
    """Grafana OnCall #3161: a stale button must not reopen what moved on."""
    await started_laura(world)
    t = await open_ticket(world)
    card = await world.team.card_for(t.number)
    await world.team.click(card, "desk_claim", as_user=AGENT_MARCO)
    await world.team.forge_click(card, "desk_claim", as_user=AGENT_ANA, value=str(t.id))
    assert "Ya lo tomó <@U0MARCO>" in world.team.ephemerals(AGENT_ANA)[0].text
    stored = await ticket(world, t.id)
    store, _ = parts(world)
    async with store.transaction() as tx:
        marco = await tx.get_agent_by_slack(AGENT_MARCO)
    assert marco is not None and stored.assignee_id == marco.id


async def test_reveal_shows_passwords_to_the_assignee_only_and_is_audited(world: World) -> None:
    await started_laura(world)
    t = await open_ticket(world)
    card = await world.team.card_for(t.number)
    await world.team.click(card, "desk_claim", as_user=AGENT_MARCO)
    await world.team.click(card, "desk_reveal", as_user=AGENT_MARCO)
    [shown] = world.team.ephemerals(AGENT_MARCO)
    assert TV_PASSWORD in shown.text and "TeamViewer 123 456 789" in shown.text
    await world.team.forge_click(card, "desk_reveal", as_user=AGENT_ANA, value=str(t.id))
    assert TV_PASSWORD not in json.dumps([e.text for e in world.team.ephemerals(AGENT_ANA)])
    assert "Solo <@U0MARCO>" in world.team.ephemerals(AGENT_ANA)[0].text
    assert (await audit_actions(world, t.id)).count("credentials_revealed") == 1
    # Never in a channel message, a thread or the outbox at rest.
    assert all(TV_PASSWORD not in m.text for m in world.slack.messages.values())
    store, _ = parts(world)
    async with store.transaction() as tx:
        rows = [await tx.get_outbox(i) for i in range(1, 60)]
    assert all(TV_PASSWORD not in json.dumps(dict(r.payload)) for r in rows if r is not None)


async def _note(world: World, ticket_id: int, text: str) -> None:
    store, services = parts(world)
    async with store.transaction() as tx:
        found = await tx.get_ticket(ticket_id)
        assert found is not None
        await outbox.slack_thread(tx, found, text, at=services.clock())
    services.wake_delivery()


async def test_a_429_from_post_message_waits_and_is_no_failed_attempt(world: World) -> None:
    """Slack answers 429 + Retry-After over 1 message/s per channel (here with the bot's pacing off): the row
    waits as told, is not counted as a failed attempt (it could never be dead-lettered for it), then goes once."""
    await started_laura(world)
    world.slack.rate_limits = True
    t = await open_ticket(world)
    card = await world.team.card_for(t.number)
    await _note(world, t.id, "nota inmediata")  # a second post in the same second: limited
    await world.settle()
    limited = [c for c in world.slack.api_log if c["error"] == "ratelimited"]
    assert limited and limited[0]["method"] == "chat.postMessage"
    assert world.team.thread(card) == []
    store, _ = parts(world)
    async with store.transaction() as tx:
        [row] = await tx.list_outbox(OutboxStatus.PENDING)
    assert row.attempts == 0 and row.claims == 1
    await asyncio.sleep(1.1)  # the stand-in's window is real time; the bot's retry time is its clock
    world.clock.advance(seconds=2)
    await world.settle()
    assert [m.text for m in world.team.thread(card)] == ["nota inmediata"]
    assert top_level_count(world) == 1
    # The provoked 429s are the only thing the stand-in may have recorded; anything else fails the fixture.
    provoked = [v for v in world.slack.violations if v.error == "ratelimited" and v.method == "chat.postMessage"]
    assert provoked and len(provoked) == len(world.slack.violations)
    world.slack.violations.clear()


async def test_paced_posts_get_no_429(tmp_path: Path) -> None:
    """With the bot's pacing on, the same back-to-back posts wait their turn: Slack never says 429."""
    async with running_world(tmp_path, delivery_pacing=True) as world:
        world.slack.rate_limits = True
        await started_laura(world)
        t = await open_ticket(world)
        for n in range(3):
            await _note(world, t.id, f"nota {n}")
        card = await world.team.card_for(t.number)
        for _ in range(40):
            await world.settle()
            if len(world.team.thread(card)) == 3:
                break
            await asyncio.sleep(0.2)
        assert [m.text for m in world.team.thread(card)] == ["nota 0", "nota 1", "nota 2"]
        assert [c for c in world.slack.api_log if c["error"] == "ratelimited"] == []
        world.assert_no_violations()


async def test_a_request_with_a_bad_signature_is_refused(world: World) -> None:
    """HTTP mode checks X-Slack-Signature: a forged click changes nothing."""
    await started_laura(world)
    t = await open_ticket(world)
    body = "payload=" + json.dumps(
        {"type": "block_actions", "actions": [{"action_id": "desk_claim", "value": str(t.id)}]}
    )
    headers = {
        "X-Slack-Request-Timestamp": str(int(time.time())),
        "X-Slack-Signature": "v0=" + "0" * 64,
        "Content-Type": "application/x-www-form-urlencoded",
    }
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{world.bot.http_url}/slack/events", data=body, headers=headers) as response,
    ):
        assert response.status == 401
    assert (await ticket(world, t.id)).assignee_id is None


async def test_a_card_posted_but_not_recorded_is_found_not_posted_again(world: World) -> None:
    """The crash window between posting a card and recording where it is: the card carries its ticket in
    Slack message metadata, and a row taken again looks it up (conversations.history) instead of posting twice."""
    await started_laura(world)
    store, services = parts(world)
    t = await open_ticket(world)
    posted = await world.team.card_for(t.number)
    async with store.transaction() as tx:
        fresh = await tx.get_ticket(t.id)
        assert fresh is not None
        await tx.update_ticket(t.id, fresh.version, slack_ts=None)  # posted, then the process died
        fresh = await tx.get_ticket(t.id)
        assert fresh is not None
        await outbox.slack_card(tx, fresh, at=services.clock())
        # The dead process had taken the row once already (its lease is released at the next start).
        [row] = await tx.claim_outbox(services.clock(), "dead-process", 10, 60)
        await tx.mark_retry(row.id, services.clock(), "killed", counted=False)
    services.wake_delivery()
    await world.settle()
    cards = [m for m in world.slack.top_level(world.slack.support_channel.id) if t.number in m.text]
    assert len(cards) == 1
    assert (await ticket(world, t.id)).slack_ts == posted.ts
    assert "conversations.history" in [c["method"] for c in world.slack.api_log]
