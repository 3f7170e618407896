"""What people do in the fake Slack: click, submit or close a modal, write in a thread, open the App Home."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from sandbox.slack import mrkdwn, payloads
from sandbox.slack.blockkit import validate_message_blocks, validate_view, with_ids
from sandbox.slack.delivery import Delivery
from sandbox.slack.methods_views import MAX_STACK, new_hash, replace_payload
from sandbox.slack.model import Ephemeral, File, Message, User, View
from sandbox.slack.viewstate import fill

if TYPE_CHECKING:
    from sandbox.slack.standin import SlackStandIn

RESPONSE_URL_USES = 5
RESPONSE_URL_TTL = 30 * 60


class ActionError(Exception):
    """A user action that cannot happen in Slack (no such button, no such view, user not in channel)."""


def interactive_elements(blocks: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(block_id, element) for every button, select and overflow a person could click."""
    found: list[tuple[str, dict[str, Any]]] = []
    for block in blocks:
        block_id = str(block.get("block_id", ""))
        if block.get("type") == "actions":
            found += [(block_id, el) for el in block.get("elements") or [] if isinstance(el, dict)]
        elif block.get("type") == "section" and isinstance(block.get("accessory"), dict):
            found.append((block_id, block["accessory"]))
    return [(b, el) for b, el in found if "action_id" in el]


def _pick(blocks: list[dict[str, Any]], action_id: str, block_id: str | None, where: str) -> tuple[str, dict[str, Any]]:
    matches = [
        (b, el)
        for b, el in interactive_elements(blocks)
        if el.get("action_id") == action_id and (block_id is None or b == block_id)
    ]
    if len(matches) == 1:
        return matches[0]
    available = [f"{b}/{el.get('action_id')}" for b, el in interactive_elements(blocks)]
    if not matches:
        raise ActionError(f"no element with action_id {action_id!r} on {where}; available: {available}")
    raise ActionError(f"action_id {action_id!r} is in several blocks on {where}; pass block_id ({available})")


