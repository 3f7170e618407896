"""The modal that attaches a message of "correo sin cliente" to a company (P-IN-6): which company, and the name
the new contact gets."""

from __future__ import annotations

import json
from typing import Any

from bot.i18n import Catalogue
from bot.services.mail_desk import AttachChoices
from bot.services.mail_events import MailAttachForm

__all__ = ["CALLBACK", "attach_modal", "parse_attach"]

CALLBACK = "desk_mail_attach"
LANG = "es"
MAX_OPTIONS = 100  # a static select holds at most 100 options (LIMITS.md family: Block Kit)


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:limit] or " "}


def attach_modal(cat: Catalogue, kept: AttachChoices, channel: str, ts: str) -> dict[str, Any]:
    """Companies in a select (their id typed in when there are more than a select holds), the contact's name."""
    about = cat.plain(LANG, "mail.desk.modal_about", address=kept.address, subject=kept.subject or "—")
    if len(kept.clients) <= MAX_OPTIONS:
        options = [{"text": _plain(f"{name} (#{cid})", 75), "value": str(cid)} for cid, name in kept.clients]
        element: dict[str, Any] = {"type": "static_select", "action_id": "value", "options": options}
    else:
        element = {"type": "plain_text_input", "action_id": "value"}
    name = {"type": "plain_text_input", "action_id": "value", "max_length": 200}
    if kept.name:
        name["initial_value"] = kept.name[:200]
    blocks = [
        {"type": "context", "elements": [{"type": "plain_text", "text": about[:2000]}]},
        {"type": "input", "block_id": "client", "label": _plain(cat.plain(LANG, "mail.desk.modal_client"), 2000),
         "element": element},
        {"type": "input", "block_id": "name", "optional": True,
         "label": _plain(cat.plain(LANG, "mail.desk.modal_name"), 2000), "element": name},
    ]  # fmt: skip
    return {
        "type": "modal",
        "callback_id": CALLBACK,
        "title": _plain(cat.plain(LANG, "mail.desk.modal_title"), 24),
        "submit": _plain(cat.plain(LANG, "desk.modal.submit"), 24),
        "close": _plain(cat.plain(LANG, "desk.modal.cancel"), 24),
        "private_metadata": json.dumps({"mail_id": kept.mail_id, "channel": channel, "ts": ts}),
        "blocks": blocks,
    }


def _value(view: dict[str, Any], block_id: str) -> str:
    field = (view.get("state") or {}).get("values", {}).get(block_id, {}).get("value", {})
    if not isinstance(field, dict):
        return ""
    option = field.get("selected_option")
    if isinstance(option, dict):
        return str(option.get("value") or "")
    return str(field.get("value") or "")


def parse_attach(view: dict[str, Any], meta: dict[str, Any], cat: Catalogue) -> MailAttachForm:
    """The submitted modal. Raises FormErrors (a company that is not a number), KeyError (tampered metadata)."""
    from handlers.slack.modals import FormErrors  # that module dispatches to this one

    client = _value(view, "client").strip().lstrip("#")
    if not client.isdigit():
        raise FormErrors({"client": cat.plain(LANG, "mail.desk.modal_client_error")})
    return MailAttachForm(int(meta["mail_id"]), int(client), _value(view, "name").strip())
