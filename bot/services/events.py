"""What people do, as the service entries receive it: the adapters translate platform payloads into these.

Three kinds of event, three entries: a client's Telegram event (bot.services.client_entry), a desk action
on Slack (a card or DM button, a modal submitted, the App Home opened) and a desk message in a card's thread
(both bot.services.desk_entry). Nothing here knows a platform's wire format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from bot.conversation.model import Command, Document, Media, Photo, Text
from bot.domain.types import HoursKind, Severity
from bot.services.mail_events import MailAttachForm

__all__ = [
    "AskForm",
    "BotBlocked",
    "ButtonTapped",
    "CardButton",
    "ClientAct",
    "ClientEvent",
    "CommandSent",
    "ContactShared",
    "DeskAction",
    "EscalateForm",
    "Form",
    "FormSubmitted",
    "HomeOpened",
    "MessageSent",
    "Person",
    "ReassignForm",
    "RejectForm",
    "ResolveForm",
    "SeverityForm",
    "SharedFile",
    "ThreadMessage",
]


# --- a client on Telegram ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Person:
    """Who wrote: their private chat, their Telegram user, their language, the name Telegram shows."""

    chat_id: int
    user_id: int
    lang: str
    first_name: str = ""


@dataclass(frozen=True)
class CommandSent:
    """A /command with what followed it (the raw message is kept: at a password step it is a password)."""

    name: str
    argument: str
    message: Command


@dataclass(frozen=True)
class MessageSent:
    """Text, a photo, a document, or another kind of message (sticker, voice)."""

    input: Text | Photo | Document | Media


@dataclass(frozen=True)
class ButtonTapped:
    """An inline button: its callback data (never trusted) and the query to answer. The message it was under,
    as Telegram sent it back: its text (HTML), the tapped button's label and the keyboard's rows of
    (label, data), so once answered the question can show the choice instead of its buttons."""

    data: str
    query_id: str
    message_id: int | None = None
    message_html: str | None = None
    label: str | None = None
    keyboard: tuple[tuple[tuple[str, str], ...], ...] = ()


@dataclass(frozen=True)
class ContactShared:
    """A shared contact card; owner_id is the Telegram user it belongs to (None: someone typed it in)."""

    phone: str
    owner_id: int | None


@dataclass(frozen=True)
class BotBlocked:
    """The person blocked the bot (True) or started it again (False): Telegram's my_chat_member."""

    blocked: bool


ClientAct = CommandSent | MessageSent | ButtonTapped | ContactShared | BotBlocked


@dataclass(frozen=True)
class ClientEvent:
    who: Person
    act: ClientAct


# --- the desk on Slack -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class CardButton:
    """A button on a card (claim, reveal, ask, escalate, resolve) or in an escalation request (approve,
    reject). `value` is the ticket or escalation id it names; trigger_id opens a modal (valid 3 s)."""

    user: str
    action: str
    value: int | None
    channel: str = ""
    message_ts: str = ""
    trigger_id: str = ""


@dataclass(frozen=True)
class AskForm:
    ticket_id: int
    question: str


@dataclass(frozen=True)
class EscalateForm:
    ticket_id: int
    reason: str
    new_severity: Severity | None


@dataclass(frozen=True)
class ResolveForm:
    ticket_id: int
    solution: str
    hours: dict[HoursKind, Decimal]
    charged: bool
    billing_reason: str = ""  # R-WARRANTY: why the billing differs from the ticket's warranty mark


@dataclass(frozen=True)
class RejectForm:
    escalation_id: int
    reason: str


@dataclass(frozen=True)
class SeverityForm:
    """R-SEVERITY: the new severity and why (the client is told both)."""

    ticket_id: int
    severity: Severity
    reason: str


@dataclass(frozen=True)
class ReassignForm:
    """A manager gives the ticket to this Slack user."""

    ticket_id: int
    to_user: str


# MailAttachForm: the desk attaches a message of "correo sin cliente" to a company (P-IN-6).
Form = AskForm | EscalateForm | ResolveForm | RejectForm | SeverityForm | ReassignForm | MailAttachForm


@dataclass(frozen=True)
class FormSubmitted:
    """A modal submitted and valid as a form; the entry may still answer with errors under its fields."""

    user: str
    form: Form
    channel: str = ""
    message_ts: str = ""  # the card (or the escalation request) the modal was opened from


@dataclass(frozen=True)
class HomeOpened:
    user: str


DeskAction = CardButton | FormSubmitted | HomeOpened


@dataclass(frozen=True)
class SharedFile:
    """A file an agent put in a thread (Slack's file object, reduced to what a relay needs)."""

    id: str
    name: str
    mimetype: str
    size: int
    url: str


@dataclass(frozen=True)
class ThreadMessage:
    """A message in a channel thread, by a person (bots' own messages never reach the entry)."""

    user: str
    channel: str
    thread_ts: str
    ts: str
    text: str
    files: tuple[SharedFile, ...] = field(default=())
