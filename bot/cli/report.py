"""`supportbot report`: the managers' report of a period (CSV files, PNG charts, an HTML summary), with the
figures as the policy counts them: business hours, client-wait pauses off the clock, warranty apart."""

from __future__ import annotations

import argparse
import tempfile
from datetime import datetime
from pathlib import Path

from bot.cli.base import CliError, command, open_services
from bot.cli.parser import Verb, day, whole
from bot.cli.text import cli_language, say
from bot.clock import utcnow
from bot.reports.build import make_report
from bot.reports.figures import Figures
from bot.reports.period import Period, PeriodError, month_period, range_period
from bot.reports.render import ReportFiles, summary_lines
from bot.services.context import Services
from bot.settings import Settings

__all__ = ["add_parsers", "report_period"]


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    report = Verb(sub.add_parser("report", help=say("help.report.about"), description=say("help.report.about")),
                  "report")  # fmt: skip
    report.one_of(required=False).arg("--month", default=None).arg("--from", dest="from_day", type=day, default=None)
    (report.arg("--to", dest="to_day", type=day, default=None).arg("--client", type=whole, default=None)
     .arg("--out", default=None).arg("--demo", action="store_true"))  # fmt: skip


def report_period(args: argparse.Namespace, settings: Settings) -> Period:
    """--month, or --from/--to (both days included). Raises CliError."""
    zone = settings.zone
    try:
        if args.month:
            return month_period(args.month, zone)
        if args.from_day is None or args.to_day is None:
            raise CliError(say("report.period"))
        return range_period(args.from_day, args.to_day, zone)
    except PeriodError as exc:
        raise CliError(say(f"period.{exc.key}", **exc.params)) from None


async def _demo_services(settings: Settings, period: Period, folder: Path) -> Services:
    """A generated month in a database of its own (never the configured one)."""
    from sandbox.month import MonthClock, generate_month, month_services

    clock = MonthClock(period.start)
    services = await month_services(settings, folder / "month.db", clock)
    await generate_month(services, clock, period)
    return services


async def _write(
    services: Services, args: argparse.Namespace, period: Period, out: Path, now: datetime
) -> tuple[Figures, ReportFiles]:
    if args.client is not None:
        async with services.store.transaction() as tx:
            if await tx.get_client(args.client) is None:
                raise CliError(say("missing.client", id=args.client))
    return await make_report(services, period, out, now=now, client_id=args.client, lang=cli_language())


@command("report")
async def _report(args: argparse.Namespace, settings: Settings) -> int:
    period = report_period(args, settings)
    label = period.label + (f"-client{args.client}" if args.client else "")
    out = Path(args.out) if args.out else Path("reports") / label
    if args.demo:
        with tempfile.TemporaryDirectory() as scratch:
            services = await _demo_services(settings, period, Path(scratch))
            try:
                figures, files = await _write(services, args, period, out, period.end)
            finally:
                await services.store.close()
    else:
        async with open_services(settings) as services:
            figures, files = await _write(services, args, period, out, utcnow())
    for line in summary_lines(figures, services.catalogue, cli_language()):
        print(line)
    print(say("report.written", html=files.html, csv=len(files.csv), png=len(files.charts)))
    return 0
