"""Intake benchmark: N complete Telegram intakes through the stand-in, against a bare PTB echo bot in the same run.

Both bots talk HTTP to the same Telegram stand-in (rate limits off on both sides, so the figure is the
bot's own cost, not Telegram's 30 messages/s ceiling). Clients run concurrently; each waits for the bot's
answer before its next message, as a person would. The echo bot handles the same number of messages.
A result counts only if every intake ended with a ticket number and the stand-in recorded no violation.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench import BenchResult
from bot.app import SupportBot
from bot.services import outbox
from bot.settings import Settings
from bot.wiring import open_store, tier_rules
from sandbox.demo import seed_demo
from sandbox.telegram.echo import build_echo_application
from sandbox.telegram.models import StoredMessage, User
from sandbox.telegram.standin import StandIn
from sandbox.telegram.testing import polling, running_standin
from sandbox.testing import DEFAULT_NOW, FakeClock
from storage import generate_key

DEFAULT_N = 40
QUICK_N = 4
CONCURRENCY = 10
REPEATS = 3
WAIT_LIMIT = 20.0  # seconds for one answer before the benchmark fails
Step = tuple[str, str, str]  # (kind, value, text expected in the bot's newest message)


def intake_script(fortigate_id: int) -> list[Step]:
    """One complete remote intake; each answer waits for the bot's next question."""
    return [
        ("send", "/reportar", "¿Sobre qué servicio"),
        ("tap", "a.firewall", "¿Qué equipo"),
        ("tap", f"p.{fortigate_id}", "¿El servicio está completamente caído?"),
        ("tap", "t.down", "¿A cuántas personas"),
        ("tap", "t.whole_company", "Cuéntame qué pasa"),
        ("send", "No hay internet en toda la oficina, el firewall tiene la luz de alarma en rojo.", "¿Desde cuándo"),
        ("send", "hoy a las 9", "¿Tienes capturas"),
        ("photo", "", "Recibí 1 archivo"),
        ("tap", "ok", "¿Cómo te atendemos?"),
        ("tap", "acc.remote", "ID de TeamViewer"),
        ("send", "1 234 567 890", "contraseña de TeamViewer"),
        ("send", "k9#Lm2", "¿El equipo pide contraseña"),
        ("tap", "n", "Revisa tu reporte"),
        ("tap", "ok", "Tu ticket es"),
    ]


def _newest(standin: StandIn, user: User) -> list[StoredMessage]:
    """The chat's messages, newest first, read from the stand-in's state (no HTML rendering: it would
    cost more than the bot being measured)."""
    st = standin.state
    return [st.messages[(user.id, m)] for m in reversed(st.chat_order.get(user.id, []))]


async def _wait_for(standin: StandIn, user: User, marker: str, after: int) -> int:
    """Wait until a bot message newer than `after` contains `marker`; returns its message id."""
    deadline = time.monotonic() + WAIT_LIMIT
    while True:
        for message in _newest(standin, user):
            if message.message_id <= after:
                break
            if message.from_bot and not message.deleted and marker in str(message.payload.get("text", "")):
                return message.message_id
        if time.monotonic() > deadline:
            raise TimeoutError(f"no bot message with {marker!r} for user {user.id}")
        await asyncio.sleep(0.002)


def _button(standin: StandIn, user: User, action: str) -> tuple[int, str]:
    for message in _newest(standin, user):
        for row in message.inline_keyboard:
            for button in row:
                data = str(button.get("callback_data", ""))
                if data.startswith("i:") and data.split(":", 2)[2] == action:
                    return message.message_id, data
    raise LookupError(action)


async def _one_intake(standin: StandIn, user: User, script: Sequence[Step]) -> None:
    last = 0
    for kind, value, marker in script:
        if kind == "send":
            sent = await standin.send_text(user, value)
        elif kind == "photo":
            sent = await standin.send_photo(user)
        else:
            message_id, data = _button(standin, user, value)
            sent = await standin.tap(user, message_id, data)
        last = max(last, sent.message.message_id if sent.message is not None else last)
        last = await _wait_for(standin, user, marker, last)


async def _echo_client(standin: StandIn, user: User, count: int) -> None:
    last = 0
    for i in range(count):
        text = f"mensaje {i} de {user.id}"
        sent = await standin.send_text(user, text)
        last = await _wait_for(standin, user, text, sent.message.message_id if sent.message else last)


async def _gather_limited(jobs: Sequence[Callable[[], Awaitable[None]]], limit: int) -> None:
    gate = asyncio.Semaphore(limit)

    async def run(job: Callable[[], Awaitable[None]]) -> None:
        async with gate:
            await job()

    await asyncio.gather(*(run(job) for job in jobs))


