"""Block Kit for the desk: the ticket card, the escalation DM, the App Home (user text escaped, within limits)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.dates import business_duration_in_words, hours_number, short_date
from bot.domain.types import Severity, TicketStatus
from bot.i18n import Catalogue, Safe
from bot.services.desk_common import description_parts, escape_mrkdwn
from bot.services.desk_queries import CardFacts, HomeFacts, HomeItem

__all__ = [
    "ACTION_APPROVE",
    "ACTION_ASK",
    "ACTION_CLAIM",
    "ACTION_ESCALATE",
    "ACTION_REJECT",
    "ACTION_RESOLVE",
    "ACTION_REVEAL",
    "HOME_ITEMS",
    "SEVERITY_ICONS",
    "Blocks",
    "card",
    "escalation_dm",
    "home",
    "plain_text",
    "slack_date",
]

Blocks = list[dict[str, Any]]
LANG = "es"  # the support team reads Spanish (CONVERSATION.md)
ACTION_CLAIM = "desk_claim"
ACTION_ASK = "desk_ask"
ACTION_ESCALATE = "desk_escalate"
ACTION_RESOLVE = "desk_resolve"
ACTION_REVEAL = "desk_reveal"
ACTION_APPROVE = "desk_approve"
ACTION_REJECT = "desk_reject"
SEVERITY_ICONS = {Severity.CRITICAL: "🔴", Severity.HIGH: "🟠", Severity.MEDIUM: "🟡", Severity.LOW: "🔵"}
SHORT_LIMIT = 300  # names, labels, on-site details on the card (escaped: ≤ 1500)
HOME_ITEMS = 40  # per list; two lists and their headers stay under App Home's 100 blocks
HEADER_LIMIT = 150


def _cut(text: str, limit: int) -> tuple[str, bool]:
    text = " ".join(text.split()) if limit <= SHORT_LIMIT else text.strip()
    if len(text) <= limit:
        return text, False
    return text[: limit - 1].rstrip() + "…", True


def plain_text(text: str, limit: int = 75) -> dict[str, Any]:
    """A plain_text object cut to `limit` (button 75, header 150, modal title 24)."""
    return {"type": "plain_text", "text": _cut(text, limit)[0] or "-", "emoji": True}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def _button(cat: Catalogue, key: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": plain_text(cat.plain(LANG, key)),
        "action_id": action_id,
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def slack_date(at: datetime, cat: Catalogue, tz: Any) -> Safe:
    """Slack date formatting: each reader sees their own time zone; the fallback is Mexico City time."""
    fallback = short_date(at, LANG, tz, catalogue=cat).replace("|", "/").replace(">", "")
    return Safe(f"<!date^{int(at.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>")


def _text(cat: Catalogue, key: str, **params: object) -> str:
    return cat.render(LANG, key, params, escape_mrkdwn)


def card(facts: CardFacts, cat: Catalogue, tz: Any) -> tuple[str, Blocks]:
    """The ticket card: (notification text, blocks). Buttons follow the status; passwords never appear."""
    t = facts.ticket
    sev = int(t.severity)
    header = _text(cat, "desk.card.header", icon=SEVERITY_ICONS[t.severity], ticket=t.number, severity=sev)
    lines: list[str] = []
    if t.response_due_at is not None:
        target = business_duration_in_words(facts.target, LANG, catalogue=cat)
        lines.append(_text(cat, "desk.card.deadline", deadline=slack_date(t.response_due_at, cat, tz), target=target))
    client = _cut(facts.client_name, SHORT_LIMIT)[0]
    if facts.contract is not None:
        left = max(0, facts.contract.minutes_total - facts.contract.minutes_used) / 60
        tier = cat.plain(LANG, f"tier.{facts.contract.tier.value}")
        lines.append(_text(cat, "desk.card.client", client=client, tier=tier, hours=hours_number(left)))
    else:
        lines.append(_text(cat, "desk.card.client_no_contract", client=client))
    product = _cut(facts.product_name, SHORT_LIMIT)[0] if facts.product_name else cat.plain(LANG, "desk.no_product")
    area = cat.plain(LANG, f"desk.area.{t.service_area.value}")
    lines.append(_text(cat, "desk.card.service", area=area, product=product))
    # The whole description is on the card (one Slack post per ticket); only a very long one goes on in
    # the thread (bot.services.delivered posts the rest once the card is recorded).
    pieces, rest = description_parts(t.description)
    descriptions = [_text(cat, "desk.card.description", text=pieces[0])] + [escape_mrkdwn(p) for p in pieces[1:]]
    if rest:
        descriptions[-1] += "\n" + cat.plain(LANG, "desk.card.description_more")
    context: list[str] = []
    if t.since_at is not None:
        context.append(_text(cat, "desk.card.since", since=slack_date(t.since_at, cat, tz)))
    elif t.since_text:
        context.append(_text(cat, "desk.card.since", since=_cut(t.since_text, SHORT_LIMIT)[0]))
    if facts.attachments:
        context.append(_text(cat, "desk.card.attachments", count=facts.attachments))
    if facts.credential_labels:
        labels = _cut(", ".join(facts.credential_labels), SHORT_LIMIT)[0]
        context.append(_text(cat, "desk.card.remote", labels=labels))
    if t.onsite_details:
        context.append(_text(cat, "desk.card.onsite", details=_cut(t.onsite_details, SHORT_LIMIT)[0]))
    status_name = cat.plain(LANG, f"desk.status.{t.status.value}")
    assigned = (
        _text(cat, "desk.card.assigned", who=Safe(f"<@{facts.assignee_slack_id}>"))
        if facts.assignee_slack_id is not None
        else None
    )
    if assigned is not None and t.status is TicketStatus.ASSIGNED:
        status_name, assigned = assigned, None  # "Estado: asignado a @marco" (CONVERSATION.md)
    status = [_text(cat, "desk.card.status", status=Safe(status_name), level=t.escalation_level)]
    if assigned is not None:
        status.append(assigned)
    if facts.response_taken is not None and t.response_met is not None:
        taken = business_duration_in_words(facts.response_taken, LANG, catalogue=cat)
        verdict = cat.plain(LANG, "desk.sla.met" if t.response_met else "desk.sla.missed")
        status.append(_text(cat, "desk.card.responded", taken=taken, verdict=verdict))
    status_text = " · ".join(status)
    if facts.pending_level is not None:
        level = cat.plain(LANG, f"desk.level.{facts.pending_level}")
        status_text += "\n" + _text(cat, "desk.card.pending_escalation", level=level)
    blocks: Blocks = [
        {"type": "header", "text": plain_text(header, HEADER_LIMIT)},
        _section("\n".join(lines)),
        *(_section(d) for d in descriptions),
    ]
    if context:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(context)[:3000]}]})
    blocks.append(_section(status_text))
    buttons = _card_buttons(facts, cat)
    if buttons:
        blocks.append({"type": "actions", "block_id": f"desk_card:{t.id}", "elements": buttons})
    fallback = _text(cat, "desk.card.fallback", ticket=t.number, severity=sev, client=client)
    return fallback[:3000], blocks


def _card_buttons(facts: CardFacts, cat: Catalogue) -> list[dict[str, Any]]:
    t = facts.ticket
    value = str(t.id)
    if t.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        return []
    first = (
        _button(cat, "desk.button.claim", ACTION_CLAIM, value, "primary")
        if t.status is TicketStatus.NEW
        else _button(cat, "desk.button.reveal", ACTION_REVEAL, value)
    )
    buttons = [first] if t.status is TicketStatus.NEW or facts.credential_labels else []
    if t.status is not TicketStatus.WAITING_CLIENT:
        buttons.append(_button(cat, "desk.button.ask", ACTION_ASK, value))
    buttons.append(_button(cat, "desk.button.escalate", ACTION_ESCALATE, value))
    buttons.append(_button(cat, "desk.button.resolve", ACTION_RESOLVE, value))
    return buttons


def escalation_dm(text: str, escalation_id: int, cat: Catalogue) -> Blocks:
    """The request a manager decides (P-ESC-2): its text and Aprobar / Rechazar."""
    value = str(escalation_id)
    return [
        _section(text),
        {
            "type": "actions",
            "block_id": f"desk_escalation:{escalation_id}",
            "elements": [
                _button(cat, "desk.button.approve", ACTION_APPROVE, value, "primary"),
                _button(cat, "desk.button.reject", ACTION_REJECT, value, "danger"),
            ],
        },
    ]


def _left_words(left: timedelta | None, cat: Catalogue) -> str:
    if left is None:
        return cat.plain(LANG, "desk.home.no_deadline")
    words = business_duration_in_words(abs(left), LANG, catalogue=cat)
    return cat.plain(LANG, "desk.home.overdue" if left < timedelta(0) else "desk.home.left", left=words)


def _home_list(items: list[HomeItem], cat: Catalogue, tz: Any) -> Blocks:
    if not items:
        return [_section(cat.plain(LANG, "desk.home.none"))]
    blocks: Blocks = []
    for it in items[:HOME_ITEMS]:
        t = it.ticket
        due = slack_date(t.response_due_at, cat, tz) if t.response_due_at else cat.plain(LANG, "desk.home.no_deadline")
        blocks.append(
            _section(
                _text(
                    cat,
                    "desk.home.item",
                    ticket=t.number,
                    severity=int(t.severity),
                    client=_cut(it.client_name, SHORT_LIMIT)[0],
                    status=cat.plain(LANG, f"desk.status.{t.status.value}"),
                    deadline=due,
                    left=_left_words(it.left, cat),
                )
            )
        )
    if len(items) > HOME_ITEMS:
        blocks.append(_section(cat.plain(LANG, "desk.home.more", count=len(items) - HOME_ITEMS)))
    return blocks


def home(facts: HomeFacts, cat: Catalogue, tz: Any) -> dict[str, Any]:
    """The App Home view: the viewer's open tickets, then every unclaimed ticket by deadline."""
    blocks: Blocks = [{"type": "header", "text": plain_text(cat.plain(LANG, "desk.home.title"), HEADER_LIMIT)}]
    if not facts.registered:
        blocks.append(_section(cat.plain(LANG, "desk.home.not_agent")))
        return {"type": "home", "blocks": blocks}
    blocks.append(_section(cat.plain(LANG, "desk.home.mine")))
    blocks += _home_list(facts.mine, cat, tz)
    blocks.append({"type": "divider"})
    blocks.append(_section(cat.plain(LANG, "desk.home.unclaimed")))
    blocks += _home_list(facts.unclaimed, cat, tz)
    return {"type": "home", "blocks": blocks}
