"""Web API plumbing shared by the method modules: the method registry, parameters, and Slack's errors."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.slack.standin import SlackStandIn


class ApiError(Exception):
    """A Web API refusal: HTTP 200 with `{"ok": false, "error": ...}` unless `status` says otherwise."""

    def __init__(
        self,
        error: str,
        *,
        messages: list[str] | None = None,
        status: int = 200,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.messages = messages or []
        self.status = status
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict[str, Any]:
        data: dict[str, Any] = {"ok": False, "error": self.error, **self.extra}
        if self.messages:
            data["response_metadata"] = {"messages": self.messages}
        return data


@dataclass
class Params:
    """The arguments of one call, merged from query string, form fields or a JSON body."""

    data: dict[str, Any]
    origin: str  # scheme://host[:port] + mount prefix, for URLs the stand-in hands out

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def text(self, key: str, default: str = "") -> str:
        value = self.data.get(key)
        if value is None:
            return default
        return value if isinstance(value, str) else str(value)

    def required(self, key: str, error: str = "invalid_arguments") -> str:
        value = self.text(key)
        if not value:
            raise ApiError(
                error, messages=[f"[ERROR] missing required field: {key}"] if error == "invalid_arguments" else None
            )
        return value

    def flag(self, key: str) -> bool:
        value = self.data.get(key)
        if isinstance(value, str):
            return value.lower() in ("1", "true", "yes")
        return bool(value)

    def json(self, key: str, error: str = "invalid_arguments") -> Any:
        """A field that form callers send JSON-encoded and JSON callers send as a value."""
        value = self.data.get(key)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise ApiError(error, messages=[f"[ERROR] {key} must be valid JSON"]) from None
        return value


Handler = Callable[["SlackStandIn", Params], Awaitable[dict[str, Any]]]
METHODS: dict[str, Handler] = {}


def method(name: str) -> Callable[[Handler], Handler]:
    """Register a Web API method implementation under its Slack name."""

    def register(func: Handler) -> Handler:
        METHODS[name] = func
        return func

    return register


def channel_or_fail(s: SlackStandIn, ref: str) -> Any:
    """The conversation named by `ref`, or Slack's `channel_not_found`."""
    channel = s.resolve_channel(ref) if ref else None
    if channel is None:
        raise ApiError("channel_not_found")
    return channel
