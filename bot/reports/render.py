"""A report folder: CSV files for scripts, PNG charts (matplotlib, headless Agg) and an HTML summary."""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: no display, no GUI toolkit, before pyplot is imported

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from bot.i18n import Catalogue
from bot.reports.figures import CONTRACT, WARRANTY, Figures, SlaRow

__all__ = ["CHARTS", "ReportFiles", "chart_files", "chart_png", "summary_lines", "write_report"]

# The charts, by file name; each is drawn by one function below.
CHARTS = (
    "sla_by_severity.png",
    "sla_by_client.png",
    "first_response.png",
    "contract_hours.png",
    "backlog_age.png",
    "ratings.png",
    "escalations.png",
)
GREEN, RED, GREY, BLUE, AMBER = "#2e7d32", "#c62828", "#9e9e9e", "#1565c0", "#ef6c00"
DPI = 100


@dataclass(frozen=True)
class ReportFiles:
    folder: Path
    csv: list[Path]
    charts: list[Path]
    html: Path


class _Words:
    """Labels of the report in one language (the bot's catalogues, `report.*`)."""

    def __init__(self, catalogue: Catalogue, lang: str) -> None:
        self.cat, self.lang = catalogue, lang

    def __call__(self, key: str, **params: object) -> str:
        return self.cat.plain(self.lang, f"report.{key}", **params)


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text or "0"


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        for row in rows:
            writer.writerow([_number(v) if isinstance(v, float) else v for v in row])
    return path


def _sla_csv_rows(rows: list[SlaRow]) -> list[list[object]]:
    return [[r.group, r.route, r.met, r.breached, r.pending, r.total, r.met_percent] for r in rows]


def _csvs(fig: Figures, folder: Path, w: _Words) -> list[Path]:
    sla_header = ["group", "route", "met", "breached", "pending", "total", "met_percent"]
    out = [
        _write_csv(folder / "summary.csv", ["figure", "value"], ([k, v] for k, v in summary_pairs(fig))),
        _write_csv(folder / "sla_by_severity.csv", ["severity", *sla_header[1:]], _sla_csv_rows(fig.sla_by_severity)),
        _write_csv(folder / "sla_by_client.csv", ["client", *sla_header[1:]], _sla_csv_rows(fig.sla_by_client)),
        _write_csv(
            folder / "first_response.csv",
            ["ticket", "client", "severity", "route", "business_hours", "met"],
            ([r.number, r.client_name, r.severity, r.route, round(r.hours, 2), r.met] for r in fig.responses),
        ),
        _write_csv(folder / "first_response_buckets.csv", ["business_hours", "tickets"], fig.response_buckets),
        _write_csv(
            folder / "contract_hours.csv",
            [
                "client",
                "contract",
                "tier",
                "ends_on",
                "hours_total",
                "used_in_period",
                "used_to_date",
                "hours_left",
                "percent_left",
                "office_total",
                "office_left",
                "onsite_total",
                "onsite_left",
            ],
            (
                [
                    h.client_name,
                    h.contract,
                    h.tier,
                    h.ends_on,
                    h.total_hours,
                    h.used_in_period,
                    h.used_to_date,
                    h.left,
                    h.percent_left,
                    h.office_total,
                    h.office_left,
                    h.onsite_total,
                    h.onsite_left,
                ]
                for h in fig.hours
            ),
        ),
        _write_csv(
            folder / "backlog.csv",
            ["ticket", "client", "severity", "business_days_open", "bucket"],
            ([b.number, b.client_name, b.severity, b.age_days, b.bucket] for b in fig.backlog),
        ),
        _write_csv(folder / "backlog_buckets.csv", ["business_days", "tickets"], fig.backlog_buckets),
        _write_csv(folder / "ratings.csv", ["rating", "tickets"], sorted(fig.ratings.items())),
        _write_csv(
            folder / "escalations.csv",
            ["level", "outcome", "count"],
            ([e.level, e.outcome, e.count] for e in fig.escalations),
        ),
    ]
    return out


