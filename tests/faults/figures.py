"""The figures of a fault run, counted once everything is quiet from what the stand-ins recorded (what clients and
consultants actually saw) and from the database (what the bot committed). Nothing here is assumed: a lost
ticket, an unanswered tap, a card posted twice are each looked for and counted.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field, fields
from itertools import pairwise

from bot.services.outbox import SLACK_MODAL
from handlers.slack.senders import CARD_EVENT
from sandbox.slack.model import Message
from sandbox.telegram.models import StoredMessage
from storage.records import OutboxStatus
from tests.faults.people import Client, Consultant
from tests.faults.process import Outside

TRIGGER_GONE = ("expired_trigger_id", "exchanged_trigger_id")

# Must be zero. "telegram_twice" is only printed: a message Telegram accepted just before a kill, whose
# acceptance the dead process could not record, is sent again by the next one (at least once, by design).
MUST_BE_ZERO = (
    "tickets_lost",
    "tickets_twice",
    "unanswered",
    "cards_missing",
    "cards_twice",
    "thread_twice",
    "client_messages_lost",
    "replies_lost",
    "dead_rows",
    "slack_gave_up",
)


@dataclass
class Figures:
    kills: int = 0
    confirmed: int = 0  # intakes confirmed by a client
    tickets: int = 0
    tickets_lost: int = 0  # confirmed intakes with no ticket
    tickets_twice: int = 0  # tickets beyond one per confirmed intake
    acts: int = 0  # messages sent and buttons tapped by clients
    unanswered: int = 0  # client acts with no answer, taps whose spinner was never stopped
    cards_missing: int = 0
    cards_twice: int = 0
    thread_twice: int = 0  # identical posts of the bot in one card's thread
    client_messages_lost: int = 0  # written to an open ticket, never in its thread
    replies: int = 0  # consultant replies meant for the client
    replies_lost: int = 0
    telegram_twice: int = 0  # bot messages shown twice in a row in a client's chat
    dead_rows: int = 0  # outbox rows given up on
    slack_gave_up: int = 0  # events Slack stopped retrying: the bot never acknowledged any attempt
    modals_not_opened: int = 0  # a modal whose trigger expired (or was used) in a process that was killed
    details: list[str] = field(default_factory=list)

    def line(self) -> str:
        shown = [f"{f.name}={getattr(self, f.name)}" for f in fields(self) if f.name != "details"]
        return " ".join(shown)

    def nonzero(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in MUST_BE_ZERO if getattr(self, name)}


def _shown(m: StoredMessage) -> tuple[str, str]:
    """What a chat shows of a bot message: its text and its buttons."""
    return str(m.payload.get("text", m.payload.get("caption", ""))), json.dumps(m.inline_keyboard)


def _card_tickets(outside: Outside) -> dict[int, list[Message]]:
    """Top-level messages of the support channel that are cards, by ticket id (message metadata)."""
    found: dict[int, list[Message]] = {}
    for m in outside.slack.top_level(outside.slack.config.channel_id):
        meta = m.metadata or {}
        if meta.get("event_type") == CARD_EVENT:
            found.setdefault(int(meta["event_payload"]["ticket_id"]), []).append(m)
    return found


async def count(outside: Outside, clients: list[Client], consultants: list[Consultant]) -> Figures:
    """Count every figure; call it once the bot is quiescent."""
    fig = Figures(kills=outside.bot.kills)
    tickets = await outside.tickets()
    fig.tickets = len(tickets)
    per_chat = Counter(t.telegram_chat_id for t in tickets)
    bot_user = outside.slack.config.bot_user_id

    for client in clients:
        fig.confirmed += client.confirmed
        fig.acts += client.acts
        opened = per_chat.get(client.chat, 0)
        if opened < client.confirmed:
            fig.tickets_lost += client.confirmed - opened
            fig.details.append(f"client {client.chat}: {client.confirmed} intakes confirmed, {opened} tickets")
        if opened > client.confirmed:
            fig.tickets_twice += opened - client.confirmed
            fig.details.append(f"client {client.chat}: {opened} tickets for {client.confirmed} confirmed intakes")
        for w in client.waiting:
            if client.answer_after(w.after, w.answer) is None:  # looked at again: a late answer is an answer
                fig.unanswered += 1
                fig.details.append(f"client {client.chat}: no answer {w.answer!r} to {w.what}")
        for query_id, data in client.taps:
            query = outside.telegram.state.queries.get(query_id)
            if query is None or not query.answered:
                fig.unanswered += 1
                fig.details.append(f"client {client.chat}: tap {data!r} never answered (spinner left turning)")
        shown = [_shown(m) for m in client.messages() if m.from_bot]
        fig.telegram_twice += sum(1 for a, b in pairwise(shown) if a == b)

    cards = _card_tickets(outside)
    threads: dict[int, list[Message]] = {}
    for ticket in tickets:
        posted = cards.get(ticket.id, [])
        if not posted:
            fig.cards_missing += 1
            fig.details.append(f"{ticket.number}: no card in the support channel")
            continue
        if len(posted) > 1:
            fig.cards_twice += len(posted) - 1
            fig.details.append(f"{ticket.number}: {len(posted)} cards")
        card = posted[0]
        thread = [m for m in outside.slack.replies(card.channel, card.ts) if m.user == bot_user]
        threads[ticket.id] = thread
        for (text, files), n in Counter((m.text, tuple(f.get("name") for f in m.files)) for m in thread).items():
            if n > 1:
                fig.thread_twice += n - 1
                fig.details.append(f"{ticket.number}: posted {n} times in the thread: {text[:80]!r} {files}")

    everything_in_threads = [m.text for thread in threads.values() for m in thread]
    for client in clients:
        for text in client.said:
            if not any(text in posted for posted in everything_in_threads):
                fig.client_messages_lost += 1
                fig.details.append(f"client {client.chat}: {text!r} never reached the ticket's thread")

    for consultant in consultants:
        for chat, text, _card in consultant.replies:
            fig.replies += 1
            client = next(c for c in clients if c.chat == chat)
            if not any(m.from_bot and text in str(m.payload.get("text", "")) for m in client.messages()):
                fig.replies_lost += 1
                fig.details.append(f"{consultant.name}'s reply {text!r} never reached client {chat}")

    for delivery in outside.slack.deliverer.log:
        if delivery.kind == "events_api" and not delivery.acked:
            fig.slack_gave_up += 1
            attempts = [(a.status, a.reason) for a in delivery.attempts]
            fig.details.append(f"Slack gave up on event {delivery.payload.get('event_id')}: {attempts}")
    for row in await outside.outbox(OutboxStatus.DEAD):
        if row.kind == SLACK_MODAL and row.last_error in TRIGGER_GONE:
            fig.modals_not_opened += 1  # Slack's 3 s for a modal ran out in a dead process: pressed again
        else:
            fig.dead_rows += 1
            fig.details.append(f"dead outbox row {row.id} {row.destination}/{row.kind}: {row.last_error}")
    return fig


# Violations a kill or an outage provokes by itself, with why each is no fault of the bot. Anything else the
# stand-ins recorded fails the test.
def _expected_telegram(kind: str, method: str, description: str, code: int | None) -> bool:
    if kind == "rejected" and code == 429:
        return True  # a new process paces from scratch while Telegram still counts the dead one's sends
    if kind == "rejected" and method == "answerCallbackQuery" and "query is too old" in description:
        return True  # answered, then killed before recording it: the next process answers again
    if kind == "rejected" and method == "editMessageText" and "message is not modified" in description:
        return True  # the same edit again after a kill (treated as done)
    if kind == "rejected" and method == "deleteMessage" and "message to delete not found" in description:
        return True  # the same delete again after a kill (treated as done)
    if kind == "unanswered_callback_query":
        return True  # the spinner outlived a dead process; whether it was ever answered is counted above
    return kind == "webhook_error"  # Telegram could not reach a dead process: it retries


def _expected_slack(kind: str, method: str, error: str) -> bool:
    if kind == "api_error" and error == "ratelimited":
        return True  # as for Telegram: the new process does not know what the dead one sent
    if kind == "api_error" and method == "reactions.add" and error == "already_reacted":
        return True  # the mark on a relayed reply, added again after a kill (treated as done)
    if kind == "api_error" and method == "views.open" and error in TRIGGER_GONE:
        return True  # the click outlived its 3 s trigger in a dead process, or the modal opened before a kill
    return kind in ("failed_interaction", "unacked_interaction")  # a click on a dead process: pressed again


def unexpected_violations(outside: Outside) -> list[str]:
    found = [
        f"telegram {v.kind} {v.method}: {v.description}"
        for v in outside.telegram.violations
        if not _expected_telegram(v.kind, v.method, v.description, v.error_code)
    ]
    found += [
        f"slack {v.kind} {v.method}: {v.error} {v.details}"
        for v in outside.slack.violations
        if not _expected_slack(v.kind, v.method, v.error)
    ]
    return found
