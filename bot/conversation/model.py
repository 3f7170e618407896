"""The intake's vocabulary: steps, what a client can send, what the bot answers, and the draft's state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.contracts import DEFAULT_TIER_RULES, Contract, Product, TierRules
from bot.domain.severity import DEFAULT_RESPONSE_HOURS
from bot.domain.since import SinceResult
from bot.domain.types import Severity


class Step(StrEnum):
    """Where the client is in the intake (the draft's `step` column)."""

    PURCHASE_ORDER = "purchase_order"  # P-POL-1, only for per-event contracts
    AREA = "area"  # P-SCOPE-1
    EXCLUDED = "excluded"  # P-SCOPE-2
    PRODUCT = "product"  # P-POL-4 / P-POL-7
    PRODUCT_OTHER = "product_other"
    TRIAGE_DOWN = "triage_down"  # P-SLA-1..4 from here to TRIAGE_BUSINESS
    TRIAGE_KIND = "triage_kind"
    TRIAGE_IMPACT = "triage_impact"
    TRIAGE_DOCUMENTED = "triage_documented"
    TRIAGE_REACH = "triage_reach"
    TRIAGE_BUSINESS = "triage_business"
    TRIAGE_CAUSE = "triage_cause"  # R-WARRANTY: a product in warranty failing, or a change / a third party?
    DESCRIPTION = "description"  # P-IN-2
    SINCE = "since"
    ATTACHMENTS = "attachments"
    ACCESS = "access"  # P-IN-3 / P-IN-5
    TV_ID = "tv_id"
    TV_PASSWORD = "tv_password"  # noqa: S105 - a step name, not a secret
    EQUIPMENT_QUESTION = "equipment_question"
    EQUIPMENT_PASSWORD = "equipment_password"  # noqa: S105 - a step name, not a secret
    ONSITE_ADDRESS = "onsite_address"
    ONSITE_CONTACT = "onsite_contact"
    ONSITE_RULES = "onsite_rules"
    SUMMARY = "summary"


# Steps whose text answer is a password: the service encrypts it into a Secret before step() sees it.
SECRET_STEPS = frozenset({Step.TV_PASSWORD, Step.EQUIPMENT_PASSWORD})


class Status(StrEnum):
    """Whether the draft goes on, or how it ended."""

    ACTIVE = "active"
    CONFIRMED = "confirmed"  # the service opens the ticket
    CANCELLED = "cancelled"
    REFUSED = "refused"  # no ticket: P-POL-3, P-SCOPE-2, P-POL-7, R-EVENT (the client was told why, R-CONTACT)


# --- what the client sends ----------------------------------------------------------------------
@dataclass(frozen=True)
class Text:
    """A typed message (never a command)."""

    text: str
    message_id: int = 0


@dataclass(frozen=True)
class Secret:
    """A password message, already encrypted by the service; step() only keeps the token."""

    token: str
    message_id: int
    empty: bool = False


@dataclass(frozen=True)
class Choice:
    """A tapped inline button: its raw callback_data (checked by step(), never trusted)."""

    data: str


@dataclass(frozen=True)
class Photo:
    """A photo (its biggest size); a caption typed with it is kept as words of the report."""

    file_id: str
    size: int | None = None
    caption: str | None = None


@dataclass(frozen=True)
class Document:
    """A file sent as a document (any type; over the getFile limit it cannot be fetched)."""

    file_id: str
    name: str | None = None
    size: int | None = None
    mime: str | None = None
    caption: str | None = None


@dataclass(frozen=True)
class Media:
    """Something that is neither text nor a file: "sticker", "voice", "video", "location"..."""

    kind: str


@dataclass(frozen=True)
class Command:
    """A command typed in the middle of a step that the adapter did not handle itself (the whole text is
    kept: at a password step "/x9#" is a password that must be stored and deleted, not a command)."""

    name: str
    text: str = ""
    message_id: int = 0


Input = Text | Secret | Choice | Photo | Document | Media | Command


# --- what the bot answers -----------------------------------------------------------------------
@dataclass(frozen=True)
class Msg:
    """A catalogue text with its parameters; params may be Msg, SinceResult, timedelta, datetime or plain."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Button:
    """An inline button: a catalogue label (Msg) or a literal one (a product name), and its callback_data."""

    label: Msg | str
    data: str


@dataclass(frozen=True)
class Reply:
    """One message to the client: lines joined by a blank line, and button rows."""

    lines: tuple[Msg, ...]
    buttons: tuple[tuple[Button, ...], ...] = ()


@dataclass(frozen=True)
class Delete:
    """Delete a message of the client (the one that carried a password, P-IN-3)."""

    message_id: int


Out = Reply | Delete


# --- what step() needs to know besides the state --------------------------------------------------
@dataclass(frozen=True)
class ProductOption:
    """A covered product the client may pick (from their contract)."""

    id: int
    product: Product


@dataclass(frozen=True)
class IntakeContext:
    """The facts a step may use: the client's contract and products, the time, the limits."""

    now: datetime
    tz: ZoneInfo
    contract: Contract | None
    products: tuple[ProductOption, ...] = ()
    tiers: TierRules = DEFAULT_TIER_RULES
    targets: Mapping[Severity, timedelta] = field(
        default_factory=lambda: {s: timedelta(hours=h) for s, h in DEFAULT_RESPONSE_HOURS.items()}
    )
    # R-EVENT: the purchase orders the company already used (normalised key -> the ticket that used it).
    used_purchase_orders: Mapping[str, str] = field(default_factory=dict)
    max_file_bytes: int = 20 * 1024 * 1024  # Telegram getFile limit (LIMITS.md)
    max_attachments: int = 10
    min_description_chars: int = 25
    min_description_words: int = 4
    max_description_chars: int = 20_000
    split_hint_chars: int = 4000  # a message this long was probably split by the Telegram app

    @property
    def today(self) -> date:
        return self.now.astimezone(self.tz).date()


# --- the draft ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class IntakeState:
    """Every answer so far; JSON-able through to_data()/from_data() so the draft survives a restart."""

    step: Step = Step.AREA
    seq: int = 0  # bumps at every accepted answer: buttons carry it, so an old button is detected
    status: Status = Status.ACTIVE
    trail: tuple[str, ...] = ()  # steps answered, for "back"
    editing: bool = False  # came from the summary: return there once the section is done
    refusal: str | None = None
    purchase_order: str | None = None
    area: str | None = None
    excluded: str | None = None
    product_id: int | None = None
    product_name: str | None = None
    symptom: str | None = None
    impact: str | None = None
    reach: str | None = None
    business_system: str | None = None
    asked_kind: bool = False
    severity: int | None = None
    cause: str | None = None  # R-WARRANTY: "product" | "change" | "unsure", asked only for a product in warranty
    charged: bool = True  # False: the warranty route (P-POL-4), the ticket's warranty mark
    entitlement_rule: str | None = None
    # R-WARRANTY: the contract route is closed (why: a RefusalReason value); only the free route is open.
    warranty_only: bool = False
    contract_refusal: str | None = None
    description: str = ""
    since_at: str | None = None
    since_precision: str | None = None
    since_part: str | None = None
    since_text: str | None = None
    attachments: tuple[tuple[str, str, str | None, int | None, str | None], ...] = ()  # kind, id, name, size, mime
    links: tuple[str, ...] = ()
    nudged: bool = False
    access: str | None = None  # "remote" | "onsite"
    teamviewer_id: str | None = None
    tv_password: str | None = None  # encrypted token
    equipment_password: str | None = None  # encrypted token
    onsite_address: str | None = None
    onsite_contact: str | None = None
    onsite_rules: str | None = None

    def to_data(self) -> dict[str, Any]:
        """The draft's data column (JSON)."""
        data = asdict(self)
        data["trail"] = list(self.trail)
        data["attachments"] = [list(a) for a in self.attachments]
        data["links"] = list(self.links)
        return data

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> IntakeState:
        """Back from the draft's data column; unknown keys (an older version) are ignored."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["step"] = Step(values.get("step", Step.AREA))
        values["status"] = Status(values.get("status", Status.ACTIVE))
        values["trail"] = tuple(values.get("trail", ()))
        values["attachments"] = tuple(tuple(a) for a in values.get("attachments", ()))
        values["links"] = tuple(values.get("links", ()))
        return cls(**values)

    def since(self) -> SinceResult | None:
        """What the client said about since when, as the parser understood it."""
        from bot.domain.since import DayPart, Precision

        if self.since_at is None or self.since_precision is None:
            return None
        return SinceResult(
            instant=datetime.fromisoformat(self.since_at),
            precision=Precision(self.since_precision),
            text=self.since_text or "",
            part=DayPart(self.since_part) if self.since_part else None,
        )

    def with_(self, **changes: Any) -> IntakeState:
        return replace(self, **changes)
