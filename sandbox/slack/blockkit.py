"""Block Kit validation with Slack's limits and Slack's error wording (`[ERROR] ... [json-pointer:...]`)."""

from __future__ import annotations

import copy
import secrets
from dataclasses import dataclass, field
from typing import Any

MAX_MESSAGE_BLOCKS = 50
MAX_SURFACE_BLOCKS = 100  # modals and App Home
# Slack documents no exact figure for "all block text together"; 12,000 is where it starts refusing.
MAX_TOTAL_BLOCK_TEXT = 12_000
MAX_PRIVATE_METADATA = 3000
MAX_MODAL_TITLE = 24

_TEXT_ELEMENTS = {"plain_text_input", "email_text_input", "url_text_input", "number_input"}
_SELECTS = {
    "static_select",
    "multi_static_select",
    "external_select",
    "multi_external_select",
    "users_select",
    "multi_users_select",
    "conversations_select",
    "multi_conversations_select",
    "channels_select",
    "multi_channels_select",
}
_OPTION_LISTS = {"checkboxes": 10, "radio_buttons": 10, "overflow": 5}
_ELEMENTS = (
    {"button", "datepicker", "timepicker", "datetimepicker", "image", "file_input", "rich_text_input"}
    | _TEXT_ELEMENTS
    | _SELECTS
    | set(_OPTION_LISTS)
)
_BLOCKS = {"section", "header", "divider", "actions", "context", "input", "image", "rich_text", "video", "file"}
_BLOCKS |= {"markdown", "context_actions"}


def error(message: str, pointer: str) -> str:
    """Format one Block Kit complaint the way Slack lists it in `response_metadata.messages`."""
    return f"[ERROR] {message} [json-pointer:{pointer}]"


@dataclass
class Checker:
    """Walks one message or view, collecting every complaint (Slack reports them all at once)."""

    errors: list[str] = field(default_factory=list)
    block_ids: set[str] = field(default_factory=set)
    text_total: int = 0

    def fail(self, message: str, pointer: str) -> None:
        self.errors.append(error(message, pointer))

    def max_len(self, value: Any, limit: int, pointer: str) -> None:
        if isinstance(value, str) and len(value) > limit:
            self.fail(f"must be less than {limit + 1} characters", pointer)

    def id_field(self, obj: dict[str, Any], key: str, pointer: str) -> str | None:
        value = obj.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            self.fail("must be a string", f"{pointer}/{key}")
            return None
        self.max_len(value, 255, f"{pointer}/{key}")
        return value

    def text(self, obj: Any, pointer: str, *, limit: int, plain_only: bool = False) -> None:
        if not isinstance(obj, dict):
            self.fail("must provide an object", pointer)
            return
        kind = obj.get("type")
        if kind not in ("plain_text", "mrkdwn") or (plain_only and kind != "plain_text"):
            self.fail("failed to match all allowed schemas", pointer)
            if plain_only and kind == "mrkdwn":
                self.fail('must be one of the following: "plain_text"', f"{pointer}/type")
            return
        value = obj.get("text")
        if not isinstance(value, str):
            self.fail("missing required field: text", pointer)
            return
        if not value:
            self.fail("must be more than 0 characters", f"{pointer}/text")
        self.max_len(value, limit, f"{pointer}/text")
        self.text_total += len(value)

    def option(self, obj: Any, pointer: str, value_limit: int = 150) -> None:
        if not isinstance(obj, dict):
            self.fail("must provide an object", pointer)
            return
        self.text(obj.get("text"), f"{pointer}/text", limit=75)
        self.max_len(obj.get("value"), value_limit, f"{pointer}/value")

    def options(self, items: Any, pointer: str, limit: int) -> None:
        if not isinstance(items, list):
            self.fail("must provide an array", pointer)
            return
        if len(items) > limit:
            self.fail(f"no more than {limit} items allowed", pointer)
        for index, item in enumerate(items):
            self.option(item, f"{pointer}/{index}")

    def element(self, el: Any, pointer: str, action_ids: set[str]) -> None:
        if not isinstance(el, dict) or el.get("type") not in _ELEMENTS:
            self.fail("failed to match all allowed schemas", pointer)
            return
        kind = el["type"]
        action_id = self.id_field(el, "action_id", pointer)
        if action_id is not None:
            # Slack wants action_id unique within its block; equal ids in two blocks are legal.
            if action_id in action_ids:
                self.fail(f'`action_id` "{action_id}" already exists', f"{pointer}/action_id")
            action_ids.add(action_id)
        if "placeholder" in el:
            self.text(el["placeholder"], f"{pointer}/placeholder", limit=150, plain_only=True)
        if kind == "button":
            self.text(el.get("text"), f"{pointer}/text", limit=75, plain_only=True)
            self.max_len(el.get("value"), 2000, f"{pointer}/value")
            self.max_len(el.get("url"), 3000, f"{pointer}/url")
            if el.get("style") not in (None, "primary", "danger"):
                self.fail('must be one of the following: "primary", "danger"', f"{pointer}/style")
        elif kind == "image":
            self.max_len(el.get("alt_text"), 2000, f"{pointer}/alt_text")
        elif kind in _TEXT_ELEMENTS:
            self.max_len(el.get("initial_value"), 3000, f"{pointer}/initial_value")
            if isinstance(el.get("max_length"), int) and el["max_length"] > 3000:
                self.fail("must be less than or equal to 3000", f"{pointer}/max_length")
        elif kind in ("static_select", "multi_static_select"):
            if "options" in el:
                self.options(el["options"], f"{pointer}/options", 100)
            elif "option_groups" not in el:
                self.fail("must provide either options or option_groups", pointer)
        elif kind in _OPTION_LISTS:
            self.options(el.get("options"), f"{pointer}/options", _OPTION_LISTS[kind])

    def block(self, block: Any, pointer: str) -> None:
        if not isinstance(block, dict) or block.get("type") not in _BLOCKS:
            self.fail("failed to match all allowed schemas", pointer)
            return
        block_id = self.id_field(block, "block_id", pointer)
        if block_id is not None:
            if block_id in self.block_ids:
                self.fail(f'`block_id` "{block_id}" already exists', f"{pointer}/block_id")
            self.block_ids.add(block_id)
        kind = block["type"]
        action_ids: set[str] = set()
        if kind == "section":
            if "text" not in block and "fields" not in block:
                self.fail("must provide either text or fields", pointer)
            if "text" in block:
                self.text(block["text"], f"{pointer}/text", limit=3000)
            if "fields" in block:
                fields = block["fields"]
                if not isinstance(fields, list):
                    self.fail("must provide an array", f"{pointer}/fields")
                else:
                    if len(fields) > 10:
                        self.fail("no more than 10 items allowed", f"{pointer}/fields")
                    for index, item in enumerate(fields):
                        self.text(item, f"{pointer}/fields/{index}", limit=2000)
            if "accessory" in block:
                self.element(block["accessory"], f"{pointer}/accessory", action_ids)
        elif kind == "header":
            self.text(block.get("text"), f"{pointer}/text", limit=150, plain_only=True)
        elif kind in ("actions", "context"):
            limit = 25 if kind == "actions" else 10
            elements = block.get("elements")
            if not isinstance(elements, list) or not elements:
                self.fail("must provide an array with at least 1 item", f"{pointer}/elements")
                return
            if len(elements) > limit:
                self.fail(f"no more than {limit} items allowed", f"{pointer}/elements")
            for index, el in enumerate(elements):
                el_pointer = f"{pointer}/elements/{index}"
                if kind == "context" and isinstance(el, dict) and el.get("type") in ("plain_text", "mrkdwn"):
                    self.text(el, el_pointer, limit=3000)
                else:
                    self.element(el, el_pointer, action_ids)
        elif kind == "input":
            self.text(block.get("label"), f"{pointer}/label", limit=2000, plain_only=True)
            if "hint" in block:
                self.text(block["hint"], f"{pointer}/hint", limit=2000, plain_only=True)
            if "element" not in block:
                self.fail("missing required field: element", pointer)
            else:
                self.element(block["element"], f"{pointer}/element", action_ids)
        elif kind == "image":
            self.max_len(block.get("alt_text"), 2000, f"{pointer}/alt_text")
            if "title" in block:
                self.text(block["title"], f"{pointer}/title", limit=2000, plain_only=True)
        elif kind == "markdown":
            self.max_len(block.get("text"), 12_000, f"{pointer}/text")

    def blocks(self, blocks: Any, pointer: str, limit: int) -> None:
        if not isinstance(blocks, list):
            self.fail("must provide an array", pointer)
            return
        if len(blocks) > limit:
            self.fail(f"no more than {limit} items allowed", pointer)
        for index, block in enumerate(blocks):
            self.block(block, f"{pointer}/{index}")


