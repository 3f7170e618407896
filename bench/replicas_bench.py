"""Tickets a second and confirm -> card p99, limits off: SQLite in one process, PostgreSQL with 1 and 3 replicas.

Every configuration runs the real bot as its own processes (`python -m bot run`, as an operator starts it) between
the stand-ins, which run in this process, in the same run and with the same load:

- `sqlite`: one process on a SQLite file;
- `pg x1`: one process on a fresh PostgreSQL schema;
- `pg x3`: three processes on one fresh PostgreSQL schema.

Telegram is read by long polling (the replica holding the lock in the database polls; every replica takes inbox
entries, outbox rows and timers with `FOR UPDATE SKIP LOCKED`). Slack is in HTTP mode behind a round-robin
balancer in this process (the stand-in's events and clicks go to the replicas in turn). Limits are off in both
stand-ins and pacing is off in the bot, so the figures are the bot's own cost.

Prepared (not measured): one remote intake with one photo and a TeamViewer password is played for real; the
other clients get a copy of its draft (each with its own photo in the Telegram stand-in) and the same summary with
its buttons. Measured: all clients tap "confirm" at once; the time from each tap to its card in the Slack
stand-in (Slack's ts of the post) and the tickets a second (confirms / first tap to last card). Checked: every
client has exactly one ticket and was told its number, every ticket exactly one card, nothing dead or pending in
the outbox, no stand-in violation.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import os
import secrets
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from bench import BenchResult
from bench.harness import (
    CREATED_MARKER,
    PHOTO,
    Ready,
    button,
    intake_script,
    ms,
    percentile,
    run_script,
)
from bot.clock import utcnow
from bot.settings import Settings
from handlers.slack.senders import CARD_EVENT
from sandbox.demo import AGENT_MARCO, SLACK_PEOPLE, Demo
from sandbox.processes import Balancer, BotProcess, bot_env, free_port, read_store, seed_demo_now
from sandbox.slack.server import start as start_slack
from sandbox.slack.standin import SlackStandIn, StandInConfig
from sandbox.telegram.media import photo_entries
from sandbox.telegram.standin import StandIn
from sandbox.testing import world_settings
from storage import Tx
from storage.records import InboxStatus, OutboxStatus

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
WAIT_LIMIT = 120.0
START_ATTEMPTS = 600  # /healthz asked up to this often, 0.05 s apart, before a process counts as not started


@dataclass(frozen=True)
class Config:
    name: str
    replicas: int
    postgres: bool


CONFIGS = (Config("sqlite", 1, False), Config("pg x1", 1, True), Config("pg x3", 3, True))
FULL_N = 200
QUICK_N = 6


# --- the processes and what stands in front of them ------------------------------------------------------------
@contextlib.asynccontextmanager
async def _schema() -> AsyncIterator[str]:
    """A fresh PostgreSQL schema (the bot's migrations fill it), dropped afterwards. Raises when unreachable."""
    name = f"bench_{secrets.token_hex(6)}"
    try:
        conn = await asyncpg.connect(DATABASE_URL, timeout=10)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise RuntimeError(f"PostgreSQL is not reachable at {DATABASE_URL} (BENCH_DATABASE_URL): {exc}") from None
    try:
        await conn.execute(f'CREATE SCHEMA "{name}"')
    finally:
        await conn.close()
    try:
        yield DATABASE_URL + ("&" if "?" in DATABASE_URL else "?") + f"schema={name}"
    finally:
        conn = await asyncpg.connect(DATABASE_URL, timeout=10)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        finally:
            await conn.close()


@dataclass
class World:
    telegram: StandIn
    slack: SlackStandIn
    settings: Settings
    demo: Demo
    balancer: Balancer

    async def read(self, query: Callable[[Tx], Awaitable[Any]]) -> Any:
        return await read_store(self.settings, query)


@contextlib.asynccontextmanager
async def _world(tmp: Path, config: Config) -> AsyncIterator[World]:
    telegram = StandIn(callback_answer_timeout=30.0)
    await telegram.start()
    slack = SlackStandIn(StandInConfig())
    procs: list[BotProcess] = []
    balancer: Balancer | None = None
    try:
        async with contextlib.AsyncExitStack() as stack:
            url = await stack.enter_async_context(_schema()) if config.postgres else ""
            slack_base = await start_slack(slack)
            for slack_id, name, _role in SLACK_PEOPLE:
                slack.add_user(slack_id, name)
            ports = [free_port() for _ in range(config.replicas)]
            overrides = {"database_url": url} if url else {"database_path": tmp / "bench.db"}
            settings = world_settings(tmp, telegram, f"{slack_base}/api/", slack.config, **overrides)
            balancer = Balancer(ports, pooled=True)
            slack.config.request_url = f"{await balancer.serve()}/slack/events"
            demo = await seed_demo_now(settings)
            for i, port in enumerate(ports):
                extra = {"DATABASE_URL": url} if url else {}
                env = bot_env(
                    settings, port, DELIVERY_PACING="false", LOG_LEVEL="WARNING", REPLICA_NAME=f"replica{i}", **extra
                )
                procs.append(BotProcess(env, tmp / f"bot{i}.log", tmp))
            try:
                await asyncio.gather(*(p.start(attempts=START_ATTEMPTS) for p in procs))
                yield World(telegram, slack, settings, demo, balancer)
            finally:
                for p in procs:  # before the schema is dropped
                    await p.stop()
    finally:
        for p in procs:
            await p.stop()
        if balancer is not None:
            await balancer.close()
        await slack.close()
        await telegram.stop()


# --- preparing and measuring ------------------------------------------------------------------------------------
def _script(demo: Demo) -> list[tuple[str, str, str]]:
    """The harness's intake up to the summary. The processes run on the real clock: "since when" is yesterday,
    never an hour of today that may still be ahead."""
    steps = intake_script(demo.products["fortigate60"])[:-1]
    return [(k, "ayer en la tarde", m) if v == "hoy a las 9" else (k, v, m) for k, v, m in steps]


async def _prepare(w: World, n: int) -> list[Ready]:
    """n clients at the summary of a remote intake with one photo (one played for real, n-1 copies)."""
    assert w.telegram.urls is not None
    users = [w.telegram.create_user(f"Cliente {i}", user_id=7_100_000 + i) for i in range(n)]

    async def contacts(tx: Tx) -> None:
        for u in users:
            await tx.add_contact(w.demo.client_id, u.first_name, telegram_user_id=u.id, at=utcnow())

    await w.read(contacts)
    template = users[0]
    try:
        await run_script(w.telegram, template, _script(w.demo))
    except TimeoutError as exc:
        st = w.telegram.state
        said = [str(st.messages[(template.id, m)].payload.get("text", ""))[:80] for m in st.chat_order[template.id]]
        raise RuntimeError(f"{exc}; the chat: {said}") from None
    message_id, data = button(w.telegram, template, "ok")
    summary = w.telegram.state.messages[(template.id, message_id)].payload
    draft = await w.read(lambda tx: tx.get_draft(template.id))
    assert draft is not None
    (kind, _, name, _, mime) = draft.data["intake"]["attachments"][0]
    ready = [Ready(template, message_id, data)]
    url = f"{w.telegram.urls.base_url}{w.telegram.token}/sendMessage"
    copies = []
    for user in users[1:]:
        user.started = True
        photo = photo_entries(w.telegram.state, 1280, 960, PHOTO, len(PHOTO))[-1]
        data_copy = copy.deepcopy(dict(draft.data))
        data_copy["intake"]["attachments"] = [[kind, photo["file_id"], name, photo["file_size"], mime]]
        copies.append((user, data_copy))

    async def drafts(tx: Tx) -> None:
        for user, data_copy in copies:
            await tx.save_draft(user.id, user_id=user.id, step=draft.step, data=data_copy, language=draft.language,
                                at=utcnow())  # fmt: skip

    await w.read(drafts)
    async with aiohttp.ClientSession() as http:
        for user in users[1:]:
            body = {"chat_id": user.id, "text": summary["text"], "reply_markup": summary["reply_markup"]}
            async with http.post(url, json=body) as response:
                sent = await response.json()
                assert sent.get("ok"), sent
            ready.append(Ready(user, int(sent["result"]["message_id"]), data))
    return ready


@dataclass
class Seen:
    card_at: dict[int, float] = field(default_factory=dict)  # chat -> Slack ts of its card
    problems: list[str] = field(default_factory=list)
    answered: set[int] = field(default_factory=set)
    open_work: int = 0
    dead: int = 0


async def _seen(w: World, chats: Sequence[int]) -> Seen:
    async def read(tx: Tx) -> tuple[list[Any], int, int]:
        tickets = await tx.list_tickets()
        entries = await tx.list_inbox((InboxStatus.PENDING, InboxStatus.WORKING), limit=100_000)
        rows = await tx.list_outbox(OutboxStatus.PENDING, limit=100_000)
        rows += await tx.list_outbox(OutboxStatus.SENDING, limit=100_000)
        dead = await tx.list_outbox(OutboxStatus.DEAD, limit=100_000)
        return tickets, len(entries) + len(rows), len(dead)

    tickets, open_work, dead = await w.read(read)
    seen = Seen(open_work=open_work, dead=dead)
    wanted = set(chats)
    per_chat: dict[int, int] = {}
    chat_of: dict[int, int] = {}
    for t in tickets:
        if t.telegram_chat_id in wanted:
            per_chat[t.telegram_chat_id] = per_chat.get(t.telegram_chat_id, 0) + 1
            chat_of[t.id] = t.telegram_chat_id
    seen.problems += [f"chat {c}: {k} tickets" for c, k in per_chat.items() if k > 1]
    cards: dict[int, int] = {}
    for m in list(w.slack.messages.values()):
        meta = m.metadata or {}
        if m.channel != w.settings.slack_support_channel or m.is_reply or meta.get("event_type") != CARD_EVENT:
            continue
        ticket_id = int((meta.get("event_payload") or {}).get("ticket_id", 0))
        if ticket_id in chat_of:
            cards[ticket_id] = cards.get(ticket_id, 0) + 1
            chat = chat_of[ticket_id]
            seen.card_at[chat] = min(float(m.ts), seen.card_at.get(chat, float("inf")))
    seen.problems += [f"ticket {t}: {k} cards" for t, k in cards.items() if k > 1]
    st = w.telegram.state
    for chat in chats:
        told = [
            mid
            for mid in st.chat_order.get(chat, [])
            if st.messages[(chat, mid)].from_bot and CREATED_MARKER in str(st.messages[(chat, mid)].payload.get("text"))
        ]
        if told:
            seen.answered.add(chat)
        if len(told) > 1:
            seen.problems.append(f"chat {chat}: told its ticket number {len(told)} times")
    return seen


async def _claims(w: World, seen: Seen) -> list[str]:
    """After the measurement (not timed): a consultant takes every ticket from its card, the clicks going to the
    replicas in turn through the balancer. Checked: each click acknowledged, each ticket claimed, each client told
    once; with several replicas, each answered some of the clicks."""
    channel = w.settings.slack_support_channel
    cards = [m.ts for m in w.slack.top_level(channel) if (m.metadata or {}).get("event_type") == CARD_EVENT]
    gate = asyncio.Semaphore(10)
    refused = 0

    async def claim(ts: str) -> None:
        nonlocal refused
        async with gate:
            delivery = await w.slack.actions.click(AGENT_MARCO, channel, ts, "desk_claim")
            refused += not delivery.acked

    await asyncio.gather(*(claim(ts) for ts in cards))
    chats = list(seen.card_at)
    st = w.telegram.state

    def told(chat: int) -> int:
        said = (str(st.messages[(chat, m)].payload.get("text", "")) for m in st.chat_order.get(chat, []))
        return sum("tomó tu ticket" in text for text in said)

    deadline = time.monotonic() + WAIT_LIMIT
    while True:
        if all(told(c) >= 1 for c in chats) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)
    tickets = await w.read(lambda tx: tx.list_tickets())
    problems = [f"{refused} of {len(cards)} claims not acknowledged"] if refused else []
    unclaimed = [t.number for t in tickets if t.telegram_chat_id in seen.card_at and t.assignee_id is None]
    if unclaimed:
        problems.append(f"{len(unclaimed)} tickets not claimed, e.g. {unclaimed[:3]}")
    wrong = [c for c in chats if told(c) != 1]
    if wrong:
        problems.append(f"{len(wrong)} clients told of the claim not exactly once")
    if len(w.balancer.ports) > 1 and not all(w.balancer.served.get(p) for p in w.balancer.ports):
        problems.append(f"a replica answered none of the clicks: {w.balancer.served}")
    return problems


