"""What a user typed into a modal, shaped as Slack puts it in `view.state.values`, and what the client allows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sandbox.slack.model import View

_TEXT = {"plain_text_input", "email_text_input", "url_text_input", "number_input"}
_ONE_OPTION = {"static_select", "radio_buttons", "external_select"}
_MANY_OPTIONS = {"multi_static_select", "checkboxes", "multi_external_select"}
_PICKERS = {
    "users_select": "selected_user",
    "multi_users_select": "selected_users",
    "conversations_select": "selected_conversation",
    "multi_conversations_select": "selected_conversations",
    "channels_select": "selected_channel",
    "multi_channels_select": "selected_channels",
    "datepicker": "selected_date",
    "timepicker": "selected_time",
    "datetimepicker": "selected_date_time",
}


class SubmitRefused(Exception):
    """The Slack client would not let the user submit this (missing required input, unknown option...)."""


def stateful_elements(view: View) -> Iterator[tuple[str, dict[str, Any], bool]]:
    """(block_id, element, required) for every element whose value lands in state.values."""
    for block in view.blocks:
        block_id = str(block.get("block_id", ""))
        if block.get("type") == "input" and isinstance(block.get("element"), dict):
            yield block_id, block["element"], not block.get("optional", False)
        elif block.get("type") == "actions":
            for el in block.get("elements") or []:
                if el.get("type") != "button":
                    yield block_id, el, False
        elif block.get("type") == "section" and isinstance(block.get("accessory"), dict):
            if block["accessory"].get("type") not in ("button", "image", "overflow"):
                yield block_id, block["accessory"], False


def _options(element: dict[str, Any]) -> list[dict[str, Any]]:
    found = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        found += group.get("options") or []
    return found


def _option(element: dict[str, Any], value: Any) -> dict[str, Any]:
    for option in _options(element):
        if option.get("value") == value:
            return option
    values = [o.get("value") for o in _options(element)]
    raise SubmitRefused(f"{element.get('action_id')}: {value!r} is not an option (options: {values})")


def shape(element: dict[str, Any], value: Any) -> dict[str, Any]:
    """One `state.values[block][action]` entry for a simple value the test gave."""
    kind = str(element.get("type"))
    entry: dict[str, Any] = {"type": kind}
    if kind in _TEXT:
        entry["value"] = None if value is None else str(value)
        if kind == "number_input" and value is not None:
            try:
                float(str(value))
            except ValueError:
                raise SubmitRefused(f"{element.get('action_id')}: {value!r} is not a number") from None
    elif kind in _ONE_OPTION:
        entry["selected_option"] = None if value is None else _option(element, value)
    elif kind in _MANY_OPTIONS:
        entry["selected_options"] = [_option(element, v) for v in (value or [])]
    elif kind in _PICKERS:
        entry[_PICKERS[kind]] = value
    elif kind == "rich_text_input":
        text = "" if value is None else str(value)
        entry["rich_text_value"] = {
            "type": "rich_text",
            "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}],
        }
    else:
        entry["value"] = value
    return entry


def _empty(entry: dict[str, Any]) -> bool:
    payload = [v for k, v in entry.items() if k != "type"]
    return all(v in (None, "", []) for v in payload)


def fill(view: View, typed: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Merge what the user typed into the view's state, refusing what the Slack client would refuse."""
    known = {(b, str(el.get("action_id", ""))): (el, req) for b, el, req in stateful_elements(view)}
    for block_id, actions in typed.items():
        for action_id in actions:
            if (block_id, action_id) not in known:
                listing = sorted(f"{b}.{a}" for b, a in known)
                raise SubmitRefused(f"no input {block_id}.{action_id} in view {view.id} (inputs: {listing})")
    values: dict[str, dict[str, Any]] = {}
    for (block_id, action_id), (element, required) in known.items():
        if block_id in typed and action_id in typed[block_id]:
            entry = shape(element, typed[block_id][action_id])
        elif action_id in view.values.get(block_id, {}):
            entry = view.values[block_id][action_id]
        else:
            entry = shape(element, _initial(element))
        if required and _empty(entry):
            raise SubmitRefused(f"required input {block_id}.{action_id} is empty; the client blocks submit")
        max_length = element.get("max_length")
        if isinstance(max_length, int) and isinstance(entry.get("value"), str) and len(entry["value"]) > max_length:
            raise SubmitRefused(f"{block_id}.{action_id} is longer than max_length {max_length}")
        values.setdefault(block_id, {})[action_id] = entry
    return values


def _initial(element: dict[str, Any]) -> Any:
    if "initial_value" in element:
        return element["initial_value"]
    if "initial_option" in element:
        return element["initial_option"].get("value")
    if "initial_options" in element:
        return [o.get("value") for o in element["initial_options"]]
    for key in ("initial_user", "initial_date", "initial_time", "initial_conversation", "initial_channel"):
        if key in element:
            return element[key]
    return None
