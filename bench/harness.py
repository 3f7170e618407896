"""What the benchmarks share: both stand-ins and the real SupportBot, a clock that moves, client scripts,
clients prepared at the confirmation step, what was delivered, and the TCP connections Slack saw.

Not a benchmark itself (no `_bench` suffix): `python -m bench` only runs the `*_bench` modules.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import math
import random
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from bot.app import SupportBot
from bot.settings import Settings
from bot.wiring import open_store, tier_rules
from handlers.slack.senders import CARD_EVENT
from sandbox.demo import Demo, seed_demo
from sandbox.slack.model import Message
from sandbox.slack.server import make_app
from sandbox.slack.standin import SlackStandIn, StandInConfig
from sandbox.telegram.media import photo_entries
from sandbox.telegram.models import StoredMessage, User
from sandbox.telegram.standin import StandIn
from sandbox.testing import DEFAULT_NOW, world_settings

WAIT_LIMIT = 30.0  # seconds for one answer before a benchmark fails
Step = tuple[str, str, str]  # (kind, value, text expected in the bot's newest message)
# A photo as a phone sends it after Telegram's compression (about 100 KB), so the file path moves real bytes.
PHOTO = b"\x89PNG\r\n\x1a\n" + random.Random(20261124).randbytes(100_000)
SUMMARY_MARKER = "Revisa tu reporte"
CREATED_MARKER = "Tu ticket es"
DESCRIPTION = "No hay internet en toda la oficina, el firewall tiene la luz de alarma en rojo."


def intake_script(fortigate_id: int) -> list[Step]:
    """One complete remote intake with one photo; each answer waits for the bot's next question."""
    return [
        ("send", "/reportar", "¿Sobre qué servicio"),
        ("tap", "a.firewall", "¿Qué equipo"),
        ("tap", f"p.{fortigate_id}", "¿El servicio está completamente caído?"),
        ("tap", "t.down", "¿A cuántas personas"),
        ("tap", "t.whole_company", "Cuéntame qué pasa"),
        ("send", DESCRIPTION, "¿Desde cuándo"),
        ("send", "hoy a las 9", "¿Tienes capturas"),
        ("photo", "", "Recibí 1 archivo"),
        ("tap", "ok", "¿Cómo te atendemos?"),
        ("tap", "acc.remote", "ID de TeamViewer"),
        ("send", "1 234 567 890", "contraseña de TeamViewer"),
        ("send", "k9#Lm2", "¿El equipo pide contraseña"),
        ("tap", "n", SUMMARY_MARKER),
        ("tap", "ok", CREATED_MARKER),
    ]


# --- figures -------------------------------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile (q in 0-100); nan for no values."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


class MovingClock:
    """The bot's clock: starts at a business-hours instant and moves with real time. A clock that stands still
    (the tests' FakeClock) never lets a paced row that was put back for 0.8 s become due again."""

    def __init__(self, start: datetime = DEFAULT_NOW) -> None:
        self._start = start.astimezone(UTC)
        self._t0 = time.monotonic()

    def __call__(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._t0)


class Peers:
    """The TCP connections a server accepted, told apart by the client's address and port, and the requests."""

    def __init__(self) -> None:
        self.requests = 0
        self.connections: set[tuple[Any, ...]] = set()

    def reset(self) -> None:
        self.requests = 0
        self.connections = set()

    def middleware(self) -> Middleware:
        @web.middleware
        async def count(request: web.Request, handler: Handler) -> web.StreamResponse:
            transport = request.transport
            peer = transport.get_extra_info("peername") if transport is not None else None
            self.requests += 1
            self.connections.add(tuple(peer) if peer else ("?",))
            return await handler(request)

        return count


