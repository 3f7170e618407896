"""Block Kit for the desk: the ticket card, the escalation DM, the App Home (user text escaped, within limits)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.dates import business_duration_in_words, hours_number, short_date
from bot.domain.since import Precision
from bot.domain.types import Severity, TicketStatus
from bot.i18n import Catalogue, Safe
from bot.services.desk_common import description_parts, escape_mrkdwn
from bot.services.desk_queries import CardFacts, HomeFacts, HomeItem

__all__ = [
    "ACTION_APPROVE",
    "ACTION_ASK",
    "ACTION_CLAIM",
    "ACTION_CONTACT",
    "ACTION_ESCALATE",
    "ACTION_REASSIGN",
    "ACTION_REJECT",
    "ACTION_RELEASE",
    "ACTION_RESOLVE",
    "ACTION_REVEAL",
    "ACTION_SEVERITY",
    "HOME_ITEMS",
    "SEVERITY_ICONS",
    "Blocks",
    "card",
    "escalation_dm",
    "home",
    "home_list",
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
ACTION_SEVERITY = "desk_severity"
ACTION_RELEASE = "desk_release"
ACTION_REASSIGN = "desk_reassign"
ACTION_CONTACT = "desk_contact"  # R-RESPONSE: "Registré llamada/sesión"
SEVERITY_ICONS = {Severity.CRITICAL: "🔴", Severity.HIGH: "🟠", Severity.MEDIUM: "🟡", Severity.LOW: "🔵"}
SHORT_LIMIT = 300  # names, labels, on-site details on the card (escaped: ≤ 1500)
FIELD_LIMIT = 380  # one on-site field (escaped ≤ 1900, under a field's 2000 with its label)
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


def slack_date(at: datetime, cat: Catalogue, tz: Any, *, with_time: bool = True) -> Safe:
    """Slack date formatting: each reader sees their own time zone; the fallback is Mexico City time.
    Without the time for a date the client gave without one ("desde ayer")."""
    fallback = short_date(at, LANG, tz, catalogue=cat)
    if not with_time:
        fallback = fallback.rsplit(" ", 1)[0]
        fallback = fallback.replace("|", "/").replace(">", "")
        return Safe(f"<!date^{int(at.timestamp())}^{{date_short_pretty}}|{fallback}>")
    fallback = fallback.replace("|", "/").replace(">", "")
    return Safe(f"<!date^{int(at.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>")


def _text(cat: Catalogue, key: str, **params: object) -> str:
    return cat.render(LANG, key, params, escape_mrkdwn)


def _deadline_line(facts: CardFacts, cat: Catalogue, tz: Any) -> str | None:
    """ "Vence mié 25 nov 10:15 (8 horas hábiles) · quedan 3 h 20 min hábiles", or "⚠️ vencido hace …"
    once past it, or the clock paused while the client is waited for (P-SLA-7)."""
    t = facts.ticket
    if t.response_due_at is None:
        return None
    target = business_duration_in_words(facts.target, LANG, catalogue=cat)
    line = _text(cat, "desk.card.deadline", deadline=slack_date(t.response_due_at, cat, tz), target=target)
    if facts.paused_since is not None and t.first_response_at is None:
        return f"{line} · {cat.plain(LANG, 'desk.card.paused')}"
    if facts.left is None:
        return line
    if facts.left > timedelta(0):
        left = business_duration_in_words(facts.left, LANG, catalogue=cat)
        return f"{line} · {cat.plain(LANG, 'desk.card.time_left', left=left)}"
    if facts.left > -timedelta(minutes=1):
        return f"{line} · {cat.plain(LANG, 'desk.card.overdue_now')}"
    late = business_duration_in_words(-facts.left, LANG, catalogue=cat)
    return f"{line} · {cat.plain(LANG, 'desk.card.overdue', left=late)}"


def _client_line(facts: CardFacts, cat: Catalogue) -> str:
    client = _cut(facts.client_name, SHORT_LIMIT)[0]
    if facts.contract is not None:
        left = max(0, facts.contract.minutes_total - facts.contract.minutes_used) / 60
        tier = cat.plain(LANG, f"tier.{facts.contract.tier.value}")
        line = _text(cat, "desk.card.client", client=client, tier=tier, hours=hours_number(left))
    else:
        line = _text(cat, "desk.card.client_no_contract", client=client)
    if facts.warranty:
        line += " · " + cat.plain(LANG, "desk.card.warranty")
    return line


def _advice_line(facts: CardFacts, cat: Catalogue) -> str | None:
    """R-POOLS (P-POL-6): the included in-office and on-site advice hours, each its own pool."""
    c = facts.contract
    if c is None or (c.office_minutes_total == 0 and c.onsite_minutes_total == 0):
        return None
    office = hours_number(max(0, c.office_minutes_total - c.office_minutes_used) / 60)
    onsite = hours_number(max(0, c.onsite_minutes_total - c.onsite_minutes_used) / 60)
    return _text(cat, "desk.card.advice", office=office, onsite=onsite)


def _reporter_line(facts: CardFacts, cat: Catalogue) -> str | None:
    who = facts.reporter
    if who is None:
        return None
    language = f"desk.card.language.{who.language}"
    return _text(
        cat,
        "desk.card.reporter",
        name=_cut(who.name, SHORT_LIMIT)[0],
        phone=_cut(who.phone, SHORT_LIMIT)[0] or cat.plain(LANG, "desk.card.no_phone"),
        language=cat.plain(LANG, language) if cat.has(language, LANG) else who.language,
    )


def _since(facts: CardFacts, cat: Catalogue, tz: Any) -> Safe | str | None:
    """Since when, at the precision the client gave: a date stays a date, "en la mañana" stays a part of the
    day; only an hour the client said is shown as an hour."""
    t = facts.ticket
    if t.since_at is None:
        return _cut(t.since_text, SHORT_LIMIT)[0] if t.since_text else None
    if facts.since_precision is Precision.DAY:
        return slack_date(t.since_at, cat, tz, with_time=False)
    if facts.since_precision is Precision.PART_OF_DAY and facts.since_part is not None:
        day = slack_date(t.since_at, cat, tz, with_time=False)
        part = cat.plain(LANG, f"dates.part.{facts.since_part.value}")
        return Safe(cat.render(LANG, "desk.card.since_part", {"date": day, "part": part}, escape_mrkdwn))
    return slack_date(t.since_at, cat, tz)


def _onsite_block(facts: CardFacts, cat: Catalogue) -> dict[str, Any] | None:
    """P-IN-5: the visit's details, each its own field."""
    visit = facts.onsite
    if visit is None:
        return None
    rules = visit.rules if visit.rules else cat.plain(LANG, "desk.card.onsite_no_rules")
    fields = [
        _text(cat, "desk.card.onsite_address", value=_cut(visit.address, FIELD_LIMIT)[0]),
        _text(cat, "desk.card.onsite_contact", value=_cut(visit.contact, FIELD_LIMIT)[0]),
        _text(cat, "desk.card.onsite_rules", value=_cut(rules, FIELD_LIMIT)[0]),
    ]
    return {"type": "section", "fields": [{"type": "mrkdwn", "text": f[:2000]} for f in fields]}