class Actions:
    """Drives the stand-in as the people in the workspace; every action is delivered to the bot, signed."""

    def __init__(self, standin: SlackStandIn) -> None:
        self.s = standin

    def user(self, ref: User | str) -> User:
        user_id = ref.id if isinstance(ref, User) else ref
        user = self.s.users.get(user_id)
        if user is None:
            raise ActionError(f"unknown user {user_id!r}; known: {sorted(self.s.users)}")
        return user

    def _option(self, element: dict[str, Any], option: Any) -> Any:
        if element.get("type") == "button":
            return element.get("value")
        for item in element.get("options") or []:
            if item.get("value") == option:
                return copy.deepcopy(item)
        raise ActionError(
            f"{element.get('action_id')}: choose an option, one of "
            f"{[o.get('value') for o in element.get('options') or []]}"
        )

    async def click(
        self,
        user: User | str,
        channel: str,
        ts: str,
        action_id: str,
        *,
        block_id: str | None = None,
        option: Any = None,
    ) -> Delivery:
        """Press a button (or pick an option) on the current version of a message."""
        who = self.user(user)
        message = self.s.messages.get((channel, ts))
        if message is None or message.deleted:
            raise ActionError(f"no message {ts} in {channel}")
        if who.id not in self.s.channels[channel].members:
            raise ActionError(f"{who.id} is not in {channel} and cannot see the message")
        found_block, element = _pick(message.blocks, action_id, block_id, f"message {ts}")
        act = payloads.action(element, found_block, self.s.new_ts(), self._option(element, option))
        return await self.s.deliverer.interactive(
            payloads.block_actions_message(self.s, who, message, channel, ts, act)
        )

    async def click_ephemeral(self, ephemeral: Ephemeral, action_id: str, *, block_id: str | None = None) -> Delivery:
        """Press a button in an ephemeral message; Slack sends no `message` for those, only the container."""
        who = self.user(ephemeral.user)
        found_block, element = _pick(ephemeral.blocks, action_id, block_id, f"ephemeral {ephemeral.ts}")
        act = payloads.action(element, found_block, self.s.new_ts(), self._option(element, None))
        payload = payloads.block_actions_message(self.s, who, None, ephemeral.channel, ephemeral.ts, act)
        payload["container"]["is_ephemeral"] = True
        payload.pop("message", None)
        return await self.s.deliverer.interactive(payload)

    async def forge_click(
        self,
        user: User | str,
        channel: str,
        ts: str,
        action_id: str,
        *,
        block_id: str = "forged",
        value: str | None = None,
    ) -> Delivery:
        """A block_actions payload for a button that may not exist (stale card, crafted request)."""
        who = self.user(user)
        message = self.s.messages.get((channel, ts))
        element = {"type": "button", "action_id": action_id, "text": {"type": "plain_text", "text": action_id}}
        act = payloads.action(element, block_id, self.s.new_ts(), value)
        return await self.s.deliverer.interactive(
            payloads.block_actions_message(self.s, who, message, channel, ts, act)
        )

    def top_view(self, user: User | str) -> View | None:
        stack = self.s.stacks.get(self.user(user).id) or []
        return self.s.views[stack[-1]] if stack else None

    def _view(self, who: User, view_id: str) -> View:
        view = self.s.views.get(view_id)
        if view is None or view.closed or view.user != who.id:
            raise ActionError(f"{who.id} has no open view {view_id}")
        return view

    async def click_in_view(
        self, user: User | str, view_id: str, action_id: str, *, block_id: str | None = None, option: Any = None
    ) -> Delivery:
        """Press a button inside an open modal or the user's App Home."""
        who = self.user(user)
        home = self.s.homes.get(who.id)
        view = home if home is not None and home.id == view_id else self._view(who, view_id)
        found_block, element = _pick(view.blocks, action_id, block_id, f"view {view_id}")
        act = payloads.action(element, found_block, self.s.new_ts(), self._option(element, option))
        return await self.s.deliverer.interactive(payloads.block_actions_view(self.s, who, view, act))

    async def submit(self, user: User | str, view_id: str, values: dict[str, dict[str, Any]]) -> Delivery:
        """Fill in and submit a modal, then apply the app's `response_action` as the client does."""
        who = self.user(user)
        view = self._view(who, view_id)
        stack = self.s.stacks.get(who.id) or []
        if not stack or stack[-1] != view.id:
            raise ActionError(f"view {view_id} is not on top of {who.id}'s stack; only the top can be submitted")
        view.values = fill(view, values)
        delivery = await self.s.deliverer.interactive(payloads.view_submission(self.s, who, view))
        if delivery.acked:
            self._apply(who, view, delivery.response or {})
        return delivery

    def _apply(self, who: User, view: View, answer: dict[str, Any]) -> None:
        kind = answer.get("response_action")
        stack = self.s.stacks.get(who.id) or []
        if kind is None:
            self._close_top(who)
        elif kind == "errors":
            errors = answer.get("errors") or {}
            inputs = {b.get("block_id") for b in view.blocks if b.get("type") == "input"}
            unknown = [k for k in errors if k not in inputs]
            if unknown or not isinstance(errors, dict):
                self.s.violate(
                    "invalid_response_action", "view_submission", "invalid_errors", unknown_block_ids=unknown
                )
                return
            view.errors = {str(k): str(v) for k, v in errors.items()}
            self.s.emit("view_errors", {"user": who.id, "view_id": view.id, "errors": view.errors})
        elif kind in ("update", "push"):
            problems = validate_view(answer.get("view"), expect=("modal",))
            if problems:
                self.s.violate("invalid_response_action", "view_submission", "invalid_view", messages=problems)
                return
            new_view = {**answer["view"], "blocks": with_ids(answer["view"].get("blocks") or [])}
            if kind == "update":
                replace_payload(self.s, view, new_view)
                self.s.emit("view_updated", {"user": who.id, "view": view.to_api()})
            elif len(stack) >= MAX_STACK:
                self.s.violate("invalid_response_action", "view_submission", "push_limit_reached")
            else:
                cfg = self.s.config
                pushed = View(
                    self.s.new_id("V"),
                    who.id,
                    new_view,
                    new_hash(self.s),
                    cfg.team_id,
                    cfg.app_id,
                    cfg.bot_id,
                    stack[0],
                    stack[-1],
                )
                self.s.views[pushed.id] = pushed
                stack.append(pushed.id)
                self.s.emit("view_pushed", {"user": who.id, "view": pushed.to_api()})
        elif kind == "clear":
            while self.s.stacks.get(who.id):
                self._close_top(who)
        else:
            self.s.violate("invalid_response_action", "view_submission", f"unknown response_action {kind!r}")

    def _close_top(self, who: User) -> View | None:
        stack = self.s.stacks.get(who.id) or []
        if not stack:
            return None
        view = self.s.views[stack.pop()]
        view.closed = True
        self.s.emit("view_closed", {"user": who.id, "view_id": view.id})
        return view

    async def close(self, user: User | str, view_id: str) -> Delivery | None:
        """Press the modal's close button; the app hears of it only if it asked (notify_on_close)."""
        who = self.user(user)
        view = self._view(who, view_id)
        cleared = bool(view.payload.get("clear_on_close"))
        if cleared:
            while self.s.stacks.get(who.id):
                self._close_top(who)
        else:
            self._close_top(who)
        if not view.payload.get("notify_on_close"):
            return None
        return await self.s.deliverer.interactive(payloads.view_closed(self.s, who, view, cleared=cleared))

    async def post(
        self,
        user: User | str,
        channel: str,
        text: str,
        *,
        thread_ts: str | None = None,
        files: list[dict[str, Any]] | None = None,
        raw: bool = False,
    ) -> tuple[Message, Delivery]:
        """A person writes a message (in a thread when thread_ts is given); the bot gets a `message` event.

        Like the Slack client, `& < >` in what the person typed arrive escaped (`&amp; &lt; &gt;`);
        `raw=True` sends the text as given, for markup the client would produce (`<@U0AGENT>`).
        """
        who = self.user(user)
        chan = self.s.resolve_channel(channel)
        if chan is None or who.id not in chan.members:
            raise ActionError(f"{who.id} cannot write in {channel}")
        if thread_ts is not None and (chan.id, thread_ts) not in self.s.messages:
            raise ActionError(f"no thread {thread_ts} in {chan.id}")
        wire = text if raw else mrkdwn.escape(text)
        message = Message(
            chan.id, self.s.new_ts(), who.id, wire, [], thread_ts, team=self.s.config.team_id, files=files or []
        )
        message.rendered = self.s.render(wire, [])
        self.s.messages[(chan.id, message.ts)] = message
        self.s.emit("message", {"channel": chan.id, "message": message.to_api(), "rendered": message.rendered})
        event = payloads.event_callback(self.s, payloads.message_event(self.s, message))
        return message, await self.s.deliverer.event(event)

    async def share_file(
        self,
        user: User | str,
        channel: str,
        name: str,
        content: bytes,
        *,
        mimetype: str = "application/octet-stream",
        text: str = "",
        thread_ts: str | None = None,
    ) -> tuple[Message, Delivery]:
        """A person drops a file into a conversation (a thread when thread_ts is given), with optional text:
        the bot gets a `file_share` message whose files carry a url_private it may download with its token."""
        who = self.user(user)
        file = File(
            self.s.new_id("F"), name, len(content), content=content, created=int(self.s.clock()), user=who.id,
            mimetype=mimetype, url_base=self.s.public_url,
        )  # fmt: skip
        chan = self.s.resolve_channel(channel)
        if chan is None:
            raise ActionError(f"no conversation {channel!r}")
        file.shared_in.append((chan.id, thread_ts))
        self.s.files[file.id] = file
        return await self.post(who, chan.id, text, thread_ts=thread_ts, files=[file.to_api()])

    async def open_home(self, user: User | str) -> Delivery:
        """The user opens the app's Home tab (`app_home_opened`)."""
        who = self.user(user)
        return await self.s.deliverer.event(payloads.event_callback(self.s, payloads.app_home_opened(self.s, who)))

    def respond(self, token: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Apply a POST to a response_url (ephemeral reply, in-channel reply, replace or delete original)."""
        entry = self.s.response_urls.get(token)
        if entry is None or self.s.clock() - entry["issued"] > RESPONSE_URL_TTL:
            return 404, {"ok": False, "error": "expired_url"}
        if entry["uses"] >= RESPONSE_URL_USES:
            return 404, {"ok": False, "error": "used_url"}
        entry["uses"] += 1
        channel, ts = entry["channel"], entry["message_ts"]
        text, blocks = str(body.get("text") or ""), body.get("blocks") or []
        if body.get("delete_original"):
            original = self.s.messages.get((channel, ts))
            if original is not None:
                original.deleted = True
                self.s.emit("message_deleted", {"channel": channel, "ts": ts})
            return 200, {"ok": True}
        checker = validate_message_blocks(blocks)
        if checker.errors or (not text and not blocks):
            self.s.violate(
                "api_error", "response_url", "invalid_blocks" if blocks else "no_text", messages=checker.errors
            )
            return 200, {"ok": False, "error": "invalid_blocks" if blocks else "no_text"}
        self.s.check_mrkdwn("response_url", text, blocks)
        original = self.s.messages.get((channel, ts))
        ephemeral = next((e for e in self.s.ephemerals if e.ts == ts and e.user == entry["user"]), None)
        if body.get("replace_original") and ephemeral is not None:
            ephemeral.text, ephemeral.blocks = text, blocks
            ephemeral.rendered, ephemeral.replaced = self.s.render(text, blocks), True
            self.s.emit("ephemeral", {"channel": channel, "user": entry["user"], "ts": ts, "text": text})
        elif body.get("replace_original") and original is not None:
            original.edits.append({"text": original.text, "blocks": original.blocks, "edited_ts": original.edited_ts})
            original.text, original.blocks, original.edited_ts = text, blocks, self.s.new_ts()
            original.rendered = self.s.render(text, blocks)
            self.s.emit("message_changed", {"channel": channel, "message": original.to_api()})
        elif body.get("response_type") == "in_channel":
            cfg = self.s.config
            message = Message(
                channel,
                self.s.new_ts(),
                cfg.bot_user_id,
                text,
                blocks,
                body.get("thread_ts"),
                cfg.bot_id,
                cfg.app_id,
                cfg.team_id,
            )
            message.rendered = self.s.render(text, blocks)
            self.s.messages[(channel, message.ts)] = message
            self.s.emit("message", {"channel": channel, "message": message.to_api()})
        else:
            eph = Ephemeral(
                channel,
                entry["user"],
                self.s.new_ts(),
                text,
                blocks,
                body.get("thread_ts"),
                self.s.render(text, blocks),
            )
            self.s.ephemerals.append(eph)
            self.s.emit("ephemeral", {"channel": channel, "user": entry["user"], "ts": eph.ts, "text": text})
        return 200, {"ok": True}
