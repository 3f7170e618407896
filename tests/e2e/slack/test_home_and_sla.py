"""App Home, the response clock's warning and breach (P-ESC-1, P-SLA-5/6), and Socket Mode, end to end."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from bot.domain.types import EscalationStatus, Severity
from sandbox.demo import AGENT_ANA, AGENT_MARCO, LAURA_ID, QUALITY_SOFIA, STRANGER_SLACK
from sandbox.slack.standin import StandInConfig
from sandbox.testing import MEXICO, World, running_world
from tests.e2e.slack.helpers import audit_actions, open_ticket, parts, ticket


def channel_texts(world: World) -> list[str]:
    return [m.text for m in world.slack.top_level(world.slack.support_channel.id)]


async def test_app_home_lists_my_tickets_and_unclaimed_ones_by_deadline(world: World) -> None:
    await world.client(LAURA_ID).send("/start")
    low = await open_ticket(world, severity=Severity.LOW, description="Duda de uso")
    critical = await open_ticket(world, severity=Severity.CRITICAL, description="Todo caído")
    mine = await open_ticket(world, severity=Severity.MEDIUM, description="Lento")
    await world.team.click(await world.team.card_for(mine.number), "desk_claim", as_user=AGENT_MARCO)
    home = await world.team.open_home(AGENT_MARCO)
    assert home is not None
    text = json.dumps(home.blocks, ensure_ascii=False)
    assert text.index(mine.number) < text.index("Sin asignar")
    unclaimed = text[text.index("Sin asignar") :]
    assert unclaimed.index(critical.number) < unclaimed.index(low.number)  # soonest deadline first
    assert mine.number not in unclaimed and "quedan 8 horas hábiles" in unclaimed
    other = await world.team.open_home(AGENT_ANA)
    assert other is not None and mine.number not in json.dumps(other.blocks).split("Sin asignar")[0]
    stranger = await world.team.open_home(STRANGER_SLACK)
    assert stranger is not None and critical.number not in json.dumps(stranger.blocks)


async def test_warning_at_75_percent_then_automatic_escalation_when_unclaimed(world: World) -> None:
    await world.client(LAURA_ID).send("/start")
    t = await open_ticket(world)  # severity 1: 8 business hours from Tue 10:15 -> Wed 10:15
    world.clock.set(datetime(2026, 11, 24, 18, 0, tzinfo=MEXICO))  # 5 h 45 min of business time: under 75 %
    await world.fire_timers()
    assert not [m for m in channel_texts(world) if "sigue sin asignar" in m]
    world.clock.set(datetime(2026, 11, 24, 18, 16, tzinfo=MEXICO))  # 6 h 01 min: past 75 % of 8 h
    await world.fire_timers()
    [warning] = [m for m in channel_texts(world) if "sigue sin asignar" in m]
    assert t.number in warning
    world.clock.set(datetime(2026, 11, 25, 10, 16, tzinfo=MEXICO))
    await world.fire_timers()
    assert any("venció sin respuesta" in m for m in channel_texts(world))
    assert any(m.blocks for m in world.team.dms(QUALITY_SOFIA))
    store, _ = parts(world)
    async with store.transaction() as tx:
        [esc] = await tx.list_escalations(t.id)
    assert esc.requested_by_kind == "system" and esc.status is EscalationStatus.REQUESTED
    assert {"sla_warning", "sla_breached", "escalation_requested"} <= set(await audit_actions(world, t.id))


async def test_r_response_a_claim_does_not_stop_the_warning_nor_the_escalation(world: World) -> None:
    """R-RESPONSE, P-ESC-1: "Tomar" is no response (the bot used to stop the clock at the click): the warning
    and the automatic escalation come all the same, and the warning names the assignee."""
    await world.client(LAURA_ID).send("/start")
    t = await open_ticket(world)
    card = await world.team.card_for(t.number)
    await world.team.click(card, "desk_claim", as_user=AGENT_MARCO)
    assert (await ticket(world, t.id)).first_response_at is None
    world.clock.set(datetime(2026, 11, 24, 18, 16, tzinfo=MEXICO))
    await world.fire_timers()
    [warning] = [m for m in channel_texts(world) if "sin primera respuesta" in m]
    assert t.number in warning and AGENT_MARCO in warning
    world.clock.set(datetime(2026, 11, 25, 10, 16, tzinfo=MEXICO))
    await world.fire_timers()
    assert any("venció sin respuesta" in m for m in channel_texts(world))
    assert (await ticket(world, t.id)).response_met is None


async def test_r_response_a_relayed_reply_that_reaches_the_client_stops_the_clock(world: World) -> None:
    """R-RESPONSE: the assignee's reply in the thread reaches the client: that is the first response (met),
    and neither the warning nor the escalation comes after it."""
    laura = world.client(LAURA_ID)
    await laura.send("/start")
    t = await open_ticket(world)
    card = await world.team.card_for(t.number)
    await world.team.click(card, "desk_claim", as_user=AGENT_MARCO)
    world.clock.set(datetime(2026, 11, 24, 11, 0, tzinfo=MEXICO))
    await world.team.reply_in_thread(card, "Hola Laura, ya estoy revisando el firewall.", as_user=AGENT_MARCO)
    await laura.wait_for_text("ya estoy revisando")
    answered = await ticket(world, t.id)
    assert answered.first_response_at is not None and answered.response_met is True
    assert any("Primera respuesta al cliente" in m.text for m in world.team.thread(card))
    world.clock.set(datetime(2026, 11, 26, 12, 0, tzinfo=MEXICO))
    await world.fire_timers()
    assert not [m for m in channel_texts(world) if "sin primera respuesta" in m or "venció" in m]
    assert (await ticket(world, t.id)).escalation_level == 1
    assert "first_response" in await audit_actions(world, t.id)


async def test_r_response_a_recorded_call_from_the_card_is_the_first_response(world: World) -> None:
    """R-RESPONSE: "Registré llamada/sesión" on the card records a call or remote session (audited)."""
    await world.client(LAURA_ID).send("/start")
    t = await open_ticket(world)
    card = await world.team.card_for(t.number)
    await world.team.click(card, "desk_claim", as_user=AGENT_MARCO)
    await world.team.click(card, "desk_contact", as_user=AGENT_MARCO)
    answered = await ticket(world, t.id)
    assert answered.first_response_at is not None
    assert {"contact_recorded", "first_response"} <= set(await audit_actions(world, t.id))
    assert "desk_contact" not in json.dumps(world.team.message(card).blocks)  # once responded, gone


async def test_socket_mode_claims_without_a_public_url(tmp_path: Path) -> None:
    """With SLACK_APP_TOKEN the bot takes its events over Socket Mode (no /slack/events needed)."""
    config = StandInConfig()
    async with running_world(tmp_path, slack_config=config, slack_app_token=config.app_token) as world:
        world.slack.config.request_url = None  # nothing may reach the bot over HTTP
        await world.client(LAURA_ID).send("/start")
        t = await open_ticket(world)
        card = await world.team.card_for(t.number)
        await world.team.click(card, "desk_claim", as_user=AGENT_MARCO)
        assert (await ticket(world, t.id)).assignee_id is not None
        await world.client(LAURA_ID).wait_for_text("Marco tomó tu ticket")
        world.assert_no_violations()
