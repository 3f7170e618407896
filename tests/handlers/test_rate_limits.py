"""A 429 from a platform outside the outbox (Telegram's getUpdates, a Slack request bolt could not finish) is a
wait: one INFO line, no traceback, counted for /metrics. Anything else bolt could not finish is one ERROR line
saying what the request was."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.slack_response import SlackResponse
from telegram.error import RetryAfter

from handlers.slack.listeners import describe_request, error_handler
from handlers.telegram.edge import Poller


class FloodedBot:
    """getUpdates answers 429 once, then nothing new."""

    def __init__(self) -> None:
        self.calls = 0

    async def do_api_request(self, method: str, **kwargs: Any) -> list[Any]:
        self.calls += 1
        if self.calls == 1:
            raise RetryAfter(0)
        await asyncio.sleep(0.01)
        return []


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # RetryAfter(int) in the fake
async def test_a_429_to_get_updates_is_one_info_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    bot = FloodedBot()
    poller = Poller(bot, inbox=None, timeout=0)  # type: ignore[arg-type]
    poller.start()
    for _ in range(500):
        if bot.calls >= 3:
            break
        await asyncio.sleep(0.01)
    await poller.stop()
    assert bot.calls >= 3 and poller.rate_limited == 1
    [line] = [r for r in caplog.records if "rate limited" in r.getMessage()]
    assert line.levelno == logging.INFO and line.exc_info is None
    assert [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info] == []


def _slack_429(retry_after: str = "3") -> SlackApiError:
    response = SlackResponse(
        client=None,
        http_verb="POST",
        api_url="https://slack.com/api/auth.test",
        req_args={},
        data={"ok": False, "error": "ratelimited"},
        headers={"Retry-After": retry_after},
        status_code=429,
    )
    return SlackApiError("The request to the Slack API failed.", response)


MESSAGE_EVENT = {"type": "event_callback", "event_id": "Ev0AB", "event": {"type": "message", "user": "U0MARCO"}}
CLICK = {
    "type": "block_actions",
    "user": {"id": "U0ANA"},
    "actions": [{"action_id": "desk_claim", "action_ts": "17.5", "value": "3"}],
}


async def test_a_429_in_a_slack_request_is_one_info_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    counted: list[str] = []
    await error_handler(counted.append)(error=_slack_429(), body=MESSAGE_EVENT)
    [line] = caplog.records
    assert line.levelno == logging.INFO and line.exc_info is None
    assert line.getMessage() == "slack event message by U0MARCO rate limited by Slack: waiting 3.0 s"
    assert counted == ["slack"]


async def test_another_failure_is_one_error_line_saying_what_the_request_was(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    counted: list[str] = []
    try:
        raise RuntimeError("the store is closed")
    except RuntimeError as exc:
        error = exc
    await error_handler(counted.append)(error=error, body=CLICK)
    [line] = caplog.records
    assert line.levelno == logging.ERROR and line.exc_info is not None
    assert line.getMessage() == "slack action desk_claim by U0ANA failed: RuntimeError: the store is closed"
    assert counted == []


def test_a_request_is_described_by_kind_id_and_person() -> None:
    assert describe_request(MESSAGE_EVENT) == ("event message", "Ev0AB", "U0MARCO")
    assert describe_request(CLICK) == ("action desk_claim", "17.5", "U0ANA")
    view = {"type": "view_submission", "user": {"id": "U0ANA"}, "view": {"id": "V1", "callback_id": "desk_ask"}}
    assert describe_request(view) == ("view_submission desk_ask", "V1", "U0ANA")
    assert describe_request({}) == ("request", "", "")
