"""Three replicas of the real bot (`python -m bot run`, three processes) on one PostgreSQL database, between the
stand-ins, and one of them killed mid-way.

Telegram is read by long polling, which only the replica holding the lock in the database does; Slack's events and
clicks go through a round-robin balancer in front of the three (a request that meets a dead replica goes to the
next). Four clients report problems at once, each followed by a consultant who takes the ticket, replies and
resolves it; while a ticket is open its client writes a burst of numbered messages without waiting. Mid-way the
replica that polls Telegram is killed with SIGKILL (another takes the polling over) and started again (it says it
serves the rest). Expected, counted from what the stand-ins recorded and from the database:

- no ticket lost or opened twice, one card per ticket, nothing posted twice in a thread, every reply delivered
  (the figures of tests/faults/figures.py), ticket numbers unique;
- each client's burst reaches the card's thread in the order written (order per chat across replicas);
- the work was shared: Slack requests reached every replica, and the polling moved to another replica.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sandbox.demo import SLACK_PEOPLE
from sandbox.processes import Balancer, BotProcess, bot_env, free_port, seed_demo_now
from sandbox.slack.server import start as start_slack
from sandbox.slack.standin import SlackStandIn, StandInConfig
from sandbox.telegram.standin import StandIn
from sandbox.testing import world_settings
from tests.faults.figures import count, unexpected_violations
from tests.faults.people import Client, Consultant, intake, poll, ticket_number
from tests.faults.process import Outside
from tests.faults.scenario import cast, seeding
from tests.pg import fresh_schema

REPLICAS = 3
CLIENTS = 4
ROUNDS = 2  # tickets per client
BURST = 4  # messages a client writes at once to an open ticket
PATIENCE = 90.0
POLLS = "polls Telegram"


@dataclass
class Replicas:
    outside: Outside
    bots: list[BotProcess]
    balancer: Balancer

    def log(self, i: int) -> str:
        return self.bots[i].log.read_text(errors="replace")

    def polling(self) -> list[int]:
        """The replicas whose latest start polls Telegram (they hold the lock)."""
        found = []
        for i in range(len(self.bots)):
            latest = self.log(i).rsplit("--- start", 1)[-1]
            lines = [line for line in latest.splitlines() if POLLS in line]
            if not lines:
                found.append(i)  # the one that got the lock at start says nothing
            elif "this replica polls Telegram now" in lines[-1]:
                found.append(i)
        return found


@contextlib.asynccontextmanager
async def replicas(tmp: Path) -> AsyncIterator[Replicas]:
    telegram = StandIn(callback_answer_timeout=30.0)
    await telegram.start()
    slack = SlackStandIn(StandInConfig(retry_delays=(0.5, 2.0, 5.0)))
    bots: list[BotProcess] = []
    balancer: Balancer | None = None
    try:
        async with fresh_schema("replicas") as url:
            slack_base = await start_slack(slack)
            for slack_id, name, _role in SLACK_PEOPLE:
                slack.add_user(slack_id, name)
            ports = [free_port() for _ in range(REPLICAS)]
            settings = world_settings(tmp, telegram, f"{slack_base}/api/", slack.config, database_url=url)
            balancer = Balancer(ports)
            slack.config.request_url = f"{await balancer.serve()}/slack/events"
            demo = await seed_demo_now(settings, seeding(CLIENTS))
            for i, port in enumerate(ports):
                env = bot_env(
                    settings,
                    port,
                    DATABASE_URL=url,
                    REPLICA_NAME=f"replica{i}",
                    LOG_LEVEL="INFO",
                    DELIVERY_PACING="false",
                )
                workdir = tmp / f"bot{i}"
                workdir.mkdir()
                bots.append(BotProcess(env, tmp / f"bot{i}.log", workdir))
            try:
                await asyncio.gather(*(bot.start() for bot in bots))
                yield Replicas(Outside(telegram, slack, settings, bots[0], demo), bots, balancer)
            finally:
                for bot in bots:  # before their schema is dropped
                    await bot.stop()
    finally:
        for bot in bots:
            await bot.stop()
        if balancer is not None:
            await balancer.close()
        await slack.close()
        await telegram.stop()


async def journey(r: Replicas, client: Client, consultant: Consultant, n: int, confirmed: asyncio.Event) -> None:
    """One ticket: intake, claim, a burst of messages from the client, a reply, resolved."""
    tag = f"{client.user.first_name} #{n}"
    *steps, confirm = intake(r.outside.demo.products["fortigate60"], tag)
    for step in steps:
        assert await client.act(step) is not None, f"{tag}: no answer to {step}"
    client.confirmed += 1
    created = await client.act(confirm)
    assert created is not None, f"{tag}: the confirmation was not answered"
    confirmed.set()
    number = ticket_number(created)
    card = await consultant.card(number)
    assert card is not None, f"{tag}: no card for {number}"
    after = client.newest_id()
    await consultant.press(card, "desk_claim")
    assert await client.sees(after, f"tomó tu ticket {number}") is not None, f"{tag}: the claim never reached them"
    # The burst: written one after the other without waiting for the bot in between; then it is in the thread.
    burst = [f"Dato {k} de {BURST} ({tag})" for k in range(1, BURST + 1)]
    for text in burst:
        client.said.append(text)
        await client.telegram.send_text(client.user, text)
        client.acts += 1

    def relayed() -> bool:
        posted = [m.text for m in r.outside.slack.replies(card.channel, card.ts)]
        return all(any(text in p for p in posted) for text in burst)

    assert await poll(relayed, PATIENCE), f"{tag}: the burst did not reach the card's thread"
    reply = f"Gracias, reviso {number} ({tag})."
    consultant.reply(card, client.chat, reply)
    assert await client.sees(after, reply) is not None, f"{tag}: the reply never reached them"
    after = client.newest_id()
    assert await consultant.resolve(card, f"Listo ({tag})."), f"{tag}: could not resolve"
    assert await client.sees(after, "quedó resuelto") is not None, f"{tag}: the resolution never reached them"


@pytest.mark.postgres
async def test_three_replicas_one_killed_nothing_lost_or_doubled(tmp_path: Path) -> None:
    async with replicas(tmp_path) as r:
        o = r.outside
        clients, consultants = cast(o, CLIENTS, PATIENCE)
        # Every replica has asked for the lock once it says so; exactly one holds it.
        started = await o.until(
            lambda: sum("another replica polls Telegram" in r.log(i) for i in range(REPLICAS)) == REPLICAS - 1,
            "two replicas saying another one polls Telegram",
        )
        leader = r.polling()
        assert started and len(leader) == 1, [r.log(i)[-2000:] for i in range(REPLICAS)]
        first_leader = leader[0]
        confirmed = asyncio.Event()

        async def kill_the_poller() -> None:
            await confirmed.wait()
            await asyncio.sleep(0.5)
            await r.bots[first_leader].kill9()
            await asyncio.sleep(1.0)
            await r.bots[first_leader].start()

        async def person(client: Client, consultant: Consultant) -> None:
            for n in range(1, ROUNDS + 1):
                await journey(r, client, consultant, n, confirmed)

        async with asyncio.TaskGroup() as group:
            group.create_task(kill_the_poller())
            for client, consultant in zip(clients, consultants, strict=True):
                group.create_task(person(client, consultant))
        for consultant in consultants:
            await consultant.delivered()
        await o.quiescent()

        figures = await count(o, clients, consultants)
        figures.kills = r.bots[first_leader].kills
        chats = "\n".join(
            f"chat {c.chat}: "
            + " | ".join(
                ("BOT " if m.from_bot else "") + str(m.payload.get("text", ""))[:70].replace("\n", " ")
                for m in c.messages()
            )
            for c in clients
        )
        context = "\n".join(figures.details + unexpected_violations(o)) + "\n" + chats
        logs = "\n".join(f"--- replica {i}:\n{r.log(i)[-3000:]}" for i in range(REPLICAS))
        (tmp_path / "report.txt").write_text(f"{figures.line()}\n{context}\n{logs}")
        assert not figures.nonzero() and not unexpected_violations(o), f"{figures.line()}\n{context}\n{logs}"
        # A message shown twice in a row: at most one, sent again by the next process after the kill.
        assert figures.tickets == CLIENTS * ROUNDS and figures.telegram_twice <= figures.kills, figures.line()
        tickets = await o.tickets()
        assert len({t.number for t in tickets}) == len(tickets) == CLIENTS * ROUNDS

        # Order per chat: each burst reached its card's thread whole and in the order it was written.
        thread_text = {}
        for ticket in tickets:
            card = next(m for m in o.slack.top_level(o.slack.config.channel_id)
                        if (m.metadata or {}).get("event_payload", {}).get("ticket_id") == ticket.id)  # fmt: skip
            thread_text[ticket.number] = [m.text for m in o.slack.replies(card.channel, card.ts)]
        for client in clients:
            for n in range(1, ROUNDS + 1):
                tag = f"({client.user.first_name} #{n})"
                posted = [int(m.group(1)) for t in thread_text.values() for text in t
                          if tag in text and (m := re.search(r"Dato (\d+) de", text))]  # fmt: skip
                assert posted == list(range(1, BURST + 1)), (tag, posted)

        # The work was shared, and the polling moved when its replica died; the restarted one said so once.
        assert len([p for p, n in r.balancer.served.items() if n]) == REPLICAS, r.balancer.served
        now_polling = r.polling()
        assert len(now_polling) == 1 and now_polling[0] != first_leader, (now_polling, logs)
        restarted = r.log(first_leader).rsplit("--- start", 1)[-1]
        assert restarted.count("another replica polls Telegram") == 1, restarted[-2000:]