def summary_pairs(fig: Figures) -> list[tuple[str, object]]:
    """The headline figures, as summary.csv has them."""
    own, free = fig.sla_totals(CONTRACT), fig.sla_totals(WARRANTY)
    return [
        ("period_start", fig.period.start.isoformat()),
        ("period_end", fig.period.end.isoformat()),
        ("as_of", fig.as_of.isoformat(timespec="seconds")),
        ("client", fig.client_name or ""),
        ("tickets_opened", fig.opened),
        ("tickets_warranty", fig.opened_warranty),
        ("sla_met", own.met),
        ("sla_breached", own.breached),
        ("sla_pending", own.pending),
        ("sla_met_percent", own.met_percent if own.met_percent is not None else ""),
        ("warranty_sla_met", free.met),
        ("warranty_sla_breached", free.breached),
        ("warranty_sla_pending", free.pending),
        ("median_first_response_business_hours", fig.median_response_hours or ""),
        ("backlog_open", len(fig.backlog)),
        ("resolved", fig.resolved),
        ("reopened", fig.reopened),
        ("reopen_percent", fig.reopen_percent if fig.reopen_percent is not None else ""),
        ("rated", fig.rated),
        ("rating_average", fig.rating_average or ""),
        ("escalations", sum(e.count for e in fig.escalations)),
    ]


# --- charts -----------------------------------------------------------------------------------------------
def _figure(width: float = 7.5, height: float = 4.2) -> tuple[Figure, Any]:
    figure, axes = plt.subplots(figsize=(width, height), dpi=DPI)
    axes.spines[["top", "right"]].set_visible(False)
    return figure, axes


def _stacked(axes: Any, labels: list[str], rows: list[SlaRow], w: _Words, horizontal: bool = False) -> None:
    bottoms = [0] * len(rows)
    for attr, color in (("met", GREEN), ("breached", RED), ("pending", GREY)):
        values = [getattr(r, attr) for r in rows]
        if horizontal:
            axes.barh(labels, values, left=bottoms, color=color, label=w(f"sla.{attr}"))
        else:
            axes.bar(labels, values, bottom=bottoms, color=color, label=w(f"sla.{attr}"))
        bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    axes.legend(frameon=False, fontsize=9)


def _sla_severity_chart(fig: Figures, w: _Words) -> Figure:
    figure, axes = _figure()
    rows = [r for r in fig.sla_by_severity if r.route == CONTRACT]
    labels = [w("severity", severity=r.group) for r in rows]
    free = fig.sla_totals(WARRANTY)
    if free.total:
        rows.append(free)
        labels.append(w("warranty"))
    _stacked(axes, labels, rows, w)
    axes.set_ylabel(w("tickets"))
    axes.set_title(w("chart.sla_by_severity"))
    return figure


def _sla_client_chart(fig: Figures, w: _Words) -> Figure:
    clients = sorted({r.group for r in fig.sla_by_client})
    figure, axes = _figure(height=max(2.5, 0.55 * len(clients) + 1.5))
    rows = []
    for name in clients:
        mine = [r for r in fig.sla_by_client if r.group == name]
        rows.append(SlaRow(name, "all", sum(r.met for r in mine), sum(r.breached for r in mine),
                           sum(r.pending for r in mine)))  # fmt: skip
    _stacked(axes, [r.group for r in rows], rows, w, horizontal=True)
    axes.invert_yaxis()
    axes.set_xlabel(w("tickets"))
    axes.set_title(w("chart.sla_by_client"))
    return figure


def _bars(title: str, xlabel: str, ylabel: str, pairs: Sequence[tuple[str, int]], color: str) -> Figure:
    figure, axes = _figure()
    labels = [str(k) for k, _ in pairs]
    values = [v for _, v in pairs]
    bars = axes.bar(labels, values, color=color)
    axes.bar_label(bars, fontsize=9)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    return figure


