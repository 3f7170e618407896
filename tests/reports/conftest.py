"""One generated month (November 2026, with the 16 Nov holiday), its report, and its raw audit log, made once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.reports.build import make_report
from bot.reports.figures import Figures
from bot.reports.period import Period, month_period
from bot.reports.render import ReportFiles
from bot.services.context import Services
from bot.settings import Settings
from sandbox.month import MonthClock, generate_month, month_services
from storage.records import AuditEvent, Contract, Ticket


@dataclass
class Month:
    period: Period
    services: Services
    figures: Figures
    files: ReportFiles
    events: list[AuditEvent]  # the whole audit log, read forward as it was written
    tickets: dict[int, Ticket]
    client_names: dict[int, str]
    contracts: list[Contract]


async def _make(folder: Path) -> Month:
    settings = Settings(_env_file=None, database_path=folder / "unused.db")  # type: ignore[call-arg]
    period = month_period("2026-11", settings.zone)
    clock = MonthClock(period.start)
    services = await month_services(settings, folder / "month.db", clock)
    try:
        await generate_month(services, clock, period)
        figures, files = await make_report(services, period, folder / "report", now=period.end)
        async with services.store.transaction() as tx:
            events: list[AuditEvent] = []
            while True:
                page = await tx.audit_since(events[-1].id if events else 0, _ALL_ACTIONS, 1000)
                events += page
                if len(page) < 1000:
                    break
            tickets = {t.id: t for t in await tx.list_tickets()}
            names = {c.id: c.name for c in await tx.list_clients()}
            contracts = await tx.list_contracts()
    finally:
        await services.store.close()
    return Month(period, services, figures, files, events, tickets, names, contracts)


_ALL_ACTIONS = (
    "opened", "claimed", "info_requested", "client_answered", "first_response", "contact_recorded", "sla_warning",
    "sla_breached", "escalation_requested", "escalation_approved", "escalation_rejected", "resolved", "reopened",
    "rated", "client_confirmed", "auto_close", "closed_unanswered", "close", "info_reminder",
)  # fmt: skip


@pytest.fixture(scope="package")
def month(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Month]:
    yield asyncio.run(_make(tmp_path_factory.mktemp("month")))