@dataclass
class Figures:
    config: Config
    n: int
    per_second: float
    p50: float
    p99: float
    worst: float
    load: float
    problems: list[str]
    served: list[int]  # Slack clicks the balancer handed to each replica (after the measurement)


async def _measure(tmp: Path, config: Config, n: int) -> Figures:
    async with _world(tmp, config) as w:
        ready = await _prepare(w, n)
        chats = [r.user.id for r in ready]
        await asyncio.sleep(0.5)  # what the preparation left in flight is delivered before the taps
        tapped: dict[int, float] = {}

        async def tap(r: Ready) -> None:
            tapped[r.user.id] = time.time()
            await w.telegram.tap(r.user, r.message_id, r.data)

        start = time.time()
        await asyncio.gather(*(tap(r) for r in ready))
        deadline = time.monotonic() + WAIT_LIMIT
        while True:
            seen = await _seen(w, chats)
            done = set(chats) <= set(seen.card_at) and set(chats) <= seen.answered and not seen.open_work
            if done or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)  # anything posted twice shows up
        seen = await _seen(w, chats)
        problems = list(seen.problems)
        missing_cards = len(set(chats) - set(seen.card_at))
        missing_answers = len(set(chats) - seen.answered)
        if missing_cards or missing_answers:
            problems.append(f"{missing_cards} cards and {missing_answers} ticket numbers missing of {n}")
        if seen.dead or seen.open_work:
            problems.append(f"{seen.dead} dead outbox rows, {seen.open_work} open inbox entries / outbox rows")
        problems += await _claims(w, seen)
        violations = [f"telegram: {v}" for v in w.telegram.violations]
        violations += [f"slack: {v.method} {v.error}" for v in w.slack.violations]
        problems += violations[:5]
        latencies = [seen.card_at[c] - tapped[c] for c in chats if c in seen.card_at]
        last = max(seen.card_at.values(), default=start)
        return Figures(
            config,
            n,
            len(latencies) / max(last - start, 1e-6),
            percentile(latencies, 50),
            percentile(latencies, 99),
            max(latencies, default=float("nan")),
            os.getloadavg()[0],
            problems,
            [w.balancer.served.get(p, 0) for p in w.balancer.ports],
        )


