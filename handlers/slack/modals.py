"""The desk's modals (ask, escalate, resolve, reject) and parsing their submissions into typed values."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from bot.domain.types import HoursKind, Severity
from bot.i18n import Catalogue
from bot.services.events import (
    AskForm,
    EscalateForm,
    Form,
    FormSubmitted,
    ReassignForm,
    RejectForm,
    ResolveForm,
    SeverityForm,
)
from handlers.slack import mail_modals
from handlers.slack.blocks import LANG, plain_text

__all__ = [
    "ASK",
    "ESCALATE",
    "REASSIGN",
    "REJECT",
    "RESOLVE",
    "SEVERITY",
    "EscalateFields",
    "FormErrors",
    "ResolveFields",
    "ask_modal",
    "escalate_modal",
    "metadata",
    "parse_ask",
    "parse_escalate",
    "parse_reassign",
    "parse_reject",
    "parse_resolve",
    "parse_severity",
    "parse_submission",
    "reassign_modal",
    "reject_modal",
    "resolve_modal",
    "severity_modal",
]

ASK = "desk_ask_modal"
ESCALATE = "desk_escalate_modal"
RESOLVE = "desk_resolve_modal"
REJECT = "desk_reject_modal"
SEVERITY = "desk_severity_modal"
REASSIGN = "desk_reassign_modal"
TEXT_MAX = 2500  # typed text stays inside one Telegram message with its header
MAX_HOURS = Decimal(1000)
BILLING_REASON = "billing_reason"  # the block of the reason a billing other than the warranty mark needs
_HOURS_BLOCKS = {
    HoursKind.REMOTE: "hours_remote",
    HoursKind.IN_OFFICE: "hours_office",
    HoursKind.ON_SITE: "hours_onsite",
}
_HOURS_LABELS = {
    HoursKind.REMOTE: "desk.modal.resolve.remote",
    HoursKind.IN_OFFICE: "desk.modal.resolve.office",
    HoursKind.ON_SITE: "desk.modal.resolve.onsite",
}


class FormErrors(Exception):
    """A submission Slack should show again with messages under the fields ({block_id: text})."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


def _input(
    block_id: str, label: str, *, multiline: bool = False, optional: bool = False, max_length: int = TEXT_MAX
) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": "value", "multiline": multiline}
    if max_length:
        element["max_length"] = max_length
    return {
        "type": "input",
        "block_id": block_id,
        "label": plain_text(label, 2000),
        "element": element,
        "optional": optional,
    }


def _modal(
    cat: Catalogue, callback_id: str, title_key: str, blocks: list[dict[str, Any]], meta: dict[str, Any]
) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain_text(cat.plain(LANG, title_key), 24),
        "submit": plain_text(cat.plain(LANG, "desk.modal.submit"), 24),
        "close": plain_text(cat.plain(LANG, "desk.modal.cancel"), 24),
        "private_metadata": json.dumps(meta, separators=(",", ":")),
        "blocks": blocks,
    }


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    """The private_metadata we wrote (ids only); {} when absent or not ours."""
    try:
        value = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _meta(ticket_id: int, channel: str, ts: str) -> dict[str, Any]:
    # The card's ts travels with the form: its submission is handled in the card's order (one inbox key).
    return {"ticket_id": ticket_id, "channel": channel, "ts": ts}


def ask_modal(cat: Catalogue, ticket_id: int, channel: str, ts: str = "") -> dict[str, Any]:
    blocks = [_input("question", cat.plain(LANG, "desk.modal.ask.label"), multiline=True)]
    return _modal(cat, ASK, "desk.modal.ask.title", blocks, _meta(ticket_id, channel, ts))


def escalate_modal(cat: Catalogue, ticket_id: int, channel: str, ts: str, current: int) -> dict[str, Any]:
    blocks = [_input("reason", cat.plain(LANG, "desk.modal.escalate.reason"), multiline=True)]
    more_urgent = [s for s in Severity if s < current]
    if more_urgent:  # severity 1 cannot go higher: no empty select
        options = [
            {
                "text": plain_text(cat.plain(LANG, "desk.modal.escalate.severity_option", severity=int(s))),
                "value": str(int(s)),
            }
            for s in more_urgent
        ]
        blocks.append(
            {
                "type": "input",
                "block_id": "severity",
                "optional": True,
                "label": plain_text(cat.plain(LANG, "desk.modal.escalate.severity"), 2000),
                "element": {"type": "static_select", "action_id": "value", "options": options},
            }
        )
    return _modal(cat, ESCALATE, "desk.modal.escalate.title", blocks, _meta(ticket_id, channel, ts))


