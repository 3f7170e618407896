"""One Slack Web API call as the outbox dispatcher needs it: taken in its pacing lane's turn, with Slack's answers
mapped to what the dispatcher understands (wait, outage, give up, failed attempt). Every Slack sender and every
crash-recovery lookup calls Slack through `call_slack`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.delivery import Outgoing, PermanentFailure, RetryLater, Unavailable

__all__ = ["call_slack"]

# Errors after which trying again cannot help: the row is dropped (and logged) instead of blocking its chat.
_PERMANENT = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "user_not_found",
        "invalid_blocks",
        "msg_too_long",
        "cant_update_message",
        "invalid_auth",
        "account_inactive",
        "no_text",
        "user_not_in_channel",
        "expired_trigger_id",
        "invalid_trigger_id",
        "exchanged_trigger_id",
    }
)


def _slack_error(error: SlackApiError, lane: str) -> Exception:
    """A Slack error as the dispatcher understands it: 429 waits Retry-After, 5xx is an outage, a hopeless
    error is permanent, anything else is a failed attempt."""
    response = error.response
    status = getattr(response, "status_code", 0) or 0
    if status == 429:
        headers = getattr(response, "headers", {}) or {}
        retry = headers.get("Retry-After") or headers.get("retry-after") or "1"
        return RetryLater(float(retry), "slack rate limited", lane=lane)
    if status >= 500:
        return Unavailable(f"slack answered {status}")
    code = response.get("error") if hasattr(response, "get") else None
    if code in _PERMANENT:
        return PermanentFailure(str(code))
    return error


async def call_slack(out: Outgoing, lane: str, method: Callable[..., Awaitable[Any]], **kwargs: Any) -> Any:
    """One Web API call in its lane's turn, with Slack's answers mapped for the dispatcher."""
    async with out.turn(lane):
        try:
            return await method(**kwargs)
        except SlackApiError as exc:
            raise _slack_error(exc, lane) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise Unavailable(f"{type(exc).__name__}: {exc}") from exc
