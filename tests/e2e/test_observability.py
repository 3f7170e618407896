"""Watching the running bot (issue "Safe by default"): /healthz, /metrics, logs that name the ticket and the
event, 429s as one INFO line, and the daily prune, all on the real bot between the stand-ins."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.domain.types import Severity, TicketStatus
from bot.logs import configure_logging
from sandbox.demo import AGENT_MARCO, LAURA_ID, QUALITY_SOFIA
from sandbox.slack.driver import Card
from sandbox.testing import World
from storage.records import AuditEvent, InboxStatus, OutboxStatus
from tests.e2e.slack.helpers import open_ticket, parts, ticket
from tests.e2e.slack.test_card_and_claim import _note, started_laura
from tests.e2e.slack.test_full_life import resolve
from tests.e2e.telegram.helpers import tap, tickets, to_summary_remote

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def get(world: World, path: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as http, http.get(f"{world.bot.http_url}{path}") as resp:
        return resp.status, resp.headers.get("Content-Type", ""), await resp.text()


async def scrape(world: World) -> Samples:
    status, content_type, text = await get(world, "/metrics")
    assert status == 200 and content_type.startswith("text/plain"), (status, content_type)
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def labelled(samples: Samples, name: str, *keys: str) -> dict[tuple[str, ...], float]:
    """The samples of name by their labels' values, in the order of keys."""
    return {tuple(dict(labels)[k] for k in keys): n for (sample, labels), n in samples.items() if sample == name}


# --- /healthz ---------------------------------------------------------------------------------------------
async def test_healthz_is_200_while_alive_and_503_with_the_reason_when_a_loop_stops(world: World) -> None:
    status, _, body = await get(world, "/healthz")
    assert (status, json.loads(body)) == (200, {"ok": True})
    assert world.bot.dispatcher is not None
    await world.bot.dispatcher.stop()
    status, _, body = await get(world, "/healthz")
    assert status == 503
    assert json.loads(body) == {"ok": False, "reason": "delivery loop is not running"}


async def test_healthz_is_503_when_the_database_is_closed(world: World) -> None:
    assert world.bot.store is not None and world.bot.scheduler is not None
    await world.bot.scheduler.stop()
    await world.bot.store.close()
    status, _, body = await get(world, "/healthz")
    answer = json.loads(body)
    assert status == 503 and answer["ok"] is False
    assert answer["reason"] == "database: StoreError: the store is closed; timer loop is not running"
    # /metrics still answers: what this process counted, and that the database is not there.
    assert value(await scrape(world), "supportbot_database_up") == 0


# --- /metrics -----------------------------------------------------------------------------------------------
async def _audit(world: World) -> list[AuditEvent]:
    store, _ = parts(world)
    wanted = (
        "opened",
        "first_response",
        "sla_breached",
        "escalation_requested",
        "escalation_approved",
        "escalation_rejected",
        "intake_cancelled",
        "draft_expired",
    )
    async with store.transaction() as tx:
        return await tx.audit_since(0, wanted, limit=10_000)