def resolve_modal(
    cat: Catalogue, ticket_id: int, channel: str, ts: str = "", *, warranty: bool = False
) -> dict[str, Any]:
    """Solution, hours of each kind, and the billing: preselected from the ticket's warranty mark (R-WARRANTY:
    "sin cargo / garantía" for a warranty ticket), with the reason a change of it needs."""
    blocks = [_input("solution", cat.plain(LANG, "desk.modal.resolve.solution"), multiline=True)]
    for kind, block_id in _HOURS_BLOCKS.items():
        blocks.append(_input(block_id, cat.plain(LANG, _HOURS_LABELS[kind]), optional=True, max_length=10))
    charged = {"text": plain_text(cat.plain(LANG, "desk.modal.resolve.charged")), "value": "charged"}
    free = {"text": plain_text(cat.plain(LANG, "desk.modal.resolve.warranty")), "value": "warranty"}
    blocks.append(
        {
            "type": "input",
            "block_id": "billing",
            "label": plain_text(cat.plain(LANG, "desk.modal.resolve.billing"), 2000),
            "element": {
                "type": "radio_buttons",
                "action_id": "value",
                "options": [charged, free],
                "initial_option": free if warranty else charged,
            },
        }
    )
    blocks.append(_input(BILLING_REASON, cat.plain(LANG, "desk.modal.resolve.billing_reason"), optional=True))
    meta = {**_meta(ticket_id, channel, ts), "warranty": int(warranty)}
    return _modal(cat, RESOLVE, "desk.modal.resolve.title", blocks, meta)


def reject_modal(cat: Catalogue, escalation_id: int, channel: str, ts: str) -> dict[str, Any]:
    blocks = [_input("reason", cat.plain(LANG, "desk.modal.reject.reason"), multiline=True)]
    meta = {"escalation_id": escalation_id, "channel": channel, "ts": ts}
    return _modal(cat, REJECT, "desk.modal.reject.title", blocks, meta)


def severity_modal(cat: Catalogue, ticket_id: int, channel: str, ts: str, current: int) -> dict[str, Any]:
    """R-SEVERITY: any other severity, more or less urgent, and the reason (the client is told both)."""
    options = [
        {"text": plain_text(cat.plain(LANG, "desk.modal.severity.option", severity=int(s))), "value": str(int(s))}
        for s in Severity
        if s != current
    ]
    blocks = [
        {
            "type": "input",
            "block_id": "severity",
            "label": plain_text(cat.plain(LANG, "desk.modal.severity.severity"), 2000),
            "element": {"type": "static_select", "action_id": "value", "options": options},
        },
        _input("reason", cat.plain(LANG, "desk.modal.severity.reason"), multiline=True),
    ]
    return _modal(cat, SEVERITY, "desk.modal.severity.title", blocks, _meta(ticket_id, channel, ts))


def reassign_modal(cat: Catalogue, ticket_id: int, channel: str, ts: str) -> dict[str, Any]:
    """A manager picks the consultant who takes the ticket (a workspace user; the entry checks their role)."""
    blocks = [
        {
            "type": "input",
            "block_id": "agent",
            "label": plain_text(cat.plain(LANG, "desk.modal.reassign.agent"), 2000),
            "element": {"type": "users_select", "action_id": "value"},
        }
    ]
    return _modal(cat, REASSIGN, "desk.modal.reassign.title", blocks, _meta(ticket_id, channel, ts))


# --- parsing -------------------------------------------------------------------------------------------
def _value(view: dict[str, Any], block_id: str) -> Any:
    state = view.get("state", {}).get("values", {})
    field = state.get(block_id, {}).get("value", {})
    if not isinstance(field, dict):
        return None
    if "selected_option" in field:
        option = field.get("selected_option")
        return option.get("value") if isinstance(option, dict) else None
    if "selected_user" in field:
        return field.get("selected_user")
    return field.get("value")


def _required_text(view: dict[str, Any], block_id: str, cat: Catalogue) -> str:
    value = _value(view, block_id)
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise FormErrors({block_id: cat.plain(LANG, "desk.error.required")})
    return text[:TEXT_MAX]


def parse_ask(view: dict[str, Any], cat: Catalogue) -> str:
    """The question to the client."""
    return _required_text(view, "question", cat)


@dataclass(frozen=True)
class EscalateFields:
    reason: str
    new_severity: Severity | None


def parse_escalate(view: dict[str, Any], cat: Catalogue) -> EscalateFields:
    reason = _required_text(view, "reason", cat)
    raw = _value(view, "severity")
    severity = None
    if raw not in (None, ""):
        try:
            severity = Severity(int(str(raw)))
        except ValueError:
            raise FormErrors({"severity": cat.plain(LANG, "desk.error.severity")}) from None
    return EscalateFields(reason, severity)


