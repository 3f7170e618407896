"""Turns the conversation's replies (catalogue keys and values) into Telegram HTML and keyboards for the outbox."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.conversation.model import Button, Msg, Reply
from bot.dates import business_duration_in_words, deadline_in_words, numeric_date, since_in_words
from bot.domain.since import SinceResult
from bot.i18n import Catalogue, Safe
from bot.services.context import Services

TELEGRAM_TEXT_LIMIT = 4096
BUTTON_LABEL_LIMIT = 64


@dataclass(frozen=True)
class Renderer:
    """Renders in one language, in the client's zone, with the company's details at hand."""

    catalogue: Catalogue
    lang: str
    tz: ZoneInfo
    now: datetime
    common: Mapping[str, object]

    @classmethod
    def for_services(cls, services: Services, lang: str, *, client: str = "", name: str = "") -> Renderer:
        """A renderer with the company's contact card and sales contact (P-CONTACT-1) as common params."""
        s = services.settings
        cat = services.catalogue
        card = cat.t(
            lang,
            "contact.card",
            company=s.company_name,
            phones=s.support_phones,
            email=s.support_email,
            office_hours=s.office_hours_text,
        )
        common = {
            "company": s.company_name,
            "sales": s.sales_contact,
            "contact": Safe(card),
            "phones": s.support_phones,
            "email": s.support_email,
            "office_hours": s.office_hours_text,
            "client": client,
            "name": name,
            "hours": f"{s.draft_expiry_hours:g}",
        }
        return cls(cat, lang, s.zone, services.clock(), common)

    def value(self, value: object) -> object:
        """A param as the catalogue takes it: nested texts already rendered (Safe), dates in words."""
        if isinstance(value, Msg):
            return Safe(self.text(value))
        if isinstance(value, SinceResult):
            return since_in_words(value, self.now, self.lang, self.tz, catalogue=self.catalogue)
        if isinstance(value, timedelta):
            return business_duration_in_words(value, self.lang, catalogue=self.catalogue)
        if isinstance(value, datetime):
            return deadline_in_words(value, self.lang, self.tz, catalogue=self.catalogue)
        if isinstance(value, date):
            return numeric_date(value, self.lang, catalogue=self.catalogue)
        return value

    def text(self, msg: Msg) -> str:
        """One catalogue text in Telegram HTML (client-typed values escaped)."""
        params: dict[str, object] = dict(self.common)
        params.update({name: self.value(v) for name, v in msg.params.items()})
        return self.catalogue.t(self.lang, msg.key, **params)

    def label(self, button: Button) -> str:
        """A button label: plain text, never longer than Telegram shows well."""
        if isinstance(button.label, Msg):
            params = {k: self.value(v) for k, v in button.label.params.items()}
            return self.catalogue.plain(self.lang, button.label.key, **params)[:BUTTON_LABEL_LIMIT]
        return button.label[:BUTTON_LABEL_LIMIT]

    def reply(self, reply: Reply) -> tuple[str, list[list[dict[str, str]]] | None]:
        """The message text and its inline keyboard (None when it has no buttons)."""
        text = "\n".join(self.text(line) for line in reply.lines)
        text = clip_html(text)
        rows = [[{"text": self.label(b), "data": b.data} for b in row] for row in reply.buttons if row]
        return text, (rows or None)

    def payload(self, reply: Reply) -> dict[str, Any]:
        """The extra fields of a telegram_send outbox row."""
        text, keyboard = self.reply(reply)
        return {"text": text, "keyboard": keyboard}


def clip_html(text: str, limit: int = TELEGRAM_TEXT_LIMIT - 96) -> str:
    """Cut a rendered message under Telegram's limit without breaking a tag or an entity (rare: excerpts are short)."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    # Drop a half-written tag or entity at the end, then close any tag left open.
    for opener, closer in (("<", ">"), ("&", ";")):
        start = cut.rfind(opener)
        if start != -1 and cut.find(closer, start) == -1:
            cut = cut[:start]
    for tag in ("b", "i", "code", "pre", "u", "s", "blockquote"):
        if cut.count(f"<{tag}>") > cut.count(f"</{tag}>"):
            cut += f"</{tag}>"
    return cut + "…"