async def test_metrics_after_a_full_ticket_life_match_the_audit_log(world: World) -> None:
    laura = world.client(LAURA_ID)
    await laura.send("/start")
    # A report left at the product question.
    await laura.send("/reportar")
    await tap(laura, "a.firewall")
    await laura.send("/cancelar")
    # A whole life: reported, claimed in 30 minutes, escalated to Quality and approved, resolved, rated.
    await to_summary_remote(laura, world)
    await tap(laura, "ok")
    [opened] = await tickets(world)
    card = await world.team.card_for(opened.number)
    world.clock.advance(minutes=30)
    await world.team.click(card, "desk_claim", as_user=AGENT_MARCO)
    await world.team.click(card, "desk_escalate", as_user=AGENT_MARCO)
    modal = await world.team.modal(AGENT_MARCO)
    await world.team.submit(modal, {"reason": {"value": "Falla de hardware probable"}}, as_user=AGENT_MARCO)
    [request] = [m for m in world.team.dms(QUALITY_SOFIA) if m.blocks]
    await world.team.click(Card(request.channel, request.ts), "desk_approve", as_user=QUALITY_SOFIA)
    await resolve(world, card, "1.5", "Se reinició el equipo")
    await laura.tap(f"desk:rate:{opened.id}:5")
    await laura.tap(f"desk:ok:{opened.id}")
    assert (await ticket(world, opened.id)).status is TicketStatus.CLOSED
    # A second ticket nobody takes: its deadline passes (a breach, and the automatic escalation request).
    late = await open_ticket(world, severity=Severity.HIGH)
    world.clock.advance(days=3)
    await world.fire_timers()
    assert (await ticket(world, late.id)).escalation_level == 1

    samples = await scrape(world)
    events = await _audit(world)
    # The business counters are the audit log's events, counted.
    opened_by = Counter(str(e.data["severity"]) for e in events if e.action == "opened")
    assert opened_by == Counter({str(int(opened.severity)): 1, str(int(Severity.HIGH)): 1})
    assert labelled(samples, "supportbot_tickets_opened_total", "severity") == {
        (k,): float(n) for k, n in opened_by.items()
    }
    # R-RESPONSE: met or missed at the first response (here the solution reaching Laura), not at the claim.
    met = sum(1 for e in events if e.action == "first_response" and e.data["met"] is True)
    breached = sum(1 for e in events if e.action == "sla_breached")
    assert (met, breached) == (1, 1)
    assert value(samples, "supportbot_sla_met_total") == met
    assert value(samples, "supportbot_sla_breached_total") == breached
    decisions = {"escalation_requested": "requested", "escalation_approved": "approved"}
    escalations = Counter((str(e.data["to_level"]), decisions[e.action]) for e in events if e.action in decisions)
    assert escalations == Counter({("2", "requested"): 2, ("2", "approved"): 1})
    assert labelled(samples, "supportbot_escalations_total", "level", "decision") == {
        k: float(n) for k, n in escalations.items()
    }
    [dropped] = [e for e in events if e.action == "intake_cancelled"]
    assert dropped.data["step"] == "product"
    assert labelled(samples, "supportbot_intake_dropoffs_total", "step", "reason") == {("product", "cancelled"): 1.0}
    # What this process did, against the store: every row it sent, every event it handled; nothing waits.
    store, _ = parts(world)
    async with store.transaction() as tx:
        sent = await tx.list_outbox(OutboxStatus.SENT, limit=10_000)
        handled = await tx.list_inbox((InboxStatus.DONE,), limit=10_000)
    assert value(samples, "supportbot_deliveries_total", result="sent") == len(sent) > 20
    assert value(samples, "supportbot_deliveries_total", result="dead") == 0
    assert value(samples, "supportbot_inbox_events_total", result="handled") == len(handled) > 20
    for gauge in ("outbox_depth", "outbox_oldest_age_seconds", "outbox_dead", "inbox_depth", "inbox_lag_seconds"):
        assert value(samples, f"supportbot_{gauge}") == 0, gauge
    assert value(samples, "supportbot_database_up") == 1
    assert labelled(samples, "supportbot_rate_limited_total", "platform") == {("slack",): 0, ("telegram",): 0}
    # A second scrape counts nothing twice.
    again = await scrape(world)
    for name in ("supportbot_escalations_total", "supportbot_tickets_opened_total", "supportbot_sla_met_total"):
        assert labelled(again, name) == labelled(samples, name), name


async def test_a_report_left_to_expire_is_a_drop_off_at_its_step(world: World) -> None:
    laura = world.client(LAURA_ID)
    await laura.send("/start")
    await laura.send("/reportar")
    await tap(laura, "a.firewall")
    world.clock.advance(hours=world.settings.draft_expiry_hours + 1)
    await world.fire_timers()
    [expired] = [e for e in await _audit(world) if e.action == "draft_expired"]
    assert expired.data["step"] == "product"
    samples = await scrape(world)
    assert labelled(samples, "supportbot_intake_dropoffs_total", "step", "reason") == {("product", "expired"): 1.0}


async def test_backlog_gauges_show_what_waits_and_since_when(world: World) -> None:
    store, services = parts(world)
    async with store.transaction() as tx:
        # A message queued an hour ago for later, and an event received 90 s ago that is not handled yet.
        await tx.enqueue(
            "telegram", "later", "send", {}, at=services.clock() - timedelta(hours=1),
            available_at=services.clock() + timedelta(days=1),
        )  # fmt: skip
        await tx.add_inbox(
            "slack", "stuck", "slack:user:U0X", "no-such-kind", {}, at=services.clock() - timedelta(seconds=90)
        )
        await tx.add_inbox("slack", "behind", "slack:user:U0X", "no-such-kind", {}, at=services.clock())
        # The first waits for nothing: lease it to a worker that is gone, so both stay unhandled.
        await tx.claim_inbox(services.clock(), "gone/1/", 1, 3600)
    samples = await scrape(world)
    assert value(samples, "supportbot_outbox_depth") == 1
    assert value(samples, "supportbot_outbox_oldest_age_seconds") == 3600
    assert value(samples, "supportbot_inbox_depth") == 2
    assert value(samples, "supportbot_inbox_lag_seconds") == 90


