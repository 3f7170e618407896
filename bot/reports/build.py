"""A report end to end: read the period from the store, compute its figures, write the folder."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from bot.reports.collect import collect
from bot.reports.figures import Figures, compute
from bot.reports.period import Period
from bot.reports.render import ReportFiles, write_report
from bot.services.context import Services

__all__ = ["figures_for", "make_report"]


async def figures_for(services: Services, period: Period, *, now: datetime, client_id: int | None = None) -> Figures:
    """The period's figures as of min(now, the period's end), in one read transaction."""
    as_of = min(now, period.end)
    async with services.store.transaction() as tx:
        data = await collect(tx, period, as_of, client_id)
    return compute(data, services.calendar, services.targets)


async def make_report(
    services: Services, period: Period, folder: Path, *, now: datetime, client_id: int | None = None, lang: str = "es"
) -> tuple[Figures, ReportFiles]:
    """Compute and write the report of `period` into folder."""
    figures = await figures_for(services, period, now=now, client_id=client_id)
    files = write_report(figures, folder, services.catalogue, lang=lang, zone=services.calendar.tz)
    return figures, files
