"""What the code asks of Slack, read from its source: Web API methods called, events and interactions listened to.

Methods: every attribute named like one of slack_sdk's AsyncWebClient methods (`client.chat_postMessage`, called
or passed along), every `api_call("x.y")` with a literal name, and a Bolt listener's `say` (chat.postMessage).
slack_sdk's own source says which Web API methods each client method calls (files_upload_v2 calls two).
Listeners: Bolt registrations (`app.event("message")`, `@app.action(...)`, ...) in modules that import slack_bolt.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections import defaultdict
from copy import deepcopy
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from slack_sdk.web.async_client import AsyncWebClient

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("bot", "handlers", "storage")  # what ships; the sandbox and the tests are not the bot

# Bolt's listener registrations, by what they need in the app's configuration.
EVENT_LISTENERS = {"event": None, "message": "message"}  # app.message(...) listens to message events
INTERACTIVE = {
    "action", "block_action", "attachment_action", "dialog_submission", "dialog_cancellation", "view",
    "view_submission", "view_closed", "options", "block_suggestion", "dialog_suggestion",
}  # fmt: skip
SHORTCUTS = {"shortcut", "global_shortcut", "message_shortcut"}
COMMANDS = {"command"}


@dataclass
class SlackUsage:
    """What the scanned code needs from Slack; each value says where (file:line) it was found."""

    methods: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    events: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    interactive: set[str] = field(default_factory=set)  # where interactive listeners are registered
    shortcuts: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    commands: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    file_downloads: set[str] = field(default_factory=set)  # where a file's url_private is read
    unreadable: list[str] = field(default_factory=list)  # registrations whose name is not a literal


@cache
def client_methods() -> dict[str, frozenset[str]]:
    """slack_sdk's AsyncWebClient method -> the Web API methods it calls, followed through its own calls."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(AsyncWebClient)))
    [cls] = [node for node in tree.body if isinstance(node, ast.ClassDef)]
    functions = {fn.name: fn for fn in cls.body if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef)}
    direct: dict[str, set[str]] = defaultdict(set)
    uses: dict[str, set[str]] = defaultdict(set)
    for name, fn in functions.items():
        for node in ast.walk(fn):
            literal = _api_call_name(node)
            if literal:
                direct[name].add(literal)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
                if node.attr in functions and node.attr != name:
                    uses[name].add(node.attr)

    def resolve(name: str, seen: frozenset[str]) -> set[str]:
        found = set(direct[name])
        for other in uses[name] - seen:
            found |= resolve(other, seen | {other})
        return found

    table = {name: frozenset(resolve(name, frozenset({name}))) for name in functions}
    return {name: methods for name, methods in table.items() if methods and name != "api_call"}


def _api_call_name(node: ast.AST) -> str | None:
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "api_call"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        return node.args[0].value
    return None


def _imports_bolt(tree: ast.Module) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("slack_bolt"):
            return True
        if isinstance(node, ast.Import) and any(alias.name.startswith("slack_bolt") for alias in node.names):
            return True
    return False


def _literal(node: ast.expr) -> str | None:
    """A listener's name: a string, or the "type"/"callback_id" of a dict constraint."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Dict):
        for key, value in zip(node.keys, node.values, strict=True):
            if isinstance(key, ast.Constant) and key.value in ("type", "callback_id") and value is not None:
                return _literal(value)
    return None


def scan_source(text: str, where: str, usage: SlackUsage) -> None:
    """Add what one module's source asks of Slack to `usage`."""
    tree = ast.parse(text)
    methods = client_methods()
    bolt = _imports_bolt(tree)
    for node in ast.walk(tree):
        at = f"{where}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Attribute) and node.attr in methods:
            for method in methods[node.attr]:
                usage.methods[method].add(at)
        literal = _api_call_name(node)
        if literal:
            usage.methods[literal].add(at)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and "url_private" in node.value:
            usage.file_downloads.add(at)
        if not bolt:
            continue
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            params = {a.arg for a in node.args.args + node.args.kwonlyargs}
            if "say" in params:  # Bolt injects say(): chat.postMessage to the event's channel
                usage.methods["chat.postMessage"].add(at)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            _listener(node, node.func.attr, at, usage)


def _listener(call: ast.Call, kind: str, at: str, usage: SlackUsage) -> None:
    if kind not in EVENT_LISTENERS and kind not in INTERACTIVE | SHORTCUTS | COMMANDS:
        return
    receiver = call.func.value if isinstance(call.func, ast.Attribute) else None
    if isinstance(receiver, ast.Name) and receiver.id in ("log", "logger", "logging"):
        return
    if kind in INTERACTIVE:
        usage.interactive.add(at)
        return
    name = EVENT_LISTENERS.get(kind) or (_literal(call.args[0]) if call.args else None)
    if name is None:
        usage.unreadable.append(f"{at}: {kind}(...) without a literal name")
    elif kind in EVENT_LISTENERS:
        usage.events[name].add(at)
    elif kind in SHORTCUTS:
        usage.shortcuts[name].add(at)
    else:
        usage.commands[name].add(at)


def scan_product() -> SlackUsage:
    """What the shipped packages (bot, handlers, storage) ask of Slack (a copy: callers may add to it)."""
    return deepcopy(_product())


@cache
def _product() -> SlackUsage:
    usage = SlackUsage()
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")):
            scan_source(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)), usage)
    return usage


def slack_events_route() -> str:
    """The path bot/app.py serves Slack's HTTP requests on (add_post(PATH, self._slack_events))."""
    tree = ast.parse((ROOT / "bot" / "app.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "add_post"
            and len(node.args) == 2
            and isinstance(node.args[1], ast.Attribute)
            and node.args[1].attr == "_slack_events"
            and isinstance(node.args[0], ast.Constant)
        ):
            return str(node.args[0].value)
    raise AssertionError("bot/app.py registers no route for Slack's HTTP requests")
