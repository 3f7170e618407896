"""views.*: modals opened with a trigger (3 s, once), stacks of up to 3, updates guarded by hash, App Home."""

from __future__ import annotations

import copy
import secrets
from typing import TYPE_CHECKING, Any

from sandbox.slack.api import ApiError, Params, method
from sandbox.slack.blockkit import validate_view, with_ids
from sandbox.slack.model import View

if TYPE_CHECKING:
    from sandbox.slack.standin import SlackStandIn

MAX_STACK = 3


def _payload(p: Params, expect: tuple[str, ...]) -> dict[str, Any]:
    view = p.json("view")
    if view is None:
        raise ApiError("invalid_arguments", messages=["[ERROR] missing required field: view"])
    errors = validate_view(view, expect=expect)
    if errors:
        raise ApiError("invalid_arguments", messages=errors)
    assert isinstance(view, dict)  # validate_view refuses anything else
    return {**view, "blocks": with_ids(view.get("blocks") or [])}


def take_trigger(s: SlackStandIn, trigger_id: str) -> str:
    """Spend a trigger_id, returning its user; Slack's three refusals otherwise."""
    trigger = s.triggers.get(trigger_id)
    if trigger is None:
        raise ApiError("invalid_trigger_id")
    if trigger.used:
        raise ApiError("exchanged_trigger_id")
    if s.clock() - trigger.issued > s.config.trigger_ttl:
        raise ApiError("expired_trigger_id")
    trigger.used = True
    return trigger.user


def _new_view(s: SlackStandIn, user: str, payload: dict[str, Any]) -> View:
    external_id = payload.get("external_id")
    if external_id and any(v.payload.get("external_id") == external_id and not v.closed for v in s.views.values()):
        raise ApiError("duplicate_external_id")
    cfg = s.config
    view = View(s.new_id("V"), user, copy.deepcopy(payload), new_hash(s), cfg.team_id, cfg.app_id, cfg.bot_id)
    s.views[view.id] = view
    return view


def new_hash(s: SlackStandIn) -> str:
    return f"{int(s.clock())}.{secrets.token_hex(4)}"


def _trigger_user(s: SlackStandIn, p: Params) -> str:
    trigger_id = p.text("trigger_id") or p.text("interactivity_pointer")
    if not trigger_id:
        raise ApiError("invalid_arguments", messages=["[ERROR] missing required field: trigger_id"])
    return trigger_id


@method("views.open")
async def views_open(s: SlackStandIn, p: Params) -> dict[str, Any]:
    trigger_id = _trigger_user(s, p)
    if trigger_id not in s.triggers:
        raise ApiError("invalid_trigger_id")
    payload = _payload(p, ("modal",))
    user = take_trigger(s, trigger_id)
    for old in s.stacks.get(user, []):
        s.views[old].closed = True
    view = _new_view(s, user, payload)
    view.root_view_id = view.id
    s.stacks[user] = [view.id]
    s.check_mrkdwn("views.open", "", view.blocks, "/view/blocks")
    s.emit("view_opened", {"user": user, "view": view.to_api()})
    return {"view": view.to_api()}


@method("views.push")
async def views_push(s: SlackStandIn, p: Params) -> dict[str, Any]:
    trigger_id = _trigger_user(s, p)
    if trigger_id not in s.triggers:
        raise ApiError("invalid_trigger_id")
    payload = _payload(p, ("modal",))
    user = s.triggers[trigger_id].user
    stack = s.stacks.get(user) or []
    if not stack:
        raise ApiError("not_found")
    if len(stack) >= MAX_STACK:
        raise ApiError("push_limit_reached")
    take_trigger(s, trigger_id)
    view = _new_view(s, user, payload)
    view.root_view_id, view.previous_view_id = stack[0], stack[-1]
    stack.append(view.id)
    s.check_mrkdwn("views.push", "", view.blocks, "/view/blocks")
    s.emit("view_pushed", {"user": user, "view": view.to_api()})
    return {"view": view.to_api()}


def find_view(s: SlackStandIn, view_id: str, external_id: str) -> View:
    """An open modal or Home view by id or external_id, else Slack's `not_found`."""
    if not view_id and not external_id:
        raise ApiError("invalid_arguments", messages=["[ERROR] must provide view_id or external_id"])
    for view in s.views.values():
        if view.closed:
            continue
        if (view_id and view.id == view_id) or (external_id and view.payload.get("external_id") == external_id):
            return view
    raise ApiError("not_found")


def replace_payload(s: SlackStandIn, view: View, payload: dict[str, Any]) -> None:
    """Swap a view's content; what the user typed survives where the same block/action ids remain."""
    keep = {(b.get("block_id"), (b.get("element") or {}).get("action_id")) for b in payload.get("blocks") or []}
    view.values = {
        block: {a: v for a, v in actions.items() if (block, a) in keep} for block, actions in view.values.items()
    }
    view.values = {b: a for b, a in view.values.items() if a}
    view.payload = copy.deepcopy(payload)
    view.hash = new_hash(s)
    view.errors = {}


@method("views.update")
async def views_update(s: SlackStandIn, p: Params) -> dict[str, Any]:
    view = find_view(s, p.text("view_id"), p.text("external_id"))
    payload = _payload(p, (view.type,))
    expected = p.text("hash")
    if expected and expected != view.hash:
        raise ApiError("hash_conflict")
    replace_payload(s, view, payload)
    s.check_mrkdwn("views.update", "", view.blocks, "/view/blocks")
    s.emit("view_updated", {"user": view.user, "view": view.to_api()})
    return {"view": view.to_api()}


@method("views.publish")
async def views_publish(s: SlackStandIn, p: Params) -> dict[str, Any]:
    user = p.required("user_id", "invalid_arguments")
    if user not in s.users:
        raise ApiError("user_not_found")
    payload = _payload(p, ("home",))
    home = s.homes.get(user)
    expected = p.text("hash")
    if home is not None:
        if expected and expected != home.hash:
            raise ApiError("hash_conflict")
        replace_payload(s, home, payload)
    else:
        home = _new_view(s, user, payload)
        home.root_view_id = home.id
        s.homes[user] = home
    s.check_mrkdwn("views.publish", "", home.blocks, "/view/blocks")
    s.emit("home_published", {"user": user, "view": home.to_api()})
    return {"view": home.to_api()}