@dataclass(frozen=True)
class ResolveFields:
    solution: str
    hours: dict[HoursKind, Decimal]
    charged: bool
    billing_reason: str = ""


def _hours(raw: Any) -> Decimal | None:
    """Hours as typed ("1.5", "1,5", "2"); None when not a number within 0..MAX_HOURS."""
    text = str(raw or "").strip().replace(",", ".")
    if not text:
        return Decimal(0)
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0 or value > MAX_HOURS:
        return None
    return value


def parse_resolve(view: dict[str, Any], cat: Catalogue) -> ResolveFields:
    errors: dict[str, str] = {}
    solution = ""
    try:
        solution = _required_text(view, "solution", cat)
    except FormErrors as exc:
        errors.update(exc.errors)
    hours: dict[HoursKind, Decimal] = {}
    for kind, block_id in _HOURS_BLOCKS.items():
        value = _hours(_value(view, block_id))
        if value is None:
            errors[block_id] = cat.plain(LANG, "desk.error.bad_hours", max=MAX_HOURS)
        elif value > 0:
            hours[kind] = value
    if not hours and not any(b in errors for b in _HOURS_BLOCKS.values()):
        errors[_HOURS_BLOCKS[HoursKind.REMOTE]] = cat.plain(LANG, "desk.error.no_hours")
    # R-WARRANTY: the billing starts at the ticket's warranty mark; changing it needs a reason (audited).
    warranty = bool(metadata(view).get("warranty"))
    billing = _value(view, "billing")
    charged = not warranty if billing not in ("charged", "warranty") else billing == "charged"
    reason = _value(view, BILLING_REASON)
    reason = reason.strip()[:TEXT_MAX] if isinstance(reason, str) else ""
    if charged is warranty and not reason:
        errors[BILLING_REASON] = cat.plain(LANG, "desk.error.billing_reason")
    if errors:
        raise FormErrors(errors)
    return ResolveFields(solution, hours, charged, reason)


def parse_reject(view: dict[str, Any], cat: Catalogue) -> str:
    return _required_text(view, "reason", cat)


def parse_severity(view: dict[str, Any], cat: Catalogue) -> tuple[Severity, str]:
    """The new severity and the reason; both required."""
    errors: dict[str, str] = {}
    severity = None
    try:
        severity = Severity(int(str(_value(view, "severity"))))
    except ValueError:
        errors["severity"] = cat.plain(LANG, "desk.error.required")
    try:
        reason = _required_text(view, "reason", cat)
    except FormErrors as exc:
        errors.update(exc.errors)
    if errors or severity is None:
        raise FormErrors(errors)
    return severity, reason


def parse_reassign(view: dict[str, Any], cat: Catalogue) -> str:
    """The Slack user chosen to take the ticket."""
    user = _value(view, "agent")
    if not isinstance(user, str) or not user.strip():
        raise FormErrors({"agent": cat.plain(LANG, "desk.error.required")})
    return user.strip()


def parse_submission(body: dict[str, Any], cat: Catalogue) -> FormSubmitted:
    """A submitted modal as the desk entry receives it. Raises FormErrors (shown under the fields, in the
    acknowledgement) and ValueError (a modal that is not ours, or metadata that was tampered with)."""
    view = body.get("view") or {}
    user = str((body.get("user") or {}).get("id", ""))
    meta = metadata(view)
    channel, ts = str(meta.get("channel", "")), str(meta.get("ts", ""))
    callback = view.get("callback_id")
    form: Form
    try:
        if callback == ASK:
            form = AskForm(int(meta["ticket_id"]), parse_ask(view, cat))
        elif callback == ESCALATE:
            fields = parse_escalate(view, cat)
            form = EscalateForm(int(meta["ticket_id"]), fields.reason, fields.new_severity)
        elif callback == RESOLVE:
            done = parse_resolve(view, cat)
            form = ResolveForm(int(meta["ticket_id"]), done.solution, done.hours, done.charged, done.billing_reason)
        elif callback == REJECT:
            form = RejectForm(int(meta["escalation_id"]), parse_reject(view, cat))
        elif callback == SEVERITY:
            severity, reason = parse_severity(view, cat)
            form = SeverityForm(int(meta["ticket_id"]), severity, reason)
        elif callback == REASSIGN:
            form = ReassignForm(int(meta["ticket_id"]), parse_reassign(view, cat))
        elif callback == mail_modals.CALLBACK:
            form = mail_modals.parse_attach(view, meta, cat)
        else:
            raise ValueError(f"not one of our modals: {callback!r}")
    except (KeyError, TypeError) as exc:
        raise ValueError(f"modal metadata without {exc}") from None
    return FormSubmitted(user, form, channel, ts)