def _hours_chart(fig: Figures, w: _Words) -> Figure:
    figure, axes = _figure(height=max(2.5, 0.55 * len(fig.hours) + 1.5))
    labels = [f"{h.client_name} ({h.contract})" for h in fig.hours]
    used = [h.used_to_date for h in fig.hours]
    left = [h.left for h in fig.hours]
    axes.barh(labels, used, color=BLUE, label=w("hours.used"))
    axes.barh(labels, left, left=used, color="#90caf9", label=w("hours.left"))
    axes.invert_yaxis()
    axes.set_xlabel(w("hours.axis"))
    axes.set_title(w("chart.contract_hours"))
    axes.legend(frameon=False, fontsize=9)
    return figure


def _escalations_chart(fig: Figures, w: _Words) -> Figure:
    figure, axes = _figure()
    outcomes = ("approved", "rejected", "dropped", "pending")
    colors = (GREEN, RED, GREY, AMBER)
    width = 0.2
    for i, (outcome, color) in enumerate(zip(outcomes, colors, strict=True)):
        values = [
            sum(e.count for e in fig.escalations if e.level == level and e.outcome == outcome) for level in (2, 3)
        ]
        xs = [level + (i - 1.5) * width for level in (0, 1)]
        axes.bar(xs, values, width=width, color=color, label=w(f"escalation.{outcome}"))
    axes.set_xticks([0, 1], [w("level.2"), w("level.3")])
    axes.set_ylabel(w("escalations"))
    axes.set_title(w("chart.escalations"))
    axes.legend(frameon=False, fontsize=9)
    return figure


def _charts(fig: Figures, w: _Words) -> dict[str, Callable[[], Figure]]:
    return {
        "sla_by_severity.png": lambda: _sla_severity_chart(fig, w),
        "sla_by_client.png": lambda: _sla_client_chart(fig, w),
        "first_response.png": lambda: _bars(
            w("chart.first_response"), w("business_hours"), w("tickets"), fig.response_buckets, BLUE
        ),
        "contract_hours.png": lambda: _hours_chart(fig, w),
        "backlog_age.png": lambda: _bars(
            w("chart.backlog"), w("business_days"), w("tickets"), fig.backlog_buckets, AMBER
        ),
        "ratings.png": lambda: _bars(
            w("chart.ratings"), w("rating"), w("tickets"), [(str(k), v) for k, v in sorted(fig.ratings.items())], GREEN
        ),
        "escalations.png": lambda: _escalations_chart(fig, w),
    }


def chart_files(fig: Figures, folder: Path, catalogue: Catalogue, lang: str = "es") -> list[Path]:
    """Draw every chart into folder. Returns: the PNG paths, in CHARTS order."""
    w = _Words(catalogue, lang)
    paths = []
    for name, draw in _charts(fig, w).items():
        figure = draw()
        figure.tight_layout()
        path = folder / name
        figure.savefig(path, format="png", metadata={"Software": None})
        plt.close(figure)
        paths.append(path)
    return paths


def chart_png(fig: Figures, name: str, catalogue: Catalogue, lang: str = "es") -> bytes:
    """One chart (a name of CHARTS) as PNG bytes (the weekly digest uploads them one by one)."""
    figure = _charts(fig, _Words(catalogue, lang))[name]()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    plt.close(figure)
    return buffer.getvalue()


