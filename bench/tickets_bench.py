"""A client's `/ticket N` and `/mis_tickets` on a big database: a client with 50,000 tickets among 1,000,000.

The database is built with the project's schema (storage/migrations, applied by storage.migrate) and bulk
inserts in one transaction, then cached in the system's temporary directory under a name keyed by the
schema's hash and the sizes, so reruns skip the build. Each measurement runs in a fresh subprocess that does
only this: open the store, build the services as the bot does, and hand Telegram updates (as the adapter
receives them) to the client's service entry, `client_entry.handle`: one transaction that loads the profile,
runs the command, and queues the reply in the outbox, exactly what the bot runs for the inbox entry. Its peak
RSS is read from /proc (VmHWM) and getrusage. The baseline, in the same subprocess: `/ayuda`, the same path
with no ticket query. The rows the replies queued are deleted afterwards, so the cached file stays as built.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import BenchResult
from bench.harness import percentile
from storage.migrate import load_migrations, migrate

BUILDER_VERSION = 1  # bump when the generated data changes, so cached files are rebuilt
ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 50.0
TARGET_RSS_MB = 150.0


@dataclass(frozen=True)
class Size:
    tickets: int
    client_tickets: int
    clients: int
    repeats: int


FULL = Size(tickets=1_000_000, client_tickets=50_000, clients=400, repeats=30)
QUICK = Size(tickets=20_000, client_tickets=2_000, clients=40, repeats=5)
BIG_CLIENT = 1  # the client with client_tickets tickets (its contact's Telegram user id is BIG_USER)
BIG_USER = 8_000_001
FIRST_YEAR = 2017
NOW = datetime(2026, 11, 24, 16, 15, tzinfo=UTC)  # DEFAULT_NOW of the sandbox, in UTC
WORDS = (
    "no hay internet en la oficina el firewall reinicia solo la impresora no imprime el conmutador no da tono "
    "el sistema de facturación marca error al timbrar la red inalámbrica se cae cada hora el switch parpadea"
).split()


# --- the database --------------------------------------------------------------------------------------
def cached_db(size: Size) -> tuple[Path, bool]:
    """The database for `size`, built once and kept in the temporary directory (keyed by the schema's hash).
    Returns: its path, and whether it was built now."""
    schema = hashlib.sha256()
    for m in load_migrations():
        schema.update(f"{m.version}:{m.name}:{m.sql}".encode())
    schema.update(f"{BUILDER_VERSION}:{size.tickets}:{size.client_tickets}:{size.clients}".encode())
    folder = Path(tempfile.gettempdir()) / "supportbot-bench"
    folder.mkdir(exist_ok=True)
    path = folder / f"tickets-{schema.hexdigest()[:16]}.db"
    if path.exists():
        return path, False
    partial = path.with_suffix(f".{os.getpid()}.building")
    build_db(partial, size)
    partial.rename(path)
    return path, True


def _ts(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def build_db(path: Path, size: Size, seed: int = 20261124) -> None:
    """Migrate an empty file, then insert clients, contacts, contracts and tickets in one transaction.
    The tickets' indexes are dropped during the insert and created again after it (same SQL)."""
    rng = random.Random(seed)
    migrate(path)
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -200000;")
        indexes = [
            (name, sql)
            for name, sql in db.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tickets' AND sql IS NOT NULL"
            )
        ]
        db.execute("BEGIN")
        for name, _ in indexes:
            db.execute(f'DROP INDEX "{name}"')
        created = _ts(NOW - timedelta(days=3650))
        db.executemany(
            "INSERT INTO clients (id, name, phone, created_at) VALUES (?, ?, ?, ?)",
            [(c, f"Cliente {c} S.A. de C.V.", f"222 {c:07d}", created) for c in range(1, size.clients + 1)],
        )
        db.executemany(
            "INSERT INTO contacts (id, client_id, name, phone, phone_key, language, telegram_user_id, created_at)"
            " VALUES (?, ?, ?, '', '', 'es', ?, ?)",
            [(c, c, f"Contacto {c}", BIG_USER + c - BIG_CLIENT, created) for c in range(1, size.clients + 1)],
        )
        db.executemany(
            "INSERT INTO contracts (id, number, client_id, tier, starts_on, ends_on, minutes_total)"
            " VALUES (?, ?, ?, 'empresarial', ?, ?, 1200)",
            [
                (
                    c,
                    f"POL-2026-{c:04d}",
                    c,
                    (NOW.date() - timedelta(days=200)).isoformat(),
                    (NOW.date() + timedelta(days=165)).isoformat(),
                )
                for c in range(1, size.clients + 1)
            ],
        )
        # Which tickets are the big client's: client_tickets of them, spread over the ten years.
        big = set(rng.sample(range(size.tickets), size.client_tickets))
        span = (NOW - datetime(FIRST_YEAR, 1, 1, tzinfo=UTC)).total_seconds()
        start = datetime(FIRST_YEAR, 1, 1, tzinfo=UTC)
        counters: dict[int, int] = {}
        rows: list[tuple[Any, ...]] = []
        columns = (
            "id, number, client_id, contact_id, contract_id, service_area, severity, status, description,"
            " telegram_chat_id, slack_channel, slack_ts, opened_at, clock_started_at, response_due_at,"
            " first_response_at, response_met, resolved_at, closed_at, solution"
        )
        insert = f"INSERT INTO tickets ({columns}) VALUES ({', '.join('?' for _ in columns.split(','))})"
        areas = ("software", "firewall", "switching", "wireless", "routing", "cabling", "maintenance")
        for i in range(size.tickets):
            opened = start + timedelta(seconds=span * (i + 0.5) / size.tickets)
            year = opened.year
            counters[year] = counters.get(year, 0) + 1
            client = BIG_CLIENT if i in big else rng.randrange(BIG_CLIENT + 1, size.clients + 1)
            draw = rng.random()
            # 1% open (new, assigned, waiting for the client), 2% resolved, the rest closed.
            status = (
                ("new", "assigned", "waiting_client")[i % 3] if draw < 0.01 else "resolved" if draw < 0.03 else "closed"
            )
            text = " ".join(rng.choices(WORDS, k=rng.randrange(12, 40)))
            answered = opened + timedelta(minutes=rng.randrange(5, 240))
            resolved = answered + timedelta(hours=rng.randrange(1, 72)) if status in ("resolved", "closed") else None
            closed = resolved + timedelta(days=3) if status == "closed" and resolved is not None else None
            rows.append(
                (
                    i + 1, f"SOP-{year}-{counters[year]:06d}", client, client, client, areas[i % len(areas)],
                    1 + i % 4, status, text, BIG_USER + client - BIG_CLIENT, "C0SUPPORT", f"{opened.timestamp():.6f}",
                    _ts(opened), _ts(opened), _ts(opened + timedelta(hours=4)), _ts(answered), 1,
                    _ts(resolved) if resolved else None, _ts(closed) if closed else None,
                    "Se reinició el equipo y se actualizó el firmware." if resolved else None,
                )
            )  # fmt: skip
            if len(rows) >= 50_000:
                db.executemany(insert, rows)
                rows = []
        db.executemany(insert, rows)
        db.executemany("INSERT INTO ticket_counters (prefix, year, last) VALUES ('SOP', ?, ?)", counters.items())
        for _, sql in indexes:
            db.execute(sql)
        db.execute("COMMIT")
        db.execute("ANALYZE")
        db.execute("PRAGMA journal_mode = WAL")
    finally:
        db.close()