# --- logs ---------------------------------------------------------------------------------------------------
@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The bot's log as LOG_FORMAT=json writes it, with the bot's own DEBUG lines; put back afterwards."""
    root, ours = logging.getLogger(), logging.getLogger("bot")
    saved = root.handlers[:], root.level, ours.level
    touched = {name: logging.getLogger(name).level for name in ("httpx", "httpcore", "aiohttp.access")}
    touched |= {name: logging.getLogger(name).level for name in ("telegram", "slack_bolt", "slack_sdk")}
    buffer = io.StringIO()
    root.handlers = [logging.StreamHandler(buffer)]
    configure_logging("INFO", "json")
    ours.setLevel(logging.DEBUG)
    try:
        yield buffer
    finally:
        root.handlers, level, ours_level = saved
        root.setLevel(level)
        ours.setLevel(ours_level)
        for name, saved_level in touched.items():
            logging.getLogger(name).setLevel(saved_level)


async def test_json_log_lines_name_the_ticket_and_the_event(world: World, json_log: io.StringIO) -> None:
    await started_laura(world)
    t = await open_ticket(world)
    card = await world.team.card_for(t.number)
    await world.team.click(card, "desk_claim", as_user=AGENT_MARCO)
    lines: list[dict[str, Any]] = [json.loads(line) for line in json_log.getvalue().splitlines()]
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    # The click: handled by the inbox as event slack:<its key>, about the ticket the desk loaded.
    clicks = [line for line in lines if line.get("event", "").startswith("slack:action:U0MARCO")]
    assert any(line.get("ticket") == t.number and line["logger"] == "bot.inbox" for line in clicks), clicks
    # The deliveries: the card posted, then updated, the thread and Laura told of the claim, each an outbox
    # row about the ticket; Laura's greeting before it was about none.
    deliveries = [line for line in lines if line.get("event", "").startswith("outbox:")]
    assert len([line for line in deliveries if line.get("ticket") == t.number]) == 4
    assert {line.get("ticket") for line in deliveries} == {None, t.number}
    # Laura's /start (a Telegram update, before any ticket): the event, no ticket.
    starts = [line for line in lines if line.get("event", "").startswith("telegram:")]
    assert starts and all("ticket" not in line for line in starts)


async def test_a_429_from_slack_is_one_info_line_and_no_traceback(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    await started_laura(world)
    world.slack.rate_limits = True
    t = await open_ticket(world)
    caplog.clear()
    caplog.set_level(logging.INFO)
    await _note(world, t.id, "nota inmediata")  # a second post in the same second: 429
    await world.settle()
    limited = [c for c in world.slack.api_log if c["error"] == "ratelimited"]
    assert limited
    lines = [r for r in caplog.records if "rate limited" in r.getMessage()]
    assert len(lines) == len(limited) and all(r.levelno == logging.INFO for r in lines)
    assert all(getattr(r, "ticket", None) in (None, t.number) for r in lines)
    assert [r for r in caplog.records if r.exc_info or r.levelno >= logging.WARNING] == []
    assert value(await scrape(world), "supportbot_rate_limited_total", platform="slack") == len(limited)
    await asyncio.sleep(1.1)  # the stand-in's window is real time
    world.clock.advance(seconds=2)
    await world.settle()
    world.slack.violations.clear()  # the provoked 429s


async def test_a_slack_request_bolt_cannot_finish_is_one_error_line_with_context(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """app.error: the click cannot be committed (the database is gone): Slack gets a 500 (and retries), the log
    gets one line saying which request, by whom."""
    await started_laura(world)
    t = await open_ticket(world)
    card = await world.team.card_for(t.number)
    assert world.bot.store is not None
    for loop in (world.bot.inbox, world.bot.dispatcher, world.bot.scheduler):
        assert loop is not None
        await loop.stop()
    await world.bot.store.close()
    caplog.clear()
    delivery = await world.slack.actions.click(AGENT_MARCO, card.channel, card.ts, "desk_claim")
    assert delivery.attempts[0].status == 500
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == [
        "slack action desk_claim by U0MARCO failed: StoreError: the store is closed"
    ]
    assert [v.error for v in world.slack.violations] == ["http_500"]  # Slack would show the user an error
    world.slack.violations.clear()


# --- retention ----------------------------------------------------------------------------------------------
async def test_the_daily_prune_runs_in_the_running_bot(world: World) -> None:
    store, services = parts(world)
    long_ago = services.clock() - timedelta(days=40)
    async with store.transaction() as tx:
        old = await tx.enqueue("telegram", "old", "send", {}, at=long_ago)
        assert old is not None
        await tx.mark_sent(old, long_ago)
        waiting = await tx.enqueue(
            "telegram", "waiting", "send", {}, at=long_ago, available_at=services.clock() + timedelta(days=30)
        )
    world.clock.advance(days=1, minutes=1)
    await world.fire_timers()
    async with store.transaction() as tx:
        assert await tx.get_outbox(old) is None
        assert waiting is not None and await tx.get_outbox(waiting) is not None
