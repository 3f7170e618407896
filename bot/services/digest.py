"""The managers' weekly digest (issue 12): Monday's figures of the week before, its charts, the contracts running
out with an "Avisar a ventas" button, and that button's notice to sales (audited, once per contract period).

When: Mondays at 09:00 in the business zone. A Monday that is a holiday or a day off sends it at the next
business opening instead (managers read it when the office opens); the week looked back on stays the seven
days before that Monday.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from typing import Any

from bot.delivery import Scheduler
from bot.i18n import Safe
from bot.reports.collect import collect
from bot.reports.figures import Figures, compute
from bot.reports.period import Period, week_period
from bot.reports.render import CHARTS, chart_png, summary_lines
from bot.services import outbox
from bot.services.context import Services
from bot.services.desk_assign import require_manager
from bot.services.desk_common import AGENT, agent_text, audit
from bot.services.desk_home import ExpiringContract, expiring_contracts
from bot.services.events import CardButton
from storage import Tx
from storage.records import Timer

__all__ = [
    "ACTION_ID",
    "DIGEST",
    "NOTIFY_SALES",
    "SALES_NOTIFIED",
    "arm",
    "digest_due",
    "draw",
    "notify_sales",
    "post_digest",
    "register_timers",
    "week_figures",
]

log = logging.getLogger(__name__)

DIGEST = "weekly_digest"  # the timer kind
ACTION_ID = "desk_notify_sales"  # the digest's "Avisar a ventas" button (Slack action_id)
NOTIFY_SALES = "notify_sales"  # the desk action it becomes
SALES_NOTIFIED = "sales_notified"  # its audit action
CONTRACT_BLOCKS = 40  # one block each; the digest message stays under Slack's 50 blocks (LIMITS.md)
_SEND_AT = time(9, 0)


def _monday_on_or_after(day: date) -> date:
    return day + timedelta(days=(7 - day.weekday()) % 7)


def digest_due(services: Services, monday: date) -> datetime:
    """Monday 09:00 local, or the next business opening when the office is closed then (a holiday)."""
    nine = datetime.combine(monday, _SEND_AT, tzinfo=services.calendar.tz)
    return services.calendar.next_open(nine)


async def arm(tx: Tx, services: Services, now: datetime) -> None:
    """Schedule the next digest not yet due (idempotent: one timer per Monday). Nothing while no managers'
    channel is set."""
    if not services.settings.slack_managers_channel:
        return
    monday = _monday_on_or_after(now.astimezone(services.calendar.tz).date())
    if digest_due(services, monday) <= now:
        monday += timedelta(days=7)
    await tx.schedule_timer(
        DIGEST, digest_due(services, monday), payload={"monday": monday.isoformat()}, dedupe_key=f"{DIGEST}:{monday}"
    )


async def week_figures(tx: Tx, services: Services, period: Period, now: datetime) -> Figures:
    data = await collect(tx, period, min(now, period.end))
    return compute(data, services.calendar, services.targets)


async def draw(services: Services, monday: date, chart: str) -> bytes:
    """A chart of the week before `monday`, as PNG; raises KeyError for a name not in CHARTS."""
    period = week_period(monday, services.calendar.tz)
    async with services.store.transaction() as tx:
        figures = await week_figures(tx, services, period, services.clock())
    return chart_png(figures, chart, services.catalogue)


def _contract_block(services: Services, c: ExpiringContract) -> dict[str, Any]:
    text = agent_text(
        services, "digest.contract", number=c.number, client=c.client_name[:80], ends=c.ends_on.isoformat(),
        days=c.days_left, hours=round(c.hours_left, 1), percent=round(c.percent_left),
    )  # fmt: skip
    return {
        "type": "section",
        "block_id": f"digest_contract:{c.contract_id}",
        "text": {"type": "mrkdwn", "text": text[:3000]},
        "accessory": {
            "type": "button",
            "text": {"type": "plain_text", "text": agent_text(services, "digest.notify_sales")[:75], "emoji": True},
            "action_id": ACTION_ID,
            "value": str(c.contract_id),
        },
    }


async def post_digest(tx: Tx, services: Services, monday: date, now: datetime) -> None:
    """Queue the digest of the week before `monday`: the figures, then one upload per chart (drawn at send
    time from the same week). Idempotent per Monday."""
    channel = services.settings.slack_managers_channel
    if not channel:
        return
    period = week_period(monday, services.calendar.tz)
    figures = await week_figures(tx, services, period, now)
    contracts = await expiring_contracts(tx, services, now.astimezone(services.calendar.tz).date())
    title = agent_text(services, "digest.title", first=period.first_day.isoformat(), last=period.last_day.isoformat())
    summary = "\n".join(f"• {line}" for line in summary_lines(figures, services.catalogue))
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150], "emoji": True}},
        {"type": "section", "text": {"type": "mrkdwn", "text": summary[:3000]}},
        {"type": "divider"},
        {"type": "section", "text": {"type": "mrkdwn", "text": agent_text(services, "digest.contracts")}},
    ]
    if not contracts:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": agent_text(services, "digest.none")}})
    blocks += [_contract_block(services, c) for c in contracts[:CONTRACT_BLOCKS]]
    if len(contracts) > CONTRACT_BLOCKS:
        more = agent_text(services, "digest.more", count=len(contracts) - CONTRACT_BLOCKS)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": more}})
    key = f"digest:{monday.isoformat()}"
    await outbox.slack_channel(tx, channel, f"{title}\n{summary}", at=now, blocks=blocks, dedupe_key=key)
    for chart in CHARTS:
        await outbox.slack_channel_file(tx, channel, monday.isoformat(), chart, at=now, dedupe_key=f"{key}:{chart}")


async def notify_sales(tx: Tx, services: Services, b: CardButton, now: datetime) -> None:
    """ "Avisar a ventas": a manager asks sales to follow a contract running out. Sales hears once per contract
    period however often it is pressed; each notice is audited; the presser is told either way."""
    agent = await require_manager(tx, b.user)
    contract = None if b.value is None else await tx.get_contract(b.value)
    target = services.settings.slack_sales_channel
    if contract is None or not target:
        text = agent_text(services, "digest.sales_missing" if contract is not None else "digest.contract_gone")
        await _answer(tx, b, text, now)
        return
    client = await tx.get_client(contract.client_id)
    left = contract.minutes_total - contract.minutes_used
    notice = agent_text(
        services, "digest.sales_notice", number=contract.number, client=client.name if client else "?",
        ends=contract.ends_on.isoformat(), hours=round(left / 60, 1), who=Safe(f"<@{agent.slack_user_id}>"),
    )  # fmt: skip
    key = f"sales-notice:{contract.id}:{contract.ends_on.isoformat()}"
    if target.startswith(("U", "W")):
        queued = await outbox.slack_dm(tx, target, notice, at=now, dedupe_key=key)
    else:
        queued = await outbox.slack_channel(tx, target, notice, at=now, dedupe_key=key)
    if queued is not None:
        await audit(tx, None, now, AGENT, b.user, SALES_NOTIFIED, contract_id=contract.id, number=contract.number,
                    to=target)  # fmt: skip
    await _answer(tx, b, agent_text(services, "digest.sales_done" if queued else "digest.sales_already"), now)


async def _answer(tx: Tx, b: CardButton, text: str, now: datetime) -> None:
    if b.channel:
        await outbox.slack_ephemeral(tx, b.channel, b.user, text, at=now)
    else:
        await outbox.slack_dm(tx, b.user, text, at=now)


def register_timers(scheduler: Scheduler, services: Services) -> None:
    """The Monday digest; the composition root arms the first one at start-up."""

    async def run(tx: Tx, timer: Timer) -> None:
        now = services.clock()
        monday = date.fromisoformat(str(timer.payload.get("monday")))
        await post_digest(tx, services, monday, now)
        await arm(tx, services, max(now, digest_due(services, monday)) + timedelta(seconds=1))
        log.info("weekly digest of the week before %s queued", monday)

    scheduler.register(DIGEST, run)