def pick_numbers(path: Path) -> dict[str, str]:
    """The arguments the client will type: a full number, a suffix found deep in their history, a suffix
    they have no ticket for (the whole history is looked at), all of the big client."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        numbers = [
            n for (n,) in db.execute("SELECT number FROM tickets WHERE client_id = ? ORDER BY id", (BIG_CLIENT,))
        ]
        suffixes = {n.rsplit("-", 1)[1] for n in numbers}
    missing = next(f"{k:06d}" for k in range(999_999, 0, -1) if f"{k:06d}" not in suffixes)
    return {
        "full number": numbers[len(numbers) // 2],
        "suffix, an old ticket": str(int(numbers[len(numbers) // 20].rsplit("-", 1)[1])),
        "suffix, no such ticket": str(int(missing)),
    }


# --- the subprocess ------------------------------------------------------------------------------------
def _update(update_id: int, text: str) -> dict[str, Any]:
    user = {"id": BIG_USER, "is_bot": False, "first_name": "Contacto", "language_code": "es"}
    message: dict[str, Any] = {
        "message_id": update_id,
        "from": user,
        "chat": {"id": BIG_USER, "type": "private", "first_name": "Contacto"},
        "date": int(NOW.timestamp()),
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": update_id, "message": message}


def _peak_rss_mb() -> tuple[float, float]:
    """(VmHWM from /proc/self/status, ru_maxrss) in MB."""
    hwm = float("nan")
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) / 1024
    return hwm, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _child(path: Path, commands: dict[str, str], repeats: int) -> dict[str, Any]:
    from bot.i18n import Catalogue
    from bot.services import client_entry
    from bot.services.context import Services
    from bot.settings import Settings
    from bot.wiring import build_calendar, open_store, response_targets, tier_rules
    from handlers.telegram.translate import to_event
    from storage import SecretBox, generate_key

    started = time.perf_counter()
    key = generate_key()
    settings = Settings(_env_file=None, database_path=path, secrets_keys=[key])  # type: ignore[call-arg]
    store = await open_store(settings)
    services = Services(
        settings=settings,
        store=store,
        calendar=build_calendar(settings),
        tiers=tier_rules(settings),
        targets=response_targets(settings),
        catalogue=Catalogue.load(),
        box=SecretBox([key]),
        clock=lambda: NOW,
    )
    with contextlib.closing(sqlite3.connect(path)) as db:
        (outbox_before,) = db.execute("SELECT COALESCE(MAX(id), 0) FROM outbox").fetchone()
    times: dict[str, list[float]] = {name: [] for name in commands}
    update_id = 0
    try:
        for _ in range(repeats):
            for name, text in commands.items():
                update_id += 1
                event = to_event(_update(update_id, text))
                t = time.perf_counter()
                await client_entry.handle(services, None, event)
                times[name].append(time.perf_counter() - t)
        async with store.transaction() as tx:
            replies = await tx._all("SELECT payload FROM outbox WHERE id > ? ORDER BY id", (outbox_before,))  # type: ignore[attr-defined]
    finally:
        await store.close()
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("DELETE FROM outbox WHERE id > ?", (outbox_before,))
        db.commit()
    hwm, maxrss = _peak_rss_mb()
    texts = [json.loads(r[0])["text"] for r in replies[: len(commands)]]
    return {"times": times, "hwm": hwm, "maxrss": maxrss, "replies": texts, "wall": time.perf_counter() - started}


def _measure(path: Path, commands: dict[str, str], repeats: int) -> dict[str, Any]:
    """Run the measurement in a fresh interpreter and return what it printed (JSON)."""
    out = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bench.tickets_bench", "--child", str(path), "--repeats", str(repeats),
         "--commands", json.dumps(commands)],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    if out.returncode != 0:
        raise RuntimeError(f"the measuring subprocess failed:\n{out.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _run(size: Size) -> BenchResult:
    result = BenchResult(
        f"/ticket N and /mis_tickets, a client with {size.client_tickets:,} of {size.tickets:,} tickets"
    )
    built = time.perf_counter()
    path, fresh = cached_db(size)
    built = time.perf_counter() - built
    numbers = pick_numbers(path)
    commands = {"/ayuda (baseline)": "/ayuda"}
    commands |= {f"/ticket {n} ({what})": f"/ticket {n}" for what, n in numbers.items()}
    commands["/mis_tickets"] = "/mis_tickets"
    measured = _measure(path, commands, size.repeats)
    times: dict[str, list[float]] = measured["times"]
    replies: list[str] = measured["replies"]
    # The baseline answers anything; a number is found by its full form or its suffix; the missing one is not.
    expect = [None, numbers["full number"], "SOP-", "No encuentro", "Tus tickets"]
    for (name, reply), wanted in zip(zip(commands, replies, strict=True), expect, strict=True):
        if wanted is not None and wanted not in reply:
            result.ok = False
            result.lines.append(f"FAILED: {name} answered {reply[:120]!r}")
    base = percentile(times["/ayuda (baseline)"][1:] or times["/ayuda (baseline)"], 50)
    result.lines.append(
        f"database: {path.stat().st_size / 1e6:,.0f} MB "
        f"({'built' if fresh else 'found in the cache'} in {built:.1f} s); "
        f"{size.repeats} rounds in one subprocess, first (cold) call apart"
    )
    worst = 0.0
    for name, values in times.items():
        warm = values[1:] or values
        p50, p99 = percentile(warm, 50), percentile(warm, 99)
        if name != "/ayuda (baseline)":
            worst = max(worst, p99, values[0])
        result.lines.append(
            f"{name}: first {values[0] * 1000:.1f} ms, p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms "
            f"({p50 / base:.1f}x the baseline's p50)"
        )
    # VmHWM is this process's own peak; ru_maxrss also carries the peak of the process that started it
    # (Linux keeps it across exec), so it is shown but not judged.
    rss = measured["hwm"]
    result.lines += [
        f"slowest ticket command (p99 or first call): {worst * 1000:.1f} ms (target < {TARGET_MS:g} ms: "
        f"{'met' if worst * 1000 < TARGET_MS else 'NOT met'})",
        f"subprocess peak RSS (VmHWM): {rss:.0f} MB (target < {TARGET_RSS_MB:g} MB: "
        f"{'met' if rss < TARGET_RSS_MB else 'NOT met'}); its ru_maxrss {measured['maxrss']:.0f} MB includes "
        "the launcher's peak, inherited across exec",
    ]
    return result


def run(quick: bool) -> BenchResult:
    """Entry point for `python -m bench`."""
    return _run(QUICK if quick else FULL)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tickets_bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a small database")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=FULL.repeats, help=argparse.SUPPRESS)
    parser.add_argument("--commands", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        measured = asyncio.run(_child(args.child, json.loads(args.commands), args.repeats))
        print(json.dumps(measured))
        return 0
    result = _run(QUICK if args.quick else FULL)
    print(f"## {result.name}")
    for line in result.lines:
        print(line)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
