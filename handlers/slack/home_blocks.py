"""Block Kit for a manager's App Home: live figures, escalations to decide, tickets at risk, contracts running out."""

from __future__ import annotations

from typing import Any

from bot.domain.types import TicketStatus
from bot.i18n import Catalogue
from bot.services.desk_home import ManagerFacts
from bot.services.desk_queries import HomeFacts, HomeItem
from handlers.slack.blocks import LANG, Blocks, escalation_dm, home, home_list, plain_text

__all__ = ["HOME_BLOCKS", "MANAGER_LIST", "home_view"]

HOME_BLOCKS = 100  # App Home's limit (LIMITS.md)
MANAGER_LIST = 10  # tickets per list on a manager's Home: every section fits in HOME_BLOCKS
ESCALATIONS = 8  # two blocks each
ESCALATION_TEXT = 600  # characters of a request's text on the Home (the DM keeps it whole)
CONTRACT_LINES = 15  # one section: stays far under its 3000 characters
_STATES = (TicketStatus.NEW, TicketStatus.ASSIGNED, TicketStatus.WAITING_CLIENT)


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def _divider() -> dict[str, Any]:
    return {"type": "divider"}


def _figures(m: ManagerFacts, cat: Catalogue) -> Blocks:
    counts = " · ".join(f"{cat.plain(LANG, f'desk.status.{s.value}')} {m.open_by_status.get(s, 0)}" for s in _STATES)
    text = "\n".join(
        [
            cat.plain(LANG, "desk.home.figures"),
            cat.plain(LANG, "desk.home.open_counts", counts=counts, total=sum(m.open_by_status.values())),
            cat.plain(LANG, "desk.home.sla_month", month=m.month, met=m.sla_met, breached=m.sla_breached,
                      pending=m.sla_pending),
        ]
    )  # fmt: skip
    return [_section(text)]


def _short(text: str, limit: int = ESCALATION_TEXT) -> str:
    """A long request cut at a word: the Home's text stays well under Slack's total (LIMITS.md)."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _escalations(m: ManagerFacts, cat: Catalogue) -> Blocks:
    blocks: Blocks = [_section(cat.plain(LANG, "desk.home.escalations"))]
    if not m.escalations:
        return [*blocks, _section(cat.plain(LANG, "desk.home.none"))]
    for esc in m.escalations[:ESCALATIONS]:
        # The same action ids as the DM's buttons: the desk decides them alike (P-ESC-2).
        blocks += escalation_dm(_short(esc.text), esc.escalation_id, cat)
    if len(m.escalations) > ESCALATIONS:
        blocks.append(_section(cat.plain(LANG, "desk.home.more", count=len(m.escalations) - ESCALATIONS)))
    return blocks


def _contracts(m: ManagerFacts, cat: Catalogue) -> Blocks:
    head = _section(cat.plain(LANG, "desk.home.contracts"))
    if not m.contracts:
        return [head, _section(cat.plain(LANG, "desk.home.none"))]
    lines = [
        cat.plain(LANG, "desk.home.contract_line", number=c.number, client=c.client_name[:80],
                  ends=c.ends_on.isoformat(), days=c.days_left, hours=round(c.hours_left, 1),
                  percent=round(c.percent_left))
        for c in m.contracts[:CONTRACT_LINES]
    ]  # fmt: skip
    if len(m.contracts) > CONTRACT_LINES:
        lines.append(cat.plain(LANG, "desk.home.more", count=len(m.contracts) - CONTRACT_LINES))
    return [head, _section("\n".join(lines))]


def home_view(facts: HomeFacts, cat: Catalogue, tz: Any) -> dict[str, Any]:
    """A manager's Home: the figures and what waits for them, then their own and the unclaimed tickets.
    Anyone else gets the desk's Home unchanged."""
    m = facts.manager
    if m is None:
        return home(facts, cat, tz)
    risk = [HomeItem(r.ticket, r.client_name, r.left) for r in m.at_risk]
    blocks: Blocks = [{"type": "header", "text": plain_text(cat.plain(LANG, "desk.home.title"), 150)}]
    blocks += _figures(m, cat)
    blocks += [_divider(), *_escalations(m, cat)]
    blocks += [_divider(), _section(cat.plain(LANG, "desk.home.at_risk")), *home_list(risk, cat, tz, MANAGER_LIST)]
    blocks += [_divider(), *_contracts(m, cat)]
    blocks += [_divider(), _section(cat.plain(LANG, "desk.home.mine")), *home_list(facts.mine, cat, tz, MANAGER_LIST)]
    blocks += [_section(cat.plain(LANG, "desk.home.unclaimed")), *home_list(facts.unclaimed, cat, tz, MANAGER_LIST)]
    return {"type": "home", "blocks": blocks[:HOME_BLOCKS]}