def _status_text(facts: CardFacts, cat: Catalogue, tz: Any) -> str:
    """ "Estado: …" in the glossary's words: nuevo, asignado, en espera del cliente (since when, reminder n of
    3), reabierto, resuelto, cerrado; the level (escalado nivel n) and a pending escalation."""
    t = facts.ticket
    who = Safe(f"<@{facts.assignee_slack_id}>") if facts.assignee_slack_id is not None else "—"
    if t.status is TicketStatus.NEW:
        state = _text(cat, "desk.card.state.new")
    elif t.status is TicketStatus.WAITING_CLIENT:
        since = slack_date(facts.paused_since, cat, tz) if facts.paused_since else "—"
        state = _text(
            cat, "desk.card.state.waiting", since=since, sent=facts.reminders_sent, total=facts.reminders_total,
            who=who,
        )  # fmt: skip
    elif t.status is TicketStatus.ASSIGNED:
        state = _text(cat, "desk.card.state.reopened" if facts.reopened else "desk.card.state.assigned", who=who)
    elif t.status is TicketStatus.RESOLVED:
        state = _text(cat, "desk.card.state.resolved", who=who)
    else:
        state = _text(cat, "desk.card.state.closed")
    if t.escalation_level > 1:
        role = cat.plain(LANG, f"desk.level.{t.escalation_level}")
        level = _text(cat, "desk.card.level_up", level=t.escalation_level, role=role)
    else:
        level = cat.plain(LANG, "desk.card.level_1")
    status = [_text(cat, "desk.card.status", status=Safe(state), level=Safe(level))]
    if facts.response_taken is not None and t.response_met is not None:
        taken = business_duration_in_words(facts.response_taken, LANG, catalogue=cat)
        verdict = cat.plain(LANG, "desk.sla.met" if t.response_met else "desk.sla.missed")
        status.append(_text(cat, "desk.card.responded", taken=taken, verdict=verdict))
    status_text = " · ".join(status)
    if facts.pending_level is not None:
        pending = cat.plain(LANG, f"desk.level.{facts.pending_level}")
        status_text += "\n" + _text(cat, "desk.card.pending_escalation", level=pending)
    return status_text


