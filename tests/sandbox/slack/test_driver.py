"""The support-team driver: reads like the team at work and fails loudly, saying what it saw."""

from __future__ import annotations

import asyncio

import pytest

from sandbox.slack import ActionError, DriverTimeout, NotAcknowledged, SlackTeam, SubmitRefused, User
from sandbox.slack.harness import Running
from tests.sandbox.slack.conftest import TinyBolt, card_blocks


async def post_card(slack: Running, ticket: str) -> str:
    resp = await slack.client.chat_postMessage(channel="C0SUPPORT", text=f"Ticket {ticket}", blocks=card_blocks(ticket))
    return str(resp["ts"])


async def test_card_for_waits_for_the_bot_to_post(team: SlackTeam, slack: Running) -> None:
    async def later() -> None:
        await asyncio.sleep(0.2)
        await post_card(slack, "SOP-2026-000007")

    task = asyncio.create_task(later())
    card = await team.card_for("SOP-2026-000007")
    await task
    assert "SOP-2026-000007" in team.message(card).text


async def test_card_for_picks_the_newest_top_level_card(team: SlackTeam, slack: Running) -> None:
    await post_card(slack, "SOP-2026-000001")
    newest = await post_card(slack, "SOP-2026-000001")
    await slack.client.chat_postMessage(channel="C0SUPPORT", text="SOP-2026-000001 en hilo", thread_ts=newest)
    assert (await team.card_for("SOP-2026-000001")).ts == newest


async def test_card_for_times_out_describing_what_it_saw(team: SlackTeam, slack: Running) -> None:
    await slack.client.chat_postMessage(channel="C0SUPPORT", text="otra cosa")
    with pytest.raises(DriverTimeout, match="otra cosa"):
        await team.card_for("SOP-2026-999999", timeout=0.1)


async def test_click_unknown_action_lists_available(team: SlackTeam, slack: Running, agent: User) -> None:
    await post_card(slack, "SOP-1")
    card = await team.card_for("SOP-1")
    with pytest.raises(ActionError, match=r"ticket_actions/claim.*ticket_actions/ask"):
        await team.click(card, "approve", as_user=agent)


async def test_outsider_cannot_click(team: SlackTeam, slack: Running) -> None:
    outsider = slack.standin.add_user("U0OUT", "fuera", join_support_channel=False)
    await post_card(slack, "SOP-1")
    card = await team.card_for("SOP-1")
    with pytest.raises(ActionError, match="not in C0SUPPORT"):
        await team.click(card, "claim", as_user=outsider)


async def test_submit_refuses_what_the_client_refuses(team: SlackTeam, slack: Running, agent: User) -> None:
    await post_card(slack, "SOP-1")
    card = await team.card_for("SOP-1")
    await team.click(card, "ask", as_user=agent)
    view = await team.modal(agent)
    with pytest.raises(SubmitRefused, match=r"required input question\.text"):
        await team.submit(view, {"severity": {"pick": "1"}}, as_user=agent)
    with pytest.raises(SubmitRefused, match="not an option"):
        await team.submit(view, {"question": {"text": "x"}, "severity": {"pick": "9"}}, as_user=agent)
    with pytest.raises(SubmitRefused, match=r"no input nope\.x"):
        await team.submit(view, {"nope": {"x": "1"}}, as_user=agent)


async def test_slow_ack_fails_the_action_loudly(team: SlackTeam, slack: Running, bolt: TinyBolt, agent: User) -> None:
    slack.standin.config.ack_timeout = 0.2
    bolt.slow_ack = 0.4
    await post_card(slack, "SOP-1")
    card = await team.card_for("SOP-1")
    with pytest.raises(NotAcknowledged, match="http_timeout"):
        await team.click(card, "slow", as_user=agent)


async def test_forged_click_for_a_button_that_is_gone(
    team: SlackTeam, slack: Running, bolt: TinyBolt, agent: User
) -> None:
    """Grafana OnCall #3161: a stale "claim" must reach the bot so it can refuse it; the driver can send one."""
    await post_card(slack, "SOP-1")
    card = await team.card_for("SOP-1")
    await team.click(card, "claim", as_user=agent)
    await team.forge_click(card, "claim", as_user=agent, value="SOP-1", block_id="ticket_actions")
    assert [b["actions"][0]["value"] for b in bolt.actions] == ["SOP-1", "SOP-1"]


async def test_thread_ephemerals_and_wait_for(team: SlackTeam, slack: Running, agent: User) -> None:
    await post_card(slack, "SOP-1")
    card = await team.card_for("SOP-1")
    await team.reply_in_thread(card, "hola", as_user=agent)
    assert [m.user for m in team.thread(card)] == ["U0AGENT", "U0SUPPORTBOT"]
    await slack.client.chat_postEphemeral(channel="C0SUPPORT", user="U0AGENT", text="contraseña: ****")
    assert [e.text for e in team.ephemerals(agent)] == ["contraseña: ****"]
    found = await team.wait_for(lambda: [m for m in team.thread(card) if m.text == "recibido"], 1.0)
    assert found[0].user == "U0SUPPORTBOT"
    with pytest.raises(DriverTimeout, match="nunca"):
        await team.wait_for(lambda: None, 0.05, what="nunca")


async def test_assert_no_violations_lists_them(team: SlackTeam, slack: Running) -> None:
    team.assert_no_violations()
    await slack.client.chat_postMessage(channel="C0SUPPORT", text="<!here>")
    with pytest.raises(AssertionError, match=r"unsafe_mrkdwn chat\.postMessage: broadcast"):
        team.assert_no_violations()


async def test_dms_and_member(team: SlackTeam, slack: Running) -> None:
    boss = team.member("U0BOSS", "jefa", real_name="Gerente de Operaciones")
    await slack.client.chat_postMessage(channel="U0BOSS", text="¿Apruebas la escalación?")
    assert [m.text for m in team.dms(boss)] == ["¿Apruebas la escalación?"]
    assert "U0BOSS" in slack.standin.support_channel.members


async def test_card_in_a_dm_and_ephemeral_button(team: SlackTeam, slack: Running, bolt: TinyBolt) -> None:
    boss = team.member("U0BOSS", "jefa")
    await slack.client.chat_postMessage(channel="U0BOSS", text="SOP-9 escalación", blocks=card_blocks("SOP-9"))
    card = await team.card_for("SOP-9", channel="U0BOSS")
    assert card.channel.startswith("D")
    await slack.client.chat_postEphemeral(channel="C0SUPPORT", user="U0BOSS", text="x", blocks=card_blocks("SOP-9"))
    # "slow" only records the body; "claim" would edit body["message"], which ephemerals do not carry.
    await team.click_ephemeral(team.ephemerals(boss)[0], "slow")
    body = bolt.actions[-1]
    assert body["container"]["is_ephemeral"] is True and "message" not in body