def validate_message_blocks(blocks: Any) -> Checker:
    """Check the `blocks` of chat.postMessage / chat.update / chat.postEphemeral."""
    checker = Checker()
    checker.blocks(blocks, "/blocks", MAX_MESSAGE_BLOCKS)
    return checker


def _view_text(checker: Checker, obj: Any, pointer: str, limit: int) -> None:
    before = len(checker.errors)
    checker.text(obj, pointer, limit=limit, plain_only=True)
    if len(checker.errors) > before and error("failed to match all allowed schemas", pointer) not in checker.errors:
        # Slack reports a bad title/submit/close twice: the object's schema, then the field.
        checker.errors.insert(before, error("failed to match all allowed schemas", pointer))


def validate_view(view: Any, *, expect: tuple[str, ...] = ("modal",)) -> list[str]:
    """Check a modal or Home tab view; the result feeds `invalid_arguments` messages."""
    checker = Checker()
    if not isinstance(view, dict):
        checker.fail("must provide an object", "/view")
        return checker.errors
    kind = view.get("type")
    if kind not in expect:
        options = ", ".join(f'"{k}"' for k in expect)
        checker.fail(f"must be one of the following: {options}", "/view/type")
        return checker.errors
    if kind == "modal":
        if "title" not in view:
            checker.fail("missing required field: title", "/view")
        else:
            _view_text(checker, view["title"], "/view/title", MAX_MODAL_TITLE)
        for key in ("submit", "close"):
            if key in view:
                _view_text(checker, view[key], f"/view/{key}", 24)
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks") or [])
        if has_input and "submit" not in view:
            checker.fail("must provide submit when an input block is present", "/view/submit")
    checker.max_len(view.get("private_metadata"), MAX_PRIVATE_METADATA, "/view/private_metadata")
    checker.max_len(view.get("callback_id"), 255, "/view/callback_id")
    checker.max_len(view.get("external_id"), 255, "/view/external_id")
    checker.blocks(view.get("blocks"), "/view/blocks", MAX_SURFACE_BLOCKS)
    return checker.errors


def with_ids(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A copy where every block and interactive element has an id, as Slack fills them in on post."""
    out = copy.deepcopy(blocks)
    for block in out:
        if not isinstance(block, dict):
            continue
        block.setdefault("block_id", secrets.token_urlsafe(3))
        elements = list(block.get("elements") or []) if block.get("type") == "actions" else []
        elements += [block[k] for k in ("accessory", "element") if isinstance(block.get(k), dict)]
        for element in elements:
            if isinstance(element, dict) and element.get("type") in _ELEMENTS - {"image"}:
                element.setdefault("action_id", secrets.token_urlsafe(3))
    return out