def card(facts: CardFacts, cat: Catalogue, tz: Any) -> tuple[str, Blocks]:
    """The ticket card: (notification text, blocks). Buttons follow the status; passwords never appear.
    Everything time-dependent was computed for one instant (facts.now)."""
    t = facts.ticket
    sev = int(t.severity)
    header = _text(cat, "desk.card.header", icon=SEVERITY_ICONS[t.severity], ticket=t.number, severity=sev)
    if facts.severity_pending:  # P-IN-6: opened by e-mail, the client has not said how bad it is yet
        header = _text(cat, "mail.desk.card_header", icon=SEVERITY_ICONS[t.severity], ticket=t.number)
    lines: list[str] = []
    deadline = _deadline_line(facts, cat, tz)
    if deadline is not None:
        lines.append(deadline)
    client = _cut(facts.client_name, SHORT_LIMIT)[0]
    lines.append(_client_line(facts, cat))
    advice = _advice_line(facts, cat)
    if advice is not None:
        lines.append(advice)
    if facts.purchase_order:
        lines.append(_text(cat, "desk.card.purchase_order", order=_cut(facts.purchase_order, SHORT_LIMIT)[0]))
    reporter = _reporter_line(facts, cat)
    if reporter is not None:
        lines.append(reporter)
    if facts.mail_address:
        lines.append(_text(cat, "mail.desk.card_line", address=_cut(facts.mail_address, SHORT_LIMIT)[0]))
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
    since = _since(facts, cat, tz)
    if since is not None:
        context.append(_text(cat, "desk.card.since", since=since))
    if facts.attachments:
        context.append(_text(cat, "desk.card.attachments", count=facts.attachments))
    if facts.credential_labels:
        labels = _cut(", ".join(facts.credential_labels), SHORT_LIMIT)[0]
        context.append(_text(cat, "desk.card.remote", labels=labels))
    blocks: Blocks = [
        {"type": "header", "text": plain_text(header, HEADER_LIMIT)},
        _section("\n".join(lines)),
        *(_section(d) for d in descriptions),
    ]
    if context:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(context)[:3000]}]})
    onsite = _onsite_block(facts, cat)
    if onsite is not None:
        blocks.append(onsite)
    blocks.append(_section(_status_text(facts, cat, tz)))
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
    # R-SEVERITY: the assignee or a manager; release: the assignee; (re)assign: a manager (checked on press).
    buttons.append(_button(cat, "desk.button.severity", ACTION_SEVERITY, value))
    if t.status is TicketStatus.ASSIGNED:
        buttons.append(_button(cat, "desk.button.release", ACTION_RELEASE, value))
    if t.first_response_at is None and t.status in (TicketStatus.ASSIGNED, TicketStatus.WAITING_CLIENT):
        # R-RESPONSE: a call or a remote session is a first response too, recorded by the assignee.
        buttons.append(_button(cat, "desk.button.contact", ACTION_CONTACT, value))
    assign_key = "desk.button.assign" if t.status is TicketStatus.NEW else "desk.button.reassign"
    buttons.append(_button(cat, assign_key, ACTION_REASSIGN, value))
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


def home_list(items: list[HomeItem], cat: Catalogue, tz: Any, limit: int = HOME_ITEMS) -> Blocks:
    """One section per ticket, at most `limit`, then how many more."""
    if not items:
        return [_section(cat.plain(LANG, "desk.home.none"))]
    blocks: Blocks = []
    for it in items[:limit]:
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
    if len(items) > limit:
        blocks.append(_section(cat.plain(LANG, "desk.home.more", count=len(items) - limit)))
    return blocks


def home(facts: HomeFacts, cat: Catalogue, tz: Any) -> dict[str, Any]:
    """The App Home view: the viewer's open tickets, then every unclaimed ticket by deadline."""
    blocks: Blocks = [{"type": "header", "text": plain_text(cat.plain(LANG, "desk.home.title"), HEADER_LIMIT)}]
    if not facts.registered:
        blocks.append(_section(cat.plain(LANG, "desk.home.not_agent")))
        return {"type": "home", "blocks": blocks}
    blocks.append(_section(cat.plain(LANG, "desk.home.mine")))
    blocks += home_list(facts.mine, cat, tz)
    blocks.append({"type": "divider"})
    blocks.append(_section(cat.plain(LANG, "desk.home.unclaimed")))
    blocks += home_list(facts.unclaimed, cat, tz)
    return {"type": "home", "blocks": blocks}
