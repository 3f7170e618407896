"""The Telegram outbox senders: how python-telegram-bot's errors become retries, give-ups or successes."""

from __future__ import annotations

import warnings
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from bot.delivery import Dispatcher, Outgoing, PermanentFailure, RetryLater, Sender, Unavailable
from bot.pacing import Pacer
from bot.services import outbox
from bot.services.delivered import BLOCKED_MARK
from handlers.telegram.senders import register_senders
from storage.records import OutboxMessage, OutboxStatus


class FakeBot:
    """Raises the configured error from every call, else records it."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def _call(self, name: str, **kwargs: Any) -> None:
        self.calls.append((name, kwargs))
        if self.error is not None:
            raise self.error

    async def send_message(self, **kwargs: Any) -> SimpleNamespace:
        await self._call("send_message", **kwargs)
        return SimpleNamespace(message_id=len(self.calls))

    async def answer_callback_query(self, query_id: str, **kwargs: Any) -> None:
        await self._call("answer_callback_query", query_id=query_id, **kwargs)

    async def edit_message_text(self, **kwargs: Any) -> None:
        await self._call("edit_message_text", **kwargs)

    async def delete_message(self, **kwargs: Any) -> None:
        await self._call("delete_message", **kwargs)


class Recorder(Dispatcher):
    def __init__(self) -> None:
        self.senders: dict[tuple[str, str], Sender] = {}

    def register(self, destination: str, kind: str, sender: Sender) -> None:
        self.senders[(destination, kind)] = sender


def senders(bot: FakeBot) -> dict[str, Callable[[Mapping[str, Any]], Awaitable[Any]]]:
    """Each Telegram sender, called with a payload as the dispatcher would hand it its row."""
    recorder = Recorder()
    register_senders(recorder, bot)  # type: ignore[arg-type]
    pacer = Pacer(lambda key: None)

    def call(sender: Sender) -> Callable[[Mapping[str, Any]], Awaitable[Any]]:
        async def run(payload: Mapping[str, Any]) -> Any:
            row = OutboxMessage(1, "telegram", "1", "send", payload, None, T0, T0, 0, None, OutboxStatus.SENDING,
                                "w", T0)  # fmt: skip
            return await sender(Outgoing(row, pacer, hold=1.0))

        return run

    return {kind: call(s) for (dest, kind), s in recorder.senders.items() if dest == outbox.TELEGRAM}


T0 = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)


SEND: Mapping[str, Any] = {"chat_id": 1, "text": "<b>hola</b>", "keyboard": [[{"text": "A", "data": "i:0:ok"}]]}
EDIT: Mapping[str, Any] = {"chat_id": 1, "message_id": 5, "text": "x"}
DELETE: Mapping[str, Any] = {"chat_id": 1, "message_id": 5}


async def test_send_uses_html_and_the_inline_keyboard() -> None:
    bot = FakeBot()
    await senders(bot)["send"](SEND)
    [(name, kwargs)] = bot.calls
    assert name == "send_message" and kwargs["parse_mode"] == "HTML"
    assert kwargs["reply_markup"].inline_keyboard[0][0].callback_data == "i:0:ok"


async def test_contact_button_and_keyboard_removal() -> None:
    bot = FakeBot()
    send = senders(bot)["send"]
    await send({"chat_id": 1, "text": "x", "contact_button": "Compartir"})
    await send({"chat_id": 1, "text": "x", "remove_keyboard": True})
    first, second = (kwargs["reply_markup"] for _, kwargs in bot.calls)
    assert first.keyboard[0][0].request_contact is True and second.remove_keyboard is True


@pytest.mark.parametrize("seconds", [7, timedelta(seconds=7)])
async def test_retry_after_becomes_retry_later(seconds: int | timedelta) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB warns when the error is built with an int; the bot accepts both
        error = RetryAfter(seconds)
    with pytest.raises(RetryLater) as caught:
        await senders(FakeBot(error))["send"](SEND)
    assert caught.value.seconds == 7


async def test_blocked_user_is_a_permanent_failure_named_so() -> None:
    with pytest.raises(PermanentFailure) as caught:
        await senders(FakeBot(Forbidden("Forbidden: bot was blocked by the user")))["send"](SEND)
    assert str(caught.value).startswith(BLOCKED_MARK)  # the dead-letter hook marks the contact unreachable


async def test_send_returns_the_message_id() -> None:
    assert await senders(FakeBot())["send"](SEND) == {"message_id": 1}


async def test_an_answer_to_a_stale_query_is_no_failure() -> None:
    """A failed answerCallbackQuery never reaches the client: "query is too old" is simply over."""
    bot = FakeBot(BadRequest("Bad Request: query is too old and response timeout expired or query ID is invalid"))
    await senders(bot)["answer"]({"query_id": "q1", "text": "Ese botón ya no está activo."})
    assert bot.calls == [("answer_callback_query", {"query_id": "q1", "text": "Ese botón ya no está activo."})]


async def test_not_modified_edit_is_a_success_never_resent() -> None:
    bot = FakeBot(BadRequest("Bad Request: message is not modified"))
    await senders(bot)["edit"](EDIT)
    assert len(bot.calls) == 1


async def test_deleting_a_message_already_gone_is_a_success() -> None:
    await senders(FakeBot(BadRequest("Bad Request: message to delete not found")))["delete"](DELETE)


async def test_other_bad_requests_give_up_and_network_errors_retry() -> None:
    with pytest.raises(PermanentFailure):
        await senders(FakeBot(BadRequest("Bad Request: can't parse entities")))["send"](SEND)
    with pytest.raises(Unavailable):  # the platform is down: retried for as long as it takes
        await senders(FakeBot(NetworkError("boom")))["send"](SEND)
