"""Intake benchmark: N complete Telegram intakes, cards and photos delivered to Slack, against a bare PTB echo bot.

The real SupportBot serves both stand-ins (Telegram and Slack, rate limits off on both sides and in the bot,
so the figure is the bot's own cost, not the platforms' ceilings): every intake's card and photo go to the
Slack stand-in through the real Slack senders. Clients run concurrently; each waits for the bot's answer
before its next message, as a person would. A pass ends when every client has their ticket number and every
card and photo is in Slack. The baseline, in the same run on the same Telegram stand-in: the bare
python-telegram-bot echo bot answering the same number of messages, once on the bot's own HTTP client class
(handlers/telegram/request.py, same settings) and once on PTB's default HTTPX client.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from bench import BenchResult
from bench.harness import (
    Stack,
    delivery_checks,
    gather_limited,
    intake_script,
    lag_line,
    run_script,
    running_stack,
    slack_connections_line,
    wait_delivered,
    wait_for,
)
from handlers.telegram.request import AiohttpRequest
from sandbox.telegram.echo import build_echo_application
from sandbox.telegram.models import User
from sandbox.telegram.standin import StandIn
from sandbox.telegram.testing import polling

DEFAULT_N = 40
QUICK_N = 4
CONCURRENCY = 10
REPEATS = 3


async def _echo_client(standin: StandIn, user: User, count: int) -> None:
    last = 0
    for i in range(count):
        text = f"mensaje {i} de {user.id}"
        sent = await standin.send_text(user, text)
        last = await wait_for(standin, user, text, sent.message.message_id if sent.message else last)


async def measure_echo(standin: StandIn, n_messages: int, clients: int, *, same_client: bool) -> float:
    """Messages per second a bare PTB echo bot answers, `clients` chats at a time; on the bot's HTTP client
    class (same pool sizes and timeouts as bot.app) or on PTB's default."""
    assert standin.urls is not None
    requests = {}
    if same_client:
        requests = {"request": AiohttpRequest(), "get_updates_request": AiohttpRequest(pool_size=1)}
    app = build_echo_application(standin.token, standin.urls.base_url, standin.urls.base_file_url, **requests)
    users = [standin.create_user(f"Eco {i}") for i in range(clients)]
    per_user = max(1, n_messages // clients)
    async with polling(app, poll_timeout=1):
        started = time.perf_counter()
        await asyncio.gather(*(_echo_client(standin, u, per_user) for u in users))
        elapsed = time.perf_counter() - started
    return per_user * clients / elapsed


def calls_by_method(standin: StandIn, since: int) -> Counter[str]:
    """The Bot API calls received since the `since`-th, by method (the long polls left out)."""
    return Counter(method for method, _ in standin.requests[since:] if method.lower() != "getupdates")


async def measure_intakes(stack: Stack, n: int, clients: int) -> tuple[float, list[str], list[str]]:
    """Complete intakes per second (until every card and photo is in Slack too), the failed checks, and
    what the pass saw (Bot API calls per update, the Telegram record lag, the Slack connections)."""
    bot = await stack.start_bot(pacing=False)
    stack.slack_peers.reset()
    calls_before = len(stack.telegram.requests)
    users = await stack.add_clients(n)
    script = intake_script(stack.demo.products["fortigate60"])
    chats = [u.id for u in users]
    started = time.perf_counter()
    await gather_limited([lambda u=u: run_script(stack.telegram, u, script) for u in users], clients)  # type: ignore[misc]
    seen = await wait_delivered(stack, chats, 60.0)
    elapsed = time.perf_counter() - started
    problems = delivery_checks(stack, chats, seen)
    calls = calls_by_method(stack.telegram, calls_before)
    updates = n * len(script)
    seen_lines = [
        f"Bot API calls per client update: {sum(calls.values()) / updates:.2f} ("
        + ", ".join(f"{method} {count / updates:.2f}" for method, count in calls.most_common())
        + "; the echo bot makes 1.00: one sendMessage)",
        lag_line(bot),
        slack_connections_line(stack),
    ]
    await stack.stop_bot()
    return n / elapsed, problems, seen_lines


async def _run(n: int, repeats: int, clients: int) -> BenchResult:
    result = BenchResult("intake (Telegram and Slack stand-ins)")
    steps = len(intake_script(0))
    intake_rates: list[float] = []
    same_rates: list[float] = []
    default_rates: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        async with running_stack(Path(tmp)) as stack:
            tg = stack.telegram
            await measure_echo(tg, clients * 2, clients, same_client=True)  # warm-up
            observed: list[str] = []
            for _ in range(repeats):
                rate, problems, observed = await measure_intakes(stack, n, clients)
                result.lines += problems
                result.ok = result.ok and not problems
                intake_rates.append(rate)
                same_rates.append(await measure_echo(tg, n * steps, clients, same_client=True))
                default_rates.append(await measure_echo(tg, n * steps, clients, same_client=False))
    intakes = statistics.median(intake_rates)
    updates = intakes * steps
    same = statistics.median(same_rates)
    default = statistics.median(default_rates)
    result.lines += [
        f"{n} complete intakes ({steps} client messages/taps each), {clients} clients at a time, "
        f"median of {repeats}; each pass ends when every card and photo is in Slack",
        f"intake bot: {intakes:.1f} intakes/s = {updates:.0f} client updates/s answered "
        f"(passes: {', '.join(f'{r * steps:.0f}' for r in intake_rates)})",
        f"bare PTB echo bot on the bot's HTTP client (aiohttp): {same:.0f} messages/s "
        f"(passes: {', '.join(f'{r:.0f}' for r in same_rates)})",
        f"bare PTB echo bot on PTB's default client (HTTPX): {default:.0f} messages/s "
        f"(passes: {', '.join(f'{r:.0f}' for r in default_rates)})",
        f"ratio intake/echo, same HTTP client: {updates / same:.2f} (target >= 0.7: "
        f"{'met' if updates / same >= 0.7 else 'NOT met'})",
        f"ratio intake/echo on PTB's default client: {updates / default:.2f}",
        *(f"last pass: {line}" for line in observed),
    ]
    return result


def run(quick: bool) -> BenchResult:
    """Entry point for `python -m bench`."""
    quiet()
    if quick:
        return asyncio.run(_run(QUICK_N, 1, 2))
    return asyncio.run(_run(DEFAULT_N, REPEATS, CONCURRENCY))


def quiet() -> None:
    """Only warnings from the bot and the libraries: per-request INFO lines would be measured too."""
    for name in ("supportbot", "httpx", "bot", "handlers", "aiohttp.access"):
        logging.getLogger(name).setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.intake_bench", description=__doc__)
    parser.add_argument("--n", type=int, default=DEFAULT_N, help="intakes per pass")
    parser.add_argument("--clients", type=int, default=CONCURRENCY, help="clients at a time")
    parser.add_argument("--repeats", type=int, default=REPEATS)
    args = parser.parse_args(argv)
    quiet()
    result = asyncio.run(_run(args.n, args.repeats, args.clients))
    print(f"## {result.name}")
    for line in result.lines:
        print(line)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
