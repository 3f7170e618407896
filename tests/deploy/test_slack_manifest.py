"""deploy/slack-manifest.yml (HTTP mode) and slack-manifest.socket-mode.yml, held against what the code calls.

The methods and events come from the source (tests/deploy/slack_usage.py), the scopes they need from
handlers/slack/scopes.py: a Web API call added without its scope, an event listened to but not subscribed, or a
scope the code no longer needs, each fails here.
"""

from __future__ import annotations

from copy import deepcopy
from pathlib import Path
from typing import Any

import pytest
import yaml

from handlers.slack.scopes import BOT_SCOPES, EVENT_SCOPES, FILE_DOWNLOAD_SCOPES, METHOD_SCOPES
from sandbox.slack.standin import MANIFEST_SCOPES
from tests.deploy.slack_usage import ROOT, SlackUsage, scan_product, scan_source, slack_events_route

HTTP_MANIFEST = ROOT / "deploy" / "slack-manifest.yml"
SOCKET_MANIFEST = ROOT / "deploy" / "slack-manifest.socket-mode.yml"


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _scopes(manifest: dict[str, Any]) -> set[str]:
    return set(manifest["oauth_config"]["scopes"]["bot"])


def _events(manifest: dict[str, Any]) -> set[str]:
    return set(manifest["settings"]["event_subscriptions"]["bot_events"])


def _where(places: set[str]) -> str:
    return ", ".join(sorted(places)[:3])


def manifest_problems(manifest: dict[str, Any], usage: SlackUsage) -> list[str]:
    """Everything on which the manifest and the code disagree, one sentence each."""
    problems = list(usage.unreadable)
    scopes, events = _scopes(manifest), _events(manifest)
    features = manifest.get("features") or {}
    justified: set[str] = set()
    for method, places in sorted(usage.methods.items()):
        if method not in METHOD_SCOPES:
            problems.append(f"{method} (called at {_where(places)}) is not in handlers/slack/scopes.py METHOD_SCOPES: "
                            "add it with the scopes Slack's method reference names")  # fmt: skip
            continue
        needed = METHOD_SCOPES[method]
        if needed and not needed & scopes:
            problems.append(
                f"{method} (called at {_where(places)}) needs one of {sorted(needed)}; the manifest has none"
            )
        justified |= needed & scopes
    code_events = set(usage.events)
    for event in sorted(code_events):
        subscribed = {e for e in events if e.startswith("message.")} if event == "message" else events & {event}
        if not subscribed:
            problems.append(f"the code listens to {event!r} ({_where(usage.events[event])}), the manifest subscribes "
                            "to no such event")  # fmt: skip
    for event in sorted(events):
        listened = "message" if event.startswith("message.") else event
        if listened not in code_events:
            problems.append(f"the manifest subscribes to {event}, but nothing in the code listens to it")
        if event not in EVENT_SCOPES:
            problems.append(f"event {event} is not in handlers/slack/scopes.py EVENT_SCOPES")
            continue
        if EVENT_SCOPES[event] and not EVENT_SCOPES[event] & scopes:
            problems.append(f"event {event} needs one of {sorted(EVENT_SCOPES[event])}; the manifest has none")
        justified |= EVENT_SCOPES[event] & scopes
    if usage.file_downloads:
        if not FILE_DOWNLOAD_SCOPES & scopes:
            problems.append(f"files are downloaded ({_where(usage.file_downloads)}): {sorted(FILE_DOWNLOAD_SCOPES)}")
        justified |= FILE_DOWNLOAD_SCOPES & scopes
    for scope in sorted(scopes - justified):
        problems.append(f"the manifest asks for {scope}, but nothing in the code needs it")
    interactivity = bool((manifest["settings"].get("interactivity") or {}).get("is_enabled"))
    wants_interactivity = bool(usage.interactive or usage.shortcuts)
    if interactivity != wants_interactivity:
        state, listeners = ("on", "has no") if interactivity else ("off", "registers")
        problems.append(f"interactivity is {state} in the manifest, but the code {listeners} action/view listeners")
    shortcuts = {s["callback_id"] for s in features.get("shortcuts") or []}
    if shortcuts != set(usage.shortcuts):
        problems.append(f"shortcuts: manifest {sorted(shortcuts)}, code {sorted(usage.shortcuts)}")
    commands = {c["command"] for c in features.get("slash_commands") or []}
    if commands != set(usage.commands):
        problems.append(f"slash commands: manifest {sorted(commands)}, code {sorted(usage.commands)}")
    home = features.get("app_home") or {}
    if "views.publish" in usage.methods and not home.get("home_tab_enabled"):
        problems.append("views.publish is called, but the Home tab is off (features.app_home.home_tab_enabled)")
    if "conversations.open" in usage.methods and not home.get("messages_tab_enabled"):
        problems.append("the bot sends DMs, but the Messages tab is off (features.app_home.messages_tab_enabled)")
    return problems


