"""Block Kit checker as a pure function: boundaries by property, ids filled in like Slack, view shapes."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.slack.blockkit import validate_message_blocks, validate_view, with_ids


@settings(max_examples=60)
@given(st.integers(min_value=0, max_value=3200))
def test_section_text_accepted_exactly_from_1_to_3000(length: int) -> None:
    errors = validate_message_blocks([{"type": "section", "text": {"type": "mrkdwn", "text": "x" * length}}]).errors
    assert (errors == []) == (1 <= length <= 3000)


@settings(max_examples=40)
@given(st.integers(min_value=1, max_value=60))
def test_block_count_accepted_up_to_50(count: int) -> None:
    errors = validate_message_blocks([{"type": "divider"}] * count).errors
    assert (errors == []) == (count <= 50)


def test_all_errors_are_reported_at_once() -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}},
    ]
    assert len(validate_message_blocks(blocks).errors) == 2


def test_text_total_counts_every_text_object() -> None:
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "abc"}, "fields": [{"type": "mrkdwn", "text": "de"}]},
        {"type": "context", "elements": [{"type": "plain_text", "text": "f"}]},
    ]
    assert validate_message_blocks(blocks).text_total == 6


def test_with_ids_fills_missing_ids_and_keeps_given_ones() -> None:
    blocks: list[dict[str, Any]] = [
        {"type": "section", "block_id": "keep", "text": {"type": "mrkdwn", "text": "x"}},
        {"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "b"}}]},
    ]
    filled = with_ids(blocks)
    assert filled[0]["block_id"] == "keep"
    assert filled[1]["block_id"] and filled[1]["elements"][0]["action_id"]
    assert "block_id" not in blocks[1]  # the caller's blocks are not changed


def test_view_type_and_shape() -> None:
    assert validate_view({"type": "home", "blocks": []}) == [
        '[ERROR] must be one of the following: "modal" [json-pointer:/view/type]'
    ]
    assert validate_view("nope") == ["[ERROR] must provide an object [json-pointer:/view]"]
    assert validate_view({"type": "modal", "blocks": []}) == [
        "[ERROR] missing required field: title [json-pointer:/view]"
    ]


def test_select_options_limits() -> None:
    def select(n: int, value: str = "v") -> list[dict[str, object]]:
        options = [{"text": {"type": "plain_text", "text": f"o{i}"}, "value": f"{value}{i}"} for i in range(n)]
        element = {"type": "static_select", "action_id": "s", "options": options}
        return [{"type": "actions", "elements": [element]}]

    assert validate_message_blocks(select(100)).errors == []
    assert validate_message_blocks(select(101)).errors == [
        "[ERROR] no more than 100 items allowed [json-pointer:/blocks/0/elements/0/options]"
    ]
    assert validate_message_blocks(select(1, "v" * 150)).errors == [
        "[ERROR] must be less than 151 characters [json-pointer:/blocks/0/elements/0/options/0/value]"
    ]


def test_long_modal_title_is_reported_like_slack_twice() -> None:
    view = {"type": "modal", "title": {"type": "plain_text", "text": "t" * 25}, "blocks": []}
    assert validate_view(view) == [
        "[ERROR] failed to match all allowed schemas [json-pointer:/view/title]",
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]",
    ]