async def _run(n: int) -> BenchResult:
    result = BenchResult("replicas_bench")
    with tempfile.TemporaryDirectory(prefix="replicas-bench-") as tmp:
        figures = []
        for i, config in enumerate(CONFIGS):
            where = Path(tmp) / str(i)
            where.mkdir()
            figures.append(await _measure(where, config, n))
    result.lines.append(f"{n} clients tap confirm at once; limits off; real `python -m bot run` processes")
    for f in figures:
        result.lines.append(
            f"{f.config.name}: {f.per_second:.1f} tickets/s, confirm -> card p50 {ms(f.p50)} / p99 {ms(f.p99)}"
            f" / max {ms(f.worst)}; load {f.load:.2f}; Slack clicks per replica {f.served}"
        )
        for problem in f.problems:
            result.ok = False
            result.lines.append(f"FAILED ({f.config.name}): {problem}")
    return result


def run(quick: bool) -> BenchResult:
    return asyncio.run(_run(QUICK_N if quick else FULL_N))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.replicas_bench", description=__doc__)
    parser.add_argument("--n", type=int, default=FULL_N, help="clients tapping confirm at once")
    args = parser.parse_args(argv)
    result = asyncio.run(_run(args.n))
    print(f"## {result.name}")
    for line in result.lines:
        print(line)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
