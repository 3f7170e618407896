"""Signed deliveries reach a real bolt app: block_actions, view_submission, view_closed, thread messages, Home."""

from __future__ import annotations

from typing import Any

from sandbox.slack import SlackTeam, User
from sandbox.slack.harness import Running
from tests.sandbox.slack.conftest import TinyBolt, card_blocks


async def post_card(slack: Running, ticket: str = "SOP-2026-000001") -> str:
    resp = await slack.client.chat_postMessage(channel="C0SUPPORT", text=f"Ticket {ticket}", blocks=card_blocks(ticket))
    return str(resp["ts"])


async def test_block_actions_reach_bolt_shaped_like_slack(slack: Running, bolt: TinyBolt, agent: User) -> None:
    ts = await post_card(slack)
    delivery = await slack.standin.actions.click(agent, "C0SUPPORT", ts, "claim")
    assert delivery.acked
    body = bolt.actions[0]
    assert body["type"] == "block_actions"
    assert body["user"]["id"] == "U0AGENT"
    assert body["container"] == {"type": "message", "message_ts": ts, "channel_id": "C0SUPPORT", "is_ephemeral": False}
    assert body["channel"]["id"] == "C0SUPPORT"
    assert body["message"]["ts"] == ts
    action = body["actions"][0]
    assert (action["action_id"], action["block_id"], action["value"]) == ("claim", "ticket_actions", "SOP-2026-000001")
    assert action["action_ts"] and body["trigger_id"] and body["response_url"].startswith(slack.base_url)
    assert body["team"]["id"] == "T0SANDBOX" and body["api_app_id"] == "A0SANDBOX"


async def test_click_uses_the_current_version_of_the_card(team: SlackTeam, slack: Running, agent: User) -> None:
    """After "claim" the bot replaced the buttons; the old action_id must no longer be clickable."""
    ts = await post_card(slack)
    card = await team.card_for("SOP-2026-000001")
    assert card.ts == ts
    await team.click(card, "claim", as_user=agent)
    assert "Tomado por <@U0AGENT>" in team.message(card).text
    assert team.message(card).edits[0]["text"] == "Ticket SOP-2026-000001"
    try:
        await team.click(card, "claim", as_user=agent)
    except Exception as exc:
        assert "resolve" in str(exc) and "claim" in str(exc)
    else:
        raise AssertionError("a button that is gone was clicked")


async def test_view_submission_with_state_values_and_close(team: SlackTeam, slack: Running, agent: User) -> None:
    await post_card(slack)
    card = await team.card_for("SOP-2026-000001")
    await team.click(card, "ask", as_user=agent)
    view = await team.modal(agent)
    assert view.payload["private_metadata"] == "SOP-2026-000001"
    await team.submit(view, {"question": {"text": "¿Qué modelo?"}, "severity": {"pick": "2"}}, as_user=agent)
    body = team_submission(slack, 0)
    values = body["view"]["state"]["values"]
    assert values["question"]["text"] == {"type": "plain_text_input", "value": "¿Qué modelo?"}
    assert values["severity"]["pick"]["selected_option"]["value"] == "2"
    assert body["view"]["callback_id"] == "form" and body["view"]["hash"]
    assert team.view(agent) is None  # an empty ack closes the modal


def team_submission(slack: Running, index: int) -> dict[str, Any]:
    submissions = [d.payload for d in slack.standin.deliverer.log if d.payload.get("type") == "view_submission"]
    return submissions[index]


async def test_response_action_errors_keeps_modal_open(team: SlackTeam, slack: Running, agent: User) -> None:
    await post_card(slack)
    card = await team.card_for("SOP-2026-000001")
    await team.click(card, "ask", as_user=agent)
    view = await team.modal(agent)
    await team.submit(view, {"question": {"text": "bad"}}, as_user=agent)
    still = team.view(agent)
    assert still is not None and still.id == view.id
    assert still.errors == {"question": "Escribe una pregunta"}


async def test_response_action_update_push_clear(team: SlackTeam, slack: Running, agent: User) -> None:
    await post_card(slack)
    card = await team.card_for("SOP-2026-000001")
    await team.click(card, "ask", as_user=agent)
    view = await team.modal(agent)
    old_hash = view.hash
    await team.submit(view, {"question": {"text": "more"}}, as_user=agent)
    updated = team.view(agent)
    assert updated is not None and updated.id == view.id
    assert updated.payload["title"]["text"] == "Más" and updated.hash != old_hash
    await team.submit(updated, {"question": {"text": "push"}}, as_user=agent)
    assert len(slack.standin.stacks["U0AGENT"]) == 2
    top = team.view(agent)
    assert top is not None and top.previous_view_id == view.id
    await team.submit(top, {"question": {"text": "clear"}}, as_user=agent)
    assert team.view(agent) is None


async def test_view_closed_delivered_when_notify_on_close(
    team: SlackTeam, slack: Running, bolt: TinyBolt, agent: User
) -> None:
    await post_card(slack)
    card = await team.card_for("SOP-2026-000001")
    await team.click(card, "ask", as_user=agent)
    view = await team.modal(agent)
    await team.close(view, as_user=agent)
    assert bolt.closed[0]["type"] == "view_closed" and bolt.closed[0]["view"]["id"] == view.id
    assert team.view(agent) is None