# --- HTML -------------------------------------------------------------------------------------------------
def summary_lines(fig: Figures, catalogue: Catalogue, lang: str = "es") -> list[str]:
    """The headline figures as sentences (the HTML summary, the weekly digest)."""
    w = _Words(catalogue, lang)
    own, free = fig.sla_totals(CONTRACT), fig.sla_totals(WARRANTY)
    lines = [
        w("line.opened", opened=fig.opened, warranty=fig.opened_warranty),
        w("line.sla", met=own.met, breached=own.breached, pending=own.pending, percent=_number(own.met_percent)),
    ]
    if free.total:
        lines.append(w("line.sla_warranty", met=free.met, breached=free.breached, pending=free.pending))
    lines += [
        w("line.response", hours=_number(fig.median_response_hours)),
        w("line.backlog", count=len(fig.backlog)),
        w("line.reopen", reopened=fig.reopened, resolved=fig.resolved, percent=_number(fig.reopen_percent)),
        w("line.ratings", rated=fig.rated, average=_number(fig.rating_average)),
        w("line.escalations", count=sum(e.count for e in fig.escalations)),
    ]
    return lines


def _table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape(_number(c) if isinstance(c, float) else str(c))}</td>" for c in row)
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:1000px;color:#222}
h1{margin-bottom:.2rem} .muted{color:#666} ul.kpi li{margin:.25rem 0}
section{margin:2rem 0} img{max-width:100%;border:1px solid #eee}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem} th,td{border:1px solid #ddd;padding:.25rem .5rem}
th{background:#f5f5f5;text-align:left}
"""


def _html(fig: Figures, catalogue: Catalogue, lang: str, zone: Any) -> str:
    w = _Words(catalogue, lang)
    title = w("title", period=fig.period.label) + (f" · {fig.client_name}" if fig.client_name else "")
    as_of = fig.as_of.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    parts = [
        f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p class='muted'>{html.escape(w('as_of', when=as_of))} · {html.escape(w('rules'))}</p>",
        "<ul class='kpi'>" + "".join(f"<li>{html.escape(x)}</li>" for x in summary_lines(fig, catalogue, lang)),
        "</ul>",
    ]
    sections: list[tuple[str, str, str]] = [
        (
            "sla_by_severity.png",
            w("chart.sla_by_severity"),
            _table(
                [w("col.severity"), w("col.route"), w("sla.met"), w("sla.breached"), w("sla.pending"), "%"],
                (
                    [r.group, w(f"route.{r.route}"), r.met, r.breached, r.pending,
                     "-" if r.met_percent is None else r.met_percent]
                    for r in fig.sla_by_severity
                ),
            ),
        ),
        ("sla_by_client.png", w("chart.sla_by_client"), ""),
        ("first_response.png", w("chart.first_response"), ""),
        (
            "contract_hours.png",
            w("chart.contract_hours"),
            _table(
                [w("col.client"), w("col.contract"), w("col.ends"), w("col.total"), w("col.used_period"),
                 w("hours.left"), "%"],
                (
                    [h.client_name, h.contract, h.ends_on, h.total_hours, h.used_in_period, h.left, h.percent_left]
                    for h in fig.hours
                ),
            ),
        ),
        ("backlog_age.png", w("chart.backlog"), ""),
        ("ratings.png", w("chart.ratings"), ""),
        ("escalations.png", w("chart.escalations"), ""),
    ]  # fmt: skip
    for image, heading, table in sections:
        parts.append(f"<section><h2>{html.escape(heading)}</h2><img src='{image}' alt='{html.escape(heading)}'>")
        parts.append(f"{table}</section>")
    parts.append(f"<p class='muted'>{html.escape(w('csv_note'))}</p></body></html>\n")
    return "\n".join(parts)


def write_report(
    fig: Figures, folder: Path, catalogue: Catalogue, *, lang: str = "es", zone: Any = None
) -> ReportFiles:
    """Write the CSVs, the charts and index.html into folder (created if missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    w = _Words(catalogue, lang)
    csvs = _csvs(fig, folder, w)
    charts = chart_files(fig, folder, catalogue, lang)
    page = folder / "index.html"
    page.write_text(_html(fig, catalogue, lang, zone or fig.as_of.tzinfo), encoding="utf-8")
    return ReportFiles(folder, csvs, charts, page)
