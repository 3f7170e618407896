"""/metrics: what the bot did and what waits, in Prometheus's text format.

Each running bot owns its registry (tests run many bots in one process; the library's global registry would
mix them). Nothing in the services knows about Prometheus; every figure is read where it already exists:

- the business counters (tickets opened, SLA met and breached, escalations, intake drop-offs) come from
  the audit log, read forward from the last event seen at each scrape: they count exactly what committed,
  whichever process or replica did it, and a restarted process starts from the whole history again;
- what waits (outbox depth and its oldest row, dead letters, the inbox's lag) is read from the store;
- what this process did (deliveries by result, 429s received, events received and handled) comes from the
  workers' counts.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from aiohttp import web
from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from bot.clock import Clock
from bot.delivery import Dispatcher
from bot.inbox import InboxWorker
from storage import Store
from storage.records import AuditEvent, Backlog

__all__ = ["AUDITED", "AuditTally", "Metrics", "Watched"]

log = logging.getLogger(__name__)

# The audit actions the counters read (written by bot.services: intake_open, desk, sla, escalation, intake).
# R-RESPONSE: the SLA is met or missed at the first response (bot.services.desk_response), not at the claim.
OPENED, CLAIMED, BREACHED = "opened", "first_response", "sla_breached"
ESCALATION = {"escalation_requested": "requested", "escalation_approved": "approved", "escalation_rejected": "rejected"}
DROPOFF = {"intake_cancelled": "cancelled", "draft_expired": "expired"}
AUDITED = frozenset({OPENED, CLAIMED, BREACHED, *ESCALATION, *DROPOFF})
PAGE = 1000
PAGES_PER_SCRAPE = 50  # a long history is read over a few scrapes, not in one slow answer


@dataclass
class AuditTally:
    """The business counters, from the audit log read forward."""

    after_id: int = 0
    opened: Counter[str] = field(default_factory=Counter)  # by severity
    sla_met: int = 0
    sla_breached: int = 0
    escalations: Counter[tuple[str, str]] = field(default_factory=Counter)  # (level, decision)
    dropoffs: Counter[tuple[str, str]] = field(default_factory=Counter)  # (step, reason)

    def add(self, event: AuditEvent) -> None:
        data = event.data
        action = event.action
        if action == OPENED:
            self.opened[str(data.get("severity", "unknown"))] += 1
        elif action == CLAIMED:
            self.sla_met += data.get("met") is True
        elif action == BREACHED:
            self.sla_breached += 1
        elif action in ESCALATION:
            level = data.get("to_level")
            if level is None and "level" in data:  # events written before to_level was recorded
                level = int(data["level"]) + (action == "escalation_rejected")
            self.escalations[(str(level if level is not None else "unknown"), ESCALATION[action])] += 1
        elif action in DROPOFF:
            self.dropoffs[(str(data.get("step") or "unknown"), DROPOFF[action])] += 1
        self.after_id = max(self.after_id, event.id)

    def add_all(self, events: Iterable[AuditEvent]) -> None:
        for event in events:
            self.add(event)


class _Poller(Protocol):
    @property
    def rate_limited(self) -> int: ...


class Watched(Protocol):
    """The running bot, as the metrics read it (bot.app.SupportBot)."""

    @property
    def dispatcher(self) -> Dispatcher | None: ...

    @property
    def inbox(self) -> InboxWorker | None: ...

    @property
    def poller(self) -> _Poller | None: ...


class Metrics(Collector):
    """The bot's registry and the collector of its figures; `handle` is the aiohttp handler of /metrics."""

    def __init__(self, store: Store, bot: Watched, *, clock: Clock) -> None:
        self._store = store
        self._bot = bot
        self._clock = clock
        self._refreshing = asyncio.Lock()  # two scrapes at once must not count the same events twice
        self.tally = AuditTally()
        self.backlog: Backlog | None = None
        self.database_up = False
        self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.registry.register(self)

    async def refresh(self) -> None:
        """Read the audit events committed since the last scrape, and the backlog."""
        async with self._refreshing:
            try:
                async with self._store.transaction() as tx:
                    for _ in range(PAGES_PER_SCRAPE):
                        events = await tx.audit_since(self.tally.after_id, AUDITED, PAGE)
                        self.tally.add_all(events)
                        if len(events) < PAGE:
                            break
                    self.backlog = await tx.backlog()
            except Exception as exc:
                # /healthz says the same with a 503; the process's own counters are still served.
                log.warning("metrics: cannot read the database: %s: %s", type(exc).__name__, exc)
                self.database_up = False
                self.backlog = None
            else:
                self.database_up = True

    async def handle(self, request: web.Request) -> web.Response:
        await self.refresh()
        encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
        # In the event loop: the workers' counts change under a thread's feet, and a scrape takes ~1 ms.
        return web.Response(body=encoder(self.registry), headers={"Content-Type": content_type})

    # --- the collector ---------------------------------------------------------------------------------
    def describe(self) -> Iterable[Metric]:
        return []  # names vary with what happened: read at collect time only

    def collect(self) -> Iterable[Metric]:
        yield from self._business()
        yield from self._backlog()
        yield from self._process()

    def _business(self) -> Iterable[Metric]:
        t = self.tally
        opened = CounterMetricFamily("supportbot_tickets_opened", "Tickets opened, by severity", labels=["severity"])
        for severity, n in sorted(t.opened.items()):
            opened.add_metric([severity], n)
        yield opened
        yield CounterMetricFamily(
            "supportbot_sla_met", "Tickets first responded to within their response target", value=t.sla_met
        )
        yield CounterMetricFamily(
            "supportbot_sla_breached", "Response deadlines passed with nobody on the ticket", value=t.sla_breached
        )
        escalations = CounterMetricFamily(
            "supportbot_escalations",
            "Escalations by the level asked for and what happened (requested, approved, rejected)",
            labels=["level", "decision"],
        )
        for (level, decision), n in sorted(t.escalations.items()):
            escalations.add_metric([level, decision], n)
        yield escalations
        dropoffs = CounterMetricFamily(
            "supportbot_intake_dropoffs",
            "Reports left unfinished, by the step the client was at and how (cancelled, expired)",
            labels=["step", "reason"],
        )
        for (step, reason), n in sorted(t.dropoffs.items()):
            dropoffs.add_metric([step, reason], n)
        yield dropoffs

    def _backlog(self) -> Iterable[Metric]:
        yield GaugeMetricFamily("supportbot_database_up", "1 when the last scrape read the database", self.database_up)
        b = self.backlog
        if b is None:
            return
        now = self._clock()
        yield GaugeMetricFamily("supportbot_outbox_depth", "Messages queued and not delivered yet", b.outbox_pending)
        yield GaugeMetricFamily(
            "supportbot_outbox_oldest_age_seconds",
            "Age of the oldest undelivered message (0 when none)",
            _age(now, b.outbox_oldest),
        )
        yield GaugeMetricFamily("supportbot_outbox_dead", "Dead letters waiting for a person", b.outbox_dead)
        yield GaugeMetricFamily("supportbot_inbox_depth", "Received events not handled yet", b.inbox_pending)
        yield GaugeMetricFamily(
            "supportbot_inbox_lag_seconds",
            "How long the oldest unhandled event has waited (0 when none)",
            _age(now, b.inbox_oldest),
        )

    def _process(self) -> Iterable[Metric]:
        dispatcher, inbox, poller = self._bot.dispatcher, self._bot.inbox, self._bot.poller
        yield _counts(
            "supportbot_deliveries",
            "Outbox deliveries by this process, by result",
            "result",
            dispatcher.counts if dispatcher is not None else {},
        )
        # Both platforms always, from 0: an alert on the rate works from the first scrape.
        limited: Counter[str] = Counter({"telegram": 0, "slack": 0})
        limited.update(dispatcher.rate_limited_by if dispatcher is not None else {})
        if poller is not None:
            limited["telegram"] += poller.rate_limited
        yield _counts("supportbot_rate_limited", "HTTP 429 answers received, by platform", "platform", limited)
        yield _counts(
            "supportbot_inbox_events",
            "Platform events at the inbox of this process, by result",
            "result",
            inbox.counts if inbox is not None else {},
        )


def _age(now: datetime, since: datetime | None) -> float:
    return 0.0 if since is None else max(0.0, (now - since).total_seconds())


def _counts(name: str, documentation: str, label: str, counts: Mapping[str, int]) -> CounterMetricFamily:
    family = CounterMetricFamily(name, documentation, labels=[label])
    for key, n in sorted(counts.items()):
        family.add_metric([key], n)
    return family