async def test_thread_reply_delivered_and_bot_messages_not_echoed(
    team: SlackTeam, slack: Running, bolt: TinyBolt, agent: User
) -> None:
    await post_card(slack)
    card = await team.card_for("SOP-2026-000001")
    await team.reply_in_thread(card, "¿Ya reiniciaste?", as_user=agent)
    assert [m["text"] for m in bolt.messages] == ["¿Ya reiniciaste?"]  # the bot's "recibido" is not delivered
    event = bolt.messages[0]
    assert event["thread_ts"] == card.ts and event["user"] == "U0AGENT" and event["parent_user_id"] == "U0SUPPORTBOT"
    assert [m.text for m in team.thread(card)] == ["¿Ya reiniciaste?", "recibido"]


async def test_app_home_opened_and_published(team: SlackTeam, bolt: TinyBolt, agent: User) -> None:
    home = await team.open_home(agent)
    assert bolt.homes[0]["type"] == "app_home_opened" and bolt.homes[0]["tab"] == "home"
    assert home is not None and home.type == "home" and "Tus tickets" in str(home.blocks)


async def test_slow_event_ack_is_retried_with_slack_headers(slack: Running, bolt: TinyBolt, agent: User) -> None:
    """bolt-python #868: a slow ack makes Slack retry, so the handler sees the same event again."""
    slack.standin.config.ack_timeout = 0.2
    bolt.event_delay = 0.3
    ts = await post_card(slack)
    _, delivery = await slack.standin.actions.post(agent, "C0SUPPORT", "hola", thread_ts=ts)
    assert [a.reason for a in delivery.attempts] == ["http_timeout"] * 4
    retries = [h.get("x-slack-retry-num") for h in bolt.event_headers]
    assert retries[:4] == [None, "1", "2", "3"]
    assert {h.get("x-slack-retry-reason") for h in bolt.event_headers[1:4]} == {"http_timeout"}
    assert any(v.kind == "unacked_event" for v in slack.standin.violations)


async def test_fast_event_is_not_retried(slack: Running, bolt: TinyBolt, agent: User) -> None:
    ts = await post_card(slack)
    _, delivery = await slack.standin.actions.post(agent, "C0SUPPORT", "hola", thread_ts=ts)
    assert delivery.acked and delivery.retries == 0


async def test_unacked_interaction_is_operation_timeout(slack: Running, bolt: TinyBolt, agent: User) -> None:
    """bolt-python #537: work before ack() shows "operation_timeout" to the person who clicked."""
    slack.standin.config.ack_timeout = 0.2
    bolt.slow_ack = 0.4
    ts = await post_card(slack)
    delivery = await slack.standin.actions.click(agent, "C0SUPPORT", ts, "slow")
    assert not delivery.acked
    assert [(v.kind, v.error) for v in slack.standin.violations] == [("unacked_interaction", "operation_timeout")]


async def test_replay_delivers_the_same_payload_again(slack: Running, bolt: TinyBolt, agent: User) -> None:
    ts = await post_card(slack)
    first = await slack.standin.actions.click(agent, "C0SUPPORT", ts, "claim")
    again = await slack.standin.deliverer.replay(first)
    assert again.acked and again.payload == first.payload
    assert len(bolt.actions) == 2 and bolt.actions[0]["actions"] == bolt.actions[1]["actions"]


async def test_byte_for_byte_replay_passes_bolt_signature_check(slack: Running, bolt: TinyBolt, agent: User) -> None:
    """LIMITS: a replay inside 300 s passes the signature check, so the bot must de-duplicate itself."""
    ts = await post_card(slack)
    _, first = await slack.standin.actions.post(agent, "C0SUPPORT", "hola", thread_ts=ts)
    again = await slack.standin.deliverer.replay(first, same_bytes=True)
    assert again.acked
    assert again.attempts[0].sent == first.attempts[0].sent
    texts = [m["text"] for m in bolt.messages]
    assert texts == ["hola", "hola"]
    assert bolt.event_headers[0]["x-slack-signature"] == bolt.event_headers[1]["x-slack-signature"]


async def test_typed_text_arrives_escaped_like_the_slack_client_sends_it(
    team: SlackTeam, slack: Running, bolt: TinyBolt, agent: User
) -> None:
    """The bot must unescape `&amp; &lt; &gt;` before relaying an agent's words to the client."""
    await post_card(slack)
    card = await team.card_for("SOP-2026-000001")
    await team.reply_in_thread(card, "usa a < b & c > d", as_user=agent)
    event = bolt.messages[0]
    assert event["text"] == "usa a &lt; b &amp; c &gt; d"
    assert event["blocks"][0]["elements"][0]["elements"][0]["text"] == "usa a < b & c > d"
    await team.reply_in_thread(card, "<@U0SUPPORTBOT> ayuda", as_user=agent, raw=True)
    assert bolt.messages[1]["text"] == "<@U0SUPPORTBOT> ayuda"


async def test_click_in_home_tab_has_a_view_container(
    team: SlackTeam, slack: Running, bolt: TinyBolt, agent: User
) -> None:
    button = {"type": "button", "action_id": "slow", "value": "h", "text": {"type": "plain_text", "text": "Ver"}}
    home = {"type": "home", "blocks": [{"type": "actions", "block_id": "home_actions", "elements": [button]}]}
    published = (await slack.client.views_publish(user_id="U0AGENT", view=home))["view"]
    view = team.home(agent)
    assert view is not None
    await team.click_in_view(view, "slow", as_user=agent)
    body = bolt.actions[-1]
    assert body["container"] == {"type": "view", "view_id": published["id"]}
    assert body["view"]["type"] == "home" and body["actions"][0]["value"] == "h"