# --- the stack: both stand-ins, the demo company, the bot ------------------------------------------------
@dataclass
class Stack:
    """Both stand-ins on free ports, a seeded database, and (once started) the real SupportBot."""

    tmp: Path
    telegram: StandIn
    slack: SlackStandIn
    slack_peers: Peers
    settings: Settings
    clock: MovingClock
    demo: Demo
    bot: SupportBot | None = None
    _next_user: int = 7_000_000
    _tickets: dict[int, tuple[int, str]] = field(default_factory=dict)

    async def start_bot(self, *, pacing: bool) -> SupportBot:
        """Start a bot on the stack's database (stopping the running one first): paced or not."""
        await self.stop_bot()
        settings = self.settings.model_copy(update={"delivery_pacing": pacing})
        bot = SupportBot(settings, clock=self.clock, poll_timeout=1)
        await bot.start()
        self.slack.config.request_url = f"{bot.http_url}/slack/events"
        self.bot = bot
        return bot

    async def stop_bot(self) -> None:
        """Stop the bot once everything it received is handled and delivered: a send cut short between
        the platform's answer and its sent-mark would be sent again by the next bot (at least once)."""
        if self.bot is not None:
            bot, self.bot = self.bot, None
            await bot.settle()
            await bot.stop()

    async def add_clients(self, n: int, name: str = "Cliente") -> list[User]:
        """n Telegram users, each a contact of the demo company (added through the running bot's store)."""
        assert self.bot is not None and self.bot.store is not None
        users = []
        async with self.bot.store.transaction() as tx:
            for i in range(n):
                self._next_user += 1
                user = self.telegram.create_user(f"{name} {i}", user_id=self._next_user)
                await tx.add_contact(self.demo.client_id, f"{name} {i}", telegram_user_id=user.id, at=self.clock())
                users.append(user)
        return users

    def outbox_statuses(self) -> dict[str, int]:
        """Outbox rows by status, read on a connection of our own (WAL: it sees what is committed)."""
        with contextlib.closing(sqlite3.connect(self.settings.database_path)) as db:
            return {str(s): int(n) for s, n in db.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status")}

    def tickets(self) -> dict[int, tuple[int, str]]:
        """ticket id -> (Telegram chat, description), read on a connection of our own (only the new ones:
        the bench polls while the bot works, on the bot's event loop)."""
        newest = max(self._tickets, default=0)
        with contextlib.closing(sqlite3.connect(self.settings.database_path)) as db:
            rows = db.execute("SELECT id, telegram_chat_id, description FROM tickets WHERE id > ?", (newest,))
            self._tickets.update({int(i): (int(chat), str(text)) for i, chat, text in rows})
        return self._tickets

    def violations(self) -> list[str]:
        """Everything either stand-in refused or saw broken (a 429 is one), as short lines."""
        found = [f"telegram: {v}" for v in self.telegram.violations]
        found += [f"slack: {v.method} {v.error}" for v in self.slack.violations]
        return found


async def _serve_slack(standin: SlackStandIn, peers: Peers) -> str:
    """sandbox.slack.server.start, plus a middleware that counts the connections it accepts."""
    app = make_app(standin)
    app.middlewares.append(peers.middleware())
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    standin.public_url = base
    standin.cleanups.append(runner.cleanup)
    return base


@contextlib.asynccontextmanager
async def running_stack(
    tmp: Path, *, slack_limits: bool = False, telegram_limits: bool = False
) -> AsyncIterator[Stack]:
    """Start both stand-ins (limits as asked), seed the demo company; the bot is started by the caller."""
    telegram = StandIn(callback_answer_timeout=10.0, rate_limits=telegram_limits)
    await telegram.start()
    slack = SlackStandIn(StandInConfig(rate_limits=slack_limits))
    peers = Peers()
    stack: Stack | None = None
    try:
        base = await _serve_slack(slack, peers)
        settings = world_settings(tmp, telegram, f"{base}/api/", slack.config, database_path=tmp / "bench.db")
        clock = MovingClock()
        store = await open_store(settings)
        try:
            async with store.transaction() as tx:
                demo = await seed_demo(
                    tx,
                    today=clock().astimezone(settings.zone).date(),
                    now=clock(),
                    rules=tier_rules(settings),
                    invite_ttl=timedelta(hours=settings.invite_code_ttl_hours),
                )
        finally:
            await store.close()
        stack = Stack(tmp, telegram, slack, peers, settings, clock, demo)
        yield stack
    finally:
        if stack is not None:
            await stack.stop_bot()
        await slack.close()
        await telegram.stop()


# --- a client in the Telegram stand-in ----------------------------------------------------------------------
def newest(standin: StandIn, user: User) -> list[StoredMessage]:
    """The chat's messages, newest first, read from the stand-in's state (no HTML rendering: it would
    cost more than the bot being measured)."""
    st = standin.state
    return [st.messages[(user.id, m)] for m in reversed(st.chat_order.get(user.id, []))]


async def wait_for(standin: StandIn, user: User, marker: str, after: int) -> int:
    """Wait until a bot message newer than `after` contains `marker`; returns its message id."""
    deadline = time.monotonic() + WAIT_LIMIT
    while True:
        for message in newest(standin, user):
            if message.message_id <= after:
                break
            if message.from_bot and not message.deleted and marker in str(message.payload.get("text", "")):
                return message.message_id
        if time.monotonic() > deadline:
            raise TimeoutError(f"no bot message with {marker!r} for user {user.id}")
        await asyncio.sleep(0.002)


def button(standin: StandIn, user: User, action: str) -> tuple[int, str]:
    """The newest message with an intake button for `action`, and that button's callback_data."""
    for message in newest(standin, user):
        for row in message.inline_keyboard:
            for b in row:
                data = str(b.get("callback_data", ""))
                if data.startswith("i:") and data.split(":", 2)[2] == action:
                    return message.message_id, data
    raise LookupError(action)


async def run_script(standin: StandIn, user: User, script: Sequence[Step]) -> None:
    """Play the steps as a person would: each only once the bot's answer to the previous one is in the chat."""
    last = 0
    for kind, value, marker in script:
        if kind == "send":
            sent = await standin.send_text(user, value)
        elif kind == "photo":
            sent = await standin.send_photo(user, content=PHOTO)
        else:
            message_id, data = button(standin, user, value)
            sent = await standin.tap(user, message_id, data)
        last = max(last, sent.message.message_id if sent.message is not None else last)
        last = await wait_for(standin, user, marker, last)


async def gather_limited(jobs: Sequence[Callable[[], Awaitable[None]]], limit: int) -> None:
    gate = asyncio.Semaphore(limit)

    async def run(job: Callable[[], Awaitable[None]]) -> None:
        async with gate:
            await job()

    await asyncio.gather(*(run(job) for job in jobs))


# --- clients prepared at the confirmation step ---------------------------------------------------------------
@dataclass(frozen=True)
class Ready:
    """A client looking at the summary of their report: tapping `data` on `message_id` confirms it."""

    user: User
    message_id: int
    data: str


async def prepare_confirmations(stack: Stack, n: int) -> list[Ready]:
    """n clients at the summary of a complete remote intake with one photo and a TeamViewer password.

    One intake is played for real through the running bot (limits off, unpaced). The other n-1 are copies
    of its draft written straight to the store, each with its own photo file in the Telegram stand-in, and
    the same summary (text and buttons) sent to each chat through the Bot API, as the bot would have.
    """
    bot = stack.bot
    assert bot is not None and bot.store is not None and stack.telegram.urls is not None
    users = await stack.add_clients(n)
    template = users[0]
    await run_script(stack.telegram, template, intake_script(stack.demo.products["fortigate60"])[:-1])
    message_id, data = button(stack.telegram, template, "ok")
    summary = stack.telegram.state.messages[(template.id, message_id)].payload
    async with bot.store.transaction() as tx:
        draft = await tx.get_draft(template.id)
    assert draft is not None
    (kind, _, name, _, mime) = draft.data["intake"]["attachments"][0]
    ready = [Ready(template, message_id, data)]
    url = f"{stack.telegram.urls.base_url}{stack.telegram.token}/sendMessage"
    async with aiohttp.ClientSession() as http, bot.store.transaction() as tx:
        for user in users[1:]:
            user.started = True  # they talked to the bot all through their intake
            photo = photo_entries(stack.telegram.state, 1280, 960, PHOTO, len(PHOTO))[-1]
            data_copy = copy.deepcopy(dict(draft.data))
            data_copy["intake"]["attachments"] = [[kind, photo["file_id"], name, photo["file_size"], mime]]
            await tx.save_draft(
                user.id, user_id=user.id, step=draft.step, data=data_copy, language=draft.language, at=stack.clock()
            )
            body = {"chat_id": user.id, "text": summary["text"], "reply_markup": summary["reply_markup"]}
            async with http.post(url, json=body) as response:
                sent = await response.json()
                assert sent.get("ok"), sent
            ready.append(Ready(user, int(sent["result"]["message_id"]), data))
    return ready


# --- what reached the people ---------------------------------------------------------------------------------
@dataclass
class Delivered:
    """Cards, files and client answers seen in the stand-ins for the tickets of some chats."""

    card_at: dict[int, float] = field(default_factory=dict)  # chat -> wall time the card was posted
    twice: list[str] = field(default_factory=list)  # what reached Slack more than once
    described: set[int] = field(default_factory=set)  # chats whose card carries the description
    files: set[int] = field(default_factory=set)  # chats whose card's thread has the photo
    answered: set[int] = field(default_factory=set)  # chats told their ticket number

    def complete(self, chats: Sequence[int]) -> bool:
        want = set(chats)
        return want <= set(self.card_at) and want <= self.files and want <= self.answered


def delivered(stack: Stack, chats: Sequence[int]) -> Delivered:
    """What reached Slack and the clients so far (the card time is Slack's ts: when the post arrived)."""
    tickets = stack.tickets()
    channel = stack.settings.slack_support_channel
    out = Delivered()
    cards: dict[str, int] = {}  # card ts -> chat
    messages: list[Message] = list(stack.slack.messages.values())
    for m in messages:
        meta = m.metadata or {}
        if m.channel != channel or m.is_reply or meta.get("event_type") != CARD_EVENT:
            continue
        ticket_id = int((meta.get("event_payload") or {}).get("ticket_id", 0))
        if ticket_id not in tickets:
            continue
        chat, description = tickets[ticket_id]
        cards[m.ts] = chat
        if chat in out.card_at:
            out.twice.append(f"a second card for ticket {ticket_id}")
        out.card_at[chat] = min(float(m.ts), out.card_at.get(chat, math.inf))
        if description[:40] in m.rendered:
            out.described.add(chat)
    for m in messages:
        if m.files and m.thread_ts in cards:
            if cards[m.thread_ts] in out.files:
                out.twice.append(f"a second photo in the thread of chat {cards[m.thread_ts]}")
            out.files.add(cards[m.thread_ts])
    for chat in chats:
        st = stack.telegram.state
        for message_id in reversed(st.chat_order.get(chat, [])):
            message = st.messages[(chat, message_id)]
            if message.from_bot and CREATED_MARKER in str(message.payload.get("text", "")):
                out.answered.add(chat)
                break
    return out


async def wait_delivered(stack: Stack, chats: Sequence[int], timeout: float) -> Delivered:  # noqa: ASYNC109
    """Wait until every chat's card, photo and ticket number are delivered and the outbox is empty
    (or timeout); returns what was delivered."""
    deadline = time.monotonic() + timeout
    while True:
        seen = delivered(stack, chats)
        if seen.complete(chats):
            statuses = stack.outbox_statuses()
            if not statuses.get("pending") and not statuses.get("sending"):
                return seen
        if time.monotonic() > deadline:
            return seen
        await asyncio.sleep(0.05)


def delivery_checks(stack: Stack, chats: Sequence[int], seen: Delivered) -> list[str]:
    """Failed checks, as lines (none when all was delivered, nothing is dead and nobody refused anything)."""
    n = len(chats)
    problems = []
    counts = {
        "cards": len(set(chats) & set(seen.card_at)),
        "cards with the description": len(set(chats) & seen.described),
        "photos in the card's thread": len(set(chats) & seen.files),
        "clients told their ticket number": len(set(chats) & seen.answered),
    }
    problems += [f"FAILED: {got} of {n} {what}" for what, got in counts.items() if got != n]
    if seen.twice:
        problems.append(f"FAILED: {len(seen.twice)} deliveries made twice, e.g. {seen.twice[:3]}")
    statuses = stack.outbox_statuses()
    if statuses.get("dead") or statuses.get("pending") or statuses.get("sending"):
        problems.append(f"FAILED: outbox rows by status {statuses}")
    if stack.bot is not None and stack.bot.dispatcher is not None:
        marked = stack.bot.dispatcher.counts["sent"]
        if marked > statuses.get("sent", 0):
            problems.append(f"FAILED: {marked} sends recorded for {statuses.get('sent', 0)} rows sent (some twice)")
    violations = stack.violations()
    if violations:
        problems.append(f"FAILED: {len(violations)} stand-in violations, e.g. {violations[:3]}")
    return problems


def lag_line(bot: SupportBot) -> str:
    """The window in which a Telegram message can go out twice: send answered -> sent-mark committed."""
    assert bot.dispatcher is not None
    lags = bot.dispatcher.record_lag_by.get("telegram", [])
    return (
        f"Telegram send answered -> sent-mark committed ({len(lags)} sends): "
        f"p50 {ms(percentile(lags, 50))}, p99 {ms(percentile(lags, 99))}, max {ms(max(lags, default=math.nan))}"
    )


def slack_connections_line(stack: Stack) -> str:
    peers = stack.slack_peers
    return f"Slack stand-in: {peers.requests} HTTP requests over {len(peers.connections)} TCP connection(s)"