@pytest.fixture(scope="module")
def usage() -> SlackUsage:
    return scan_product()


@pytest.mark.parametrize("path", [HTTP_MANIFEST, SOCKET_MANIFEST], ids=["http", "socket-mode"])
def test_the_manifest_grants_what_the_code_calls_and_nothing_more(path: Path, usage: SlackUsage) -> None:
    # The scan itself must see the calls it is meant to guard, or an empty scan would pass anything.
    assert {"chat.postMessage", "views.open", "files.completeUploadExternal", "users.info"} <= set(usage.methods)
    assert {"message", "app_home_opened"} <= set(usage.events) and usage.interactive
    assert manifest_problems(_load(path), usage) == []


def test_the_scope_lists_agree_manifests_module_and_stand_in() -> None:
    """doctor checks an install against BOT_SCOPES, and the stand-in grants MANIFEST_SCOPES: both are the file's."""
    assert _scopes(_load(HTTP_MANIFEST)) == set(BOT_SCOPES) == set(MANIFEST_SCOPES) == _scopes(_load(SOCKET_MANIFEST))
    assert len(BOT_SCOPES) == len(set(BOT_SCOPES))


def test_http_mode_points_slack_at_the_route_the_bot_serves() -> None:
    settings = _load(HTTP_MANIFEST)["settings"]
    route = slack_events_route()
    for url in (settings["event_subscriptions"]["request_url"], settings["interactivity"]["request_url"]):
        assert url.startswith("https://") and url.endswith(route), url
    assert settings["socket_mode_enabled"] is False


def test_socket_mode_is_the_same_app_without_request_urls() -> None:
    http, socket = _load(HTTP_MANIFEST), _load(SOCKET_MANIFEST)
    assert socket["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in socket["settings"]["event_subscriptions"]
    assert "request_url" not in socket["settings"]["interactivity"]
    http_without_urls = deepcopy(http)
    del http_without_urls["settings"]["event_subscriptions"]["request_url"]
    del http_without_urls["settings"]["interactivity"]["request_url"]
    http_without_urls["settings"]["socket_mode_enabled"] = True
    assert http_without_urls == socket


# --- the guard itself: what a change that forgets the manifest looks like ---------------------------------------
def _with(code: str) -> SlackUsage:
    usage = scan_product()
    scan_source(code, "new.py", usage)
    return usage


def test_a_new_call_whose_method_is_not_in_the_table_fails() -> None:
    usage = _with("async def pin(client):\n    await client.pins_add(channel='C1', timestamp='1.0')\n")
    problems = manifest_problems(_load(HTTP_MANIFEST), usage)
    assert any(p.startswith("pins.add (called at new.py:2) is not in") for p in problems), problems


def test_a_new_call_without_its_scope_in_the_manifest_fails() -> None:
    manifest = _load(HTTP_MANIFEST)
    manifest["oauth_config"]["scopes"]["bot"].remove("reactions:write")
    problems = manifest_problems(manifest, scan_product())
    assert any(p.startswith("reactions.add (called at handlers/slack/senders.py") for p in problems), problems
    usage = _with("async def who(app):\n    await app.client.api_call('team.info')\n")
    assert any(p.startswith("team.info (called at new.py:2)") for p in manifest_problems(_load(HTTP_MANIFEST), usage))


def test_a_new_listener_without_its_event_or_shortcut_fails() -> None:
    code = (
        "from slack_bolt.async_app import AsyncApp\n"
        "def register(app: AsyncApp) -> None:\n"
        "    app.event('app_mention')(print)\n"
        "    app.shortcut('open_ticket')(print)\n"
        "    app.command('/ticket')(print)\n"
        "    async def hello(say):\n"
        "        await say('hola')\n"
    )
    problems = manifest_problems(_load(HTTP_MANIFEST), _with(code))
    assert any("listens to 'app_mention' (new.py:3)" in p for p in problems), problems
    assert "shortcuts: manifest [], code ['open_ticket']" in problems
    assert "slash commands: manifest [], code ['/ticket']" in problems


def test_a_scope_or_event_nothing_uses_fails() -> None:
    manifest = _load(HTTP_MANIFEST)
    manifest["oauth_config"]["scopes"]["bot"].append("channels:manage")
    manifest["settings"]["event_subscriptions"]["bot_events"].append("reaction_added")
    problems = manifest_problems(manifest, scan_product())
    assert "the manifest asks for channels:manage, but nothing in the code needs it" in problems
    assert "the manifest subscribes to reaction_added, but nothing in the code listens to it" in problems
