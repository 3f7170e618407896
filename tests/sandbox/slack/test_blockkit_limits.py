"""Every Block Kit and message limit: the edge is accepted, one past it is refused with Slack's error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError

from sandbox.slack.harness import Running

Blocks = list[dict[str, Any]]


def section(text: str, block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    if block_id is not None:
        block["block_id"] = block_id
    return block


def button(action_id: str = "b", text: str = "Tomar", value: str = "v") -> dict[str, Any]:
    return {"type": "button", "action_id": action_id, "text": {"type": "plain_text", "text": text}, "value": value}


def actions(*elements: dict[str, Any], block_id: str = "acts") -> dict[str, Any]:
    return {"type": "actions", "block_id": block_id, "elements": list(elements)}


def header(text: str, kind: str = "plain_text") -> dict[str, Any]:
    return {"type": "header", "text": {"type": kind, "text": text}}


def fields(count: int, length: int = 5) -> dict[str, Any]:
    return {"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * length} for _ in range(count)]}


# name -> (blocks at the limit, blocks one past it, Slack's message for the refusal)
MESSAGE_LIMITS: dict[str, tuple[Callable[[], Blocks], Callable[[], Blocks], str]] = {
    "50 blocks": (
        lambda: [section("x")] * 50,
        lambda: [section("x")] * 51,
        "[ERROR] no more than 50 items allowed [json-pointer:/blocks]",
    ),
    "section text 3000": (
        lambda: [section("x" * 3000)],
        lambda: [section("x" * 3001)],
        "[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]",
    ),
    "10 fields": (
        lambda: [fields(10)],
        lambda: [fields(11)],
        "[ERROR] no more than 10 items allowed [json-pointer:/blocks/0/fields]",
    ),
    "field text 2000": (
        lambda: [fields(1, 2000)],
        lambda: [fields(1, 2001)],
        "[ERROR] must be less than 2001 characters [json-pointer:/blocks/0/fields/0/text]",
    ),
    "header 150": (
        lambda: [header("h" * 150)],
        lambda: [header("h" * 151)],
        "[ERROR] must be less than 151 characters [json-pointer:/blocks/0/text/text]",
    ),
    "header plain_text only": (
        lambda: [header("Ticket")],
        lambda: [header("Ticket", "mrkdwn")],
        "[ERROR] failed to match all allowed schemas [json-pointer:/blocks/0/text]",
    ),
    "button text 75": (
        lambda: [actions(button(text="t" * 75))],
        lambda: [actions(button(text="t" * 76))],
        "[ERROR] must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]",
    ),
    "button value 2000": (
        lambda: [actions(button(value="v" * 2000))],
        lambda: [actions(button(value="v" * 2001))],
        "[ERROR] must be less than 2001 characters [json-pointer:/blocks/0/elements/0/value]",
    ),
    "action_id 255": (
        lambda: [actions(button(action_id="a" * 255))],
        lambda: [actions(button(action_id="a" * 256))],
        "[ERROR] must be less than 256 characters [json-pointer:/blocks/0/elements/0/action_id]",
    ),
    "block_id 255": (
        lambda: [section("x", "b" * 255)],
        lambda: [section("x", "b" * 256)],
        "[ERROR] must be less than 256 characters [json-pointer:/blocks/0/block_id]",
    ),
    "block_id unique in a message": (
        lambda: [section("x", "one"), section("y", "two")],
        lambda: [section("x", "one"), section("y", "one")],
        '[ERROR] `block_id` "one" already exists [json-pointer:/blocks/1/block_id]',
    ),
    "action_id unique in a block": (
        lambda: [actions(button("claim"), block_id="a1"), actions(button("claim"), block_id="a2")],
        lambda: [actions(button("claim"), button("claim"))],
        '[ERROR] `action_id` "claim" already exists [json-pointer:/blocks/0/elements/1/action_id]',
    ),
    "25 elements in actions": (
        lambda: [actions(*[button(f"b{i}") for i in range(25)])],
        lambda: [actions(*[button(f"b{i}") for i in range(26)])],
        "[ERROR] no more than 25 items allowed [json-pointer:/blocks/0/elements]",
    ),
    "empty text": (
        lambda: [section(" ")],
        lambda: [section("")],
        "[ERROR] must be more than 0 characters [json-pointer:/blocks/0/text/text]",
    ),
    "unknown block type": (
        lambda: [{"type": "divider"}],
        lambda: [{"type": "banner"}],
        "[ERROR] failed to match all allowed schemas [json-pointer:/blocks/0]",
    ),
}


@pytest.mark.parametrize("name", list(MESSAGE_LIMITS))
async def test_message_block_limit(slack: Running, name: str) -> None:
    at_limit, past_limit, message = MESSAGE_LIMITS[name]
    ok = await slack.client.chat_postMessage(channel="C0SUPPORT", text="t", blocks=at_limit())
    assert ok["ok"]
    with pytest.raises(SlackApiError) as refused:
        await slack.client.chat_postMessage(channel="C0SUPPORT", text="t", blocks=past_limit())
    assert refused.value.response["error"] == "invalid_blocks"
    assert message in refused.value.response["response_metadata"]["messages"]
    assert slack.standin.violations[-1].error == "invalid_blocks"


async def test_chat_update_checks_blocks_too(slack: Running) -> None:
    ts = (await slack.client.chat_postMessage(channel="C0SUPPORT", text="t"))["ts"]
    with pytest.raises(SlackApiError) as refused:
        await slack.client.chat_update(channel="C0SUPPORT", ts=ts, text="t", blocks=[section("x" * 3001)])
    assert refused.value.response["error"] == "invalid_blocks"


async def test_all_block_text_together(slack: Running) -> None:
    """Four full sections (12,000 characters) pass; one more character is msg_blocks_too_long."""
    full = [section("x" * 3000) for _ in range(4)]
    assert (await slack.client.chat_postMessage(channel="C0SUPPORT", text="t", blocks=full))["ok"]
    with pytest.raises(SlackApiError) as refused:
        await slack.client.chat_postMessage(channel="C0SUPPORT", text="t", blocks=[*full, section("x")])
    assert refused.value.response["error"] == "msg_blocks_too_long"


async def test_message_text_40000(slack: Running) -> None:
    assert (await slack.client.chat_postMessage(channel="C0SUPPORT", text="x" * 40_000))["ok"]
    with pytest.raises(SlackApiError) as refused:
        await slack.client.chat_postMessage(channel="C0SUPPORT", text="x" * 40_001)
    assert refused.value.response["error"] == "msg_too_long"


async def test_no_text_and_no_blocks(slack: Running) -> None:
    with pytest.raises(SlackApiError) as refused, pytest.warns(UserWarning, match="text"):
        await slack.client.chat_postMessage(channel="C0SUPPORT", text="")
    assert refused.value.response["error"] == "no_text"


async def test_blocks_that_are_not_an_array(slack: Running) -> None:
    with pytest.raises(SlackApiError) as refused:
        await slack.client.api_call("chat.postMessage", data={"channel": "C0SUPPORT", "blocks": '{"type": "x"}'})
    assert refused.value.response["error"] == "invalid_blocks_format"


def modal(**extra: Any) -> dict[str, Any]:
    view: dict[str, Any] = {"type": "modal", "title": {"type": "plain_text", "text": "Ticket"}, "blocks": []}
    return {**view, **extra}


# name -> (view at the limit, view one past it, Slack's message)
VIEW_LIMITS: dict[str, tuple[Callable[[], dict[str, Any]], Callable[[], dict[str, Any]], str]] = {
    "modal title 24": (
        lambda: modal(title={"type": "plain_text", "text": "t" * 24}),
        lambda: modal(title={"type": "plain_text", "text": "t" * 25}),
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]",
    ),
    "private_metadata 3000": (
        lambda: modal(private_metadata="m" * 3000),
        lambda: modal(private_metadata="m" * 3001),
        "[ERROR] must be less than 3001 characters [json-pointer:/view/private_metadata]",
    ),
    "100 blocks in a modal": (
        lambda: modal(blocks=[section("x")] * 100),
        lambda: modal(blocks=[section("x")] * 101),
        "[ERROR] no more than 100 items allowed [json-pointer:/view/blocks]",
    ),
    "section text in a modal": (
        lambda: modal(blocks=[section("x" * 3000)]),
        lambda: modal(blocks=[section("x" * 3001)]),
        "[ERROR] must be less than 3001 characters [json-pointer:/view/blocks/0/text/text]",
    ),
}


@pytest.mark.parametrize("name", list(VIEW_LIMITS))
async def test_modal_limit(slack: Running, name: str) -> None:
    at_limit, past_limit, message = VIEW_LIMITS[name]
    slack.standin.add_user("U0AGENT", "ana")
    ok = await slack.client.views_open(trigger_id=slack.standin.new_trigger("U0AGENT"), view=at_limit())
    assert ok["ok"]
    with pytest.raises(SlackApiError) as refused:
        await slack.client.views_open(trigger_id=slack.standin.new_trigger("U0AGENT"), view=past_limit())
    assert refused.value.response["error"] == "invalid_arguments"
    assert message in refused.value.response["response_metadata"]["messages"]


async def test_home_tab_allows_100_blocks(slack: Running) -> None:
    slack.standin.add_user("U0AGENT", "ana")
    home = {"type": "home", "blocks": [section("x")] * 100}
    assert (await slack.client.views_publish(user_id="U0AGENT", view=home))["ok"]
    with pytest.raises(SlackApiError) as refused:
        await slack.client.views_publish(user_id="U0AGENT", view={**home, "blocks": [section("x")] * 101})
    assert refused.value.response["error"] == "invalid_arguments"


async def test_modal_with_inputs_needs_submit(slack: Running) -> None:
    slack.standin.add_user("U0AGENT", "ana")
    block = {
        "type": "input",
        "block_id": "q",
        "label": {"type": "plain_text", "text": "Q"},
        "element": {"type": "plain_text_input", "action_id": "a"},
    }
    with pytest.raises(SlackApiError) as refused:
        await slack.client.views_open(trigger_id=slack.standin.new_trigger("U0AGENT"), view=modal(blocks=[block]))
    assert refused.value.response["error"] == "invalid_arguments"
    good = modal(blocks=[block], submit={"type": "plain_text", "text": "Enviar"})
    assert (await slack.client.views_open(trigger_id=slack.standin.new_trigger("U0AGENT"), view=good))["ok"]