async def measure_echo(standin: StandIn, n_messages: int, clients: int) -> float:
    """Messages per second a bare PTB echo bot answers, `clients` chats at a time."""
    assert standin.urls is not None
    app = build_echo_application(standin.token, standin.urls.base_url, standin.urls.base_file_url)
    users = [standin.create_user(f"Eco {i}") for i in range(clients)]
    per_user = max(1, n_messages // clients)
    async with polling(app, poll_timeout=1):
        started = time.perf_counter()
        await asyncio.gather(*(_echo_client(standin, u, per_user) for u in users))
        elapsed = time.perf_counter() - started
    return per_user * clients / elapsed


async def _noop(payload: Any) -> None:
    return None


async def measure_intakes(standin: StandIn, tmp: Path, n: int, clients: int) -> tuple[float, int]:
    """Complete intakes per second and tickets opened, the real SupportBot on a fresh database."""
    assert standin.urls is not None
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_path=tmp / f"bench-{time.monotonic_ns()}.db",
        secrets_keys=[generate_key()],
        telegram_bot_token=standin.token,
        telegram_api_base_url=standin.urls.base_url,
        telegram_api_file_url=standin.urls.base_file_url,
        http_port=0,
    )
    clock = FakeClock(DEFAULT_NOW)
    store = await open_store(settings)
    async with store.transaction() as tx:
        demo = await seed_demo(
            tx, today=DEFAULT_NOW.date(), now=clock(), rules=tier_rules(settings), invite_ttl=timedelta(hours=72)
        )
        users = []
        for i in range(n):
            user = standin.create_user(f"Cliente {i}")
            await tx.add_contact(demo.client_id, f"Cliente {i}", telegram_user_id=user.id, at=clock())
            users.append(user)
    await store.close()
    bot = SupportBot(settings, clock=clock, poll_timeout=1, rate_limiter=False)
    await bot.start()
    assert bot.dispatcher is not None
    for kind in (outbox.SLACK_CARD, outbox.SLACK_THREAD, outbox.SLACK_THREAD_FILE, outbox.SLACK_CHANNEL):
        bot.dispatcher.register(outbox.SLACK, kind, _noop)  # no Slack in this benchmark: the card is not measured
    script = intake_script(demo.products["fortigate60"])
    try:
        started = time.perf_counter()
        await _gather_limited([lambda u=u: _one_intake(standin, u, script) for u in users], clients)  # type: ignore[misc]
        elapsed = time.perf_counter() - started
        assert bot.store is not None
        async with bot.store.transaction() as tx:
            opened = len(await tx.list_tickets())
    finally:
        await bot.stop()
    return n / elapsed, opened


async def _run(n: int, repeats: int, clients: int) -> BenchResult:
    result = BenchResult("intake (Telegram stand-in)")
    steps = len(intake_script(0))
    intake_rates: list[float] = []
    echo_rates: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        async with running_standin(rate_limits=False, callback_answer_timeout=5.0) as standin:
            await measure_echo(standin, clients * 2, clients)  # warm-up
            for _ in range(repeats):
                rate, opened = await measure_intakes(standin, Path(tmp), n, clients)
                if opened != n:
                    result.ok = False
                    result.lines.append(f"FAILED: {opened} tickets for {n} intakes")
                intake_rates.append(rate)
                echo_rates.append(await measure_echo(standin, n * steps, clients))
            if standin.violations:
                result.ok = False
                result.lines.append(f"FAILED: stand-in violations: {standin.violations[:3]}")
    intakes = statistics.median(intake_rates)
    echo = statistics.median(echo_rates)
    updates = intakes * steps
    result.lines += [
        f"{n} complete intakes ({steps} client messages/taps each), {clients} clients at a time, median of {repeats}",
        f"intake bot: {intakes:.1f} intakes/s = {updates:.0f} client updates/s answered",
        f"bare PTB echo bot: {echo:.0f} messages/s answered",
        f"ratio intake/echo (updates answered per second): {updates / echo:.2f}",
    ]
    return result


def run(quick: bool) -> BenchResult:
    """Entry point for `python -m bench`."""
    logging.getLogger("supportbot").setLevel(logging.WARNING)
    with contextlib.suppress(Exception):
        logging.getLogger("httpx").setLevel(logging.WARNING)
    if quick:
        return asyncio.run(_run(QUICK_N, 1, 2))
    return asyncio.run(_run(DEFAULT_N, REPEATS, CONCURRENCY))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.intake_bench", description=__doc__)
    parser.add_argument("--n", type=int, default=DEFAULT_N, help="intakes per pass")
    parser.add_argument("--clients", type=int, default=CONCURRENCY, help="clients at a time")
    parser.add_argument("--repeats", type=int, default=REPEATS)
    args = parser.parse_args(argv)
    result = asyncio.run(_run(args.n, args.repeats, args.clients))
    print(f"## {result.name}")
    for line in result.lines:
        print(line)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
