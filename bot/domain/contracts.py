"""Contracts ("pólizas", P-POL-1, 2, 6, 8, R-EVENT, R-POOLS): tier terms, validity, hours deduction, certificate.

Who may get support at all (P-POL-3..7) is decided in bot.domain.entitlement.

Hours are Decimal everywhere: 12.5 h minus 0.1 h three times must leave exactly 12.2 h, and a float
would not. `to_hours` is the one door a float or string comes in through; it rounds to HOURS_QUANTUM
(0.0001 h, a third of a second) so that 20 minutes (0.3333… h) cannot leave sums that no longer add up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from types import MappingProxyType

from bot.domain.errors import InvalidHours, InvalidInput
from bot.domain.types import HoursKind, ServiceArea, Tier

__all__ = [
    "DEFAULT_CONTRACT_YEARS",
    "DEFAULT_LOW_HOURS_PERCENT",
    "DEFAULT_OFFICE_HOURS",
    "DEFAULT_ONSITE_HOURS",
    "DEFAULT_TIER_HOURS",
    "DEFAULT_TIER_RULES",
    "HOURS_QUANTUM",
    "Certificate",
    "Contract",
    "ContractStatus",
    "Deduction",
    "Product",
    "TierRules",
    "TierTerms",
    "Validity",
    "certificate",
    "deduct",
    "default_end",
    "purchase_order_key",
    "to_hours",
]

_ZERO = Decimal(0)
_HUNDRED = Decimal(100)
HOURS_QUANTUM = Decimal("0.0001")

# P-POL-1: hours a year per tier (per-event: one 1-hour event).
DEFAULT_TIER_HOURS: Mapping[Tier, Decimal] = MappingProxyType(
    {
        Tier.PER_EVENT: Decimal(1),
        Tier.BASIC: Decimal(5),
        Tier.BUSINESS: Decimal(20),
        Tier.BUSINESS_PLUS: Decimal(50),
        Tier.CORPORATE: Decimal(70),
    }
)
# P-POL-6 read as R-POOLS: in-office advice ("asesoría en nuestras instalaciones") and on-site advice
# ("asesoría en sitio") are two services of the seed's table, each with its own "(3hr.)" / "(5hr.)": two pools.
# Tiers not listed include none.
DEFAULT_OFFICE_HOURS: Mapping[Tier, Decimal] = MappingProxyType(
    {Tier.BUSINESS_PLUS: Decimal(3), Tier.CORPORATE: Decimal(5)}
)
DEFAULT_ONSITE_HOURS: Mapping[Tier, Decimal] = MappingProxyType(
    {Tier.BUSINESS_PLUS: Decimal(3), Tier.CORPORATE: Decimal(5)}
)
DEFAULT_LOW_HOURS_PERCENT = Decimal(20)
DEFAULT_CONTRACT_YEARS = 1


def to_hours(value: Decimal | float | int | str) -> Decimal:
    """An hours amount as Decimal rounded to HOURS_QUANTUM (floats via their shortest repr: 12.1 stays 12.1)."""
    if isinstance(value, bool):
        raise InvalidHours(f"not an hours amount: {value!r}")
    try:
        result = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        raise InvalidHours(f"not an hours amount: {value!r}") from None
    if not result.is_finite():
        raise InvalidHours(f"hours must be finite, got {value!r}")
    return result.quantize(HOURS_QUANTUM, rounding=ROUND_HALF_UP)


class Validity(StrEnum):
    """How long a tier lasts (P-POL-1, P-POL-2)."""

    ONE_EVENT = "one_event"
    ONE_YEAR = "one_year"


@dataclass(frozen=True)
class TierTerms:
    """What one tier gives: yearly hours, included on-site and in-office advice hours (R-POOLS: two pools),
    validity, whether it needs a PO."""

    hours: Decimal
    onsite_hours: Decimal
    validity: Validity
    needs_purchase_order: bool
    office_hours: Decimal = _ZERO

    def __post_init__(self) -> None:
        if self.hours <= 0:
            raise InvalidHours(f"tier hours must be positive, got {self.hours}")
        if self.onsite_hours < 0 or self.office_hours < 0:
            raise InvalidHours(
                f"included advice hours cannot be negative, got {self.onsite_hours} / {self.office_hours}"
            )


@dataclass(frozen=True)
class TierRules:
    """The tier table; build it with `from_mapping` so settings can override the P-POL defaults."""

    terms: Mapping[Tier, TierTerms]

    def __post_init__(self) -> None:
        missing = set(Tier) - set(self.terms)
        if missing:
            raise InvalidInput(f"tier rules miss {sorted(t.value for t in missing)}")

    @classmethod
    def from_mapping(
        cls,
        hours: Mapping[Tier, Decimal | float | int] = DEFAULT_TIER_HOURS,
        onsite_hours: Mapping[Tier, Decimal | float | int] = DEFAULT_ONSITE_HOURS,
        office_hours: Mapping[Tier, Decimal | float | int] = DEFAULT_OFFICE_HOURS,
    ) -> TierRules:
        """Build the table; every tier needs hours, advice hours (each pool, R-POOLS) default to 0 where not given."""
        unknown = (set(onsite_hours) | set(office_hours)) - set(hours)
        if unknown:
            raise InvalidInput(f"advice hours for tiers without hours: {sorted(t.value for t in unknown)}")
        terms = {
            tier: TierTerms(
                hours=to_hours(value),
                onsite_hours=to_hours(onsite_hours.get(tier, 0)),
                office_hours=to_hours(office_hours.get(tier, 0)),
                # P-POL-1: only "por evento" is one event and needs a purchase order.
                validity=Validity.ONE_EVENT if tier is Tier.PER_EVENT else Validity.ONE_YEAR,
                needs_purchase_order=tier is Tier.PER_EVENT,
            )
            for tier, value in hours.items()
        }
        return cls(MappingProxyType(terms))

    def __getitem__(self, tier: Tier) -> TierTerms:
        return self.terms[tier]


DEFAULT_TIER_RULES = TierRules.from_mapping()


def default_end(starts_on: date, years: int = DEFAULT_CONTRACT_YEARS) -> date:
    """Last valid day of a contract of `years` years: the day before the anniversary (P-POL-2).

    A contract starting on 29 Feb has its anniversary on 1 Mar of a non-leap year, so it ends on
    28 Feb: exactly one year, never a day more or less.
    """
    if years < 1:
        raise InvalidInput(f"a contract lasts at least one year, got {years}")
    try:
        anniversary = starts_on.replace(year=starts_on.year + years)
    except ValueError:
        anniversary = date(starts_on.year + years, 3, 1)
    return anniversary - timedelta(days=1)


class ContractStatus(StrEnum):
    """Where a contract stands on a given day (P-POL-2; R-EVENT for a per-event contract)."""

    ACTIVE = "active"
    NOT_STARTED = "not_started"
    EXPIRED = "expired"
    EXHAUSTED = "exhausted"
    EVENT_IN_USE = "event_in_use"  # R-EVENT: its one ticket is open; a second one needs a new purchase order
    EVENT_USED = "event_used"  # R-EVENT: its one ticket was resolved: the contract is used up


def purchase_order_key(text: str) -> str:
    """A purchase order as compared and stored (R-EVENT: never used twice): spaces collapsed, upper case."""
    return " ".join(text.split()).upper()


@dataclass(frozen=True)
class Contract:
    """A client's contract: validity dates and the hours bought and used (hours as Decimal)."""

    number: str
    tier: Tier
    starts_on: date
    ends_on: date
    hours_total: Decimal
    hours_used: Decimal = _ZERO
    onsite_hours_total: Decimal = _ZERO
    onsite_hours_used: Decimal = _ZERO
    purchase_order: str | None = None
    special_eol_support: bool = False  # P-POL-7: enables support of discontinued products
    office_hours_total: Decimal = _ZERO  # R-POOLS: in-office advice, a pool apart from on-site advice
    office_hours_used: Decimal = _ZERO
    # R-EVENT: the ticket a per-event contract covers (its number), and whether it was resolved since.
    event_ticket: str | None = None
    event_resolved: bool = False

    def __post_init__(self) -> None:
        if not self.number.strip():
            raise InvalidInput("a contract needs a number")
        if not isinstance(self.tier, Tier):
            raise InvalidInput(f"not a tier: {self.tier!r}")
        if self.ends_on < self.starts_on:
            raise InvalidInput(f"contract {self.number} ends ({self.ends_on}) before it starts")
        # The invariant that makes "never silently negative" hold: used stays within 0..total.
        for used, total, what in (
            (self.hours_used, self.hours_total, "hours"),
            (self.onsite_hours_used, self.onsite_hours_total, "on-site advice hours"),
            (self.office_hours_used, self.office_hours_total, "in-office advice hours"),
        ):
            if not (isinstance(used, Decimal) and isinstance(total, Decimal)):
                raise InvalidHours(f"{what} must be Decimal (use to_hours)")
            if total < 0 or used < 0 or used > total:
                raise InvalidHours(f"{what}: used {used} of {total} is impossible")
        if self.hours_total == 0:
            raise InvalidHours("a contract needs some hours")

    @classmethod
    def new(
        cls,
        number: str,
        tier: Tier,
        starts_on: date,
        *,
        rules: TierRules = DEFAULT_TIER_RULES,
        ends_on: date | None = None,
        purchase_order: str | None = None,
        special_eol_support: bool = False,
    ) -> Contract:
        """A fresh contract with the tier's hours and a one-year validity unless `ends_on` is given."""
        terms = rules[tier]
        return cls(
            number=number,
            tier=tier,
            starts_on=starts_on,
            ends_on=default_end(starts_on) if ends_on is None else ends_on,
            hours_total=terms.hours,
            onsite_hours_total=terms.onsite_hours,
            office_hours_total=terms.office_hours,
            purchase_order=purchase_order,
            special_eol_support=special_eol_support,
        )

    @property
    def hours_left(self) -> Decimal:
        """Remote hours still in the yearly budget."""
        return self.hours_total - self.hours_used

    @property
    def onsite_hours_left(self) -> Decimal:
        """Included on-site advice hours still available (P-POL-6, R-POOLS)."""
        return self.onsite_hours_total - self.onsite_hours_used

    @property
    def office_hours_left(self) -> Decimal:
        """Included in-office advice hours still available (P-POL-6, R-POOLS)."""
        return self.office_hours_total - self.office_hours_used

    @property
    def percent_left(self) -> Decimal:
        """Share of the yearly hours left, 0..100."""
        return self.hours_left * _HUNDRED / self.hours_total

    def is_low(self, threshold_percent: Decimal | float | int = DEFAULT_LOW_HOURS_PERCENT) -> bool:
        """True when at most `threshold_percent` of the hours are left (time to offer a renewal)."""
        threshold = to_hours(threshold_percent)
        if not _ZERO <= threshold <= _HUNDRED:
            raise InvalidInput(f"threshold must be within 0..100, got {threshold_percent!r}")
        return self.percent_left <= threshold

    def status(self, today: date) -> ContractStatus:
        """P-POL-2: active iff starts_on <= today <= ends_on and hours are left.

        When a contract is both past its end and out of hours, EXPIRED wins: the date is the
        firmer fact and what a renewal fixes. R-EVENT: a per-event contract ("Vigencia 1 evento") covers
        one ticket: while that ticket is open it is in use, once resolved it is used up, whatever the dates
        (its end date only bounds when the event may be opened).
        """
        if today < self.starts_on:
            return ContractStatus.NOT_STARTED
        if self.tier is Tier.PER_EVENT and self.event_ticket is not None:
            return ContractStatus.EVENT_USED if self.event_resolved else ContractStatus.EVENT_IN_USE
        if today > self.ends_on:
            return ContractStatus.EXPIRED
        if self.hours_left <= 0:
            return ContractStatus.EXHAUSTED
        return ContractStatus.ACTIVE

    def is_active(self, today: date) -> bool:
        """P-POL-2 validity on `today`."""
        return self.status(today) is ContractStatus.ACTIVE


@dataclass(frozen=True)
class Product:
    """A product or service the company provided to the client."""

    name: str
    area: ServiceArea
    warranty_until: date | None = None
    discontinued: bool = False  # P-POL-7: end of life

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InvalidInput("a product needs a name")
        if not isinstance(self.area, ServiceArea):
            raise InvalidInput(f"not a service area: {self.area!r}")

    def in_warranty(self, today: date) -> bool:
        """Inside the warranty period on `today` (the last day included)."""
        return self.warranty_until is not None and today <= self.warranty_until


@dataclass(frozen=True)
class Deduction:
    """What recording worked hours did to a contract; nothing is ever taken silently.

    `covered` came from the contract (yearly budget or included advice hours), `overage` is remote
    time the yearly budget could not cover, `billed_extra_hours` is advice time beyond the included
    hours (P-POL-6: billed by the hour) or, on a per-event contract, time beyond its one hour (R-EVENT).
    """

    contract: Contract
    kind: HoursKind
    requested: Decimal
    covered: Decimal
    overage: Decimal
    billed_extra_hours: Decimal

    @property
    def exhausted(self) -> bool:
        """The yearly budget is used up after this deduction (the contract ends, P-POL-2)."""
        return self.contract.hours_left <= 0


def deduct(
    contract: Contract,
    hours: Decimal | float | int | str,
    kind: HoursKind,
    *,
    rules: TierRules = DEFAULT_TIER_RULES,
) -> Deduction:
    """Record `hours` of work of `kind` against the contract.

    Remote hours come from the yearly budget; what the budget cannot cover is `overage` and the
    contract is left exhausted. In-office hours come first from the included in-office hours, on-site
    hours from the included on-site hours (P-POL-6, R-POOLS: two pools); the rest is `billed_extra_hours`
    and does not touch the yearly budget, because the policy prices advice separately ("la asesoría
    adicional se cobra por hora").
    A one-event contract ("por evento") is spent by its remote event whatever the event took: the
    client bought an event, not a balance; remote time beyond its one hour is billed (R-EVENT).
    `rules` gives the tier's validity.
    """
    amount = to_hours(hours)
    if amount <= 0:
        raise InvalidHours(f"hours to deduct must be positive, got {hours!r}")
    if not isinstance(kind, HoursKind):
        raise InvalidInput(f"not an hours kind: {kind!r}")
    if kind is HoursKind.REMOTE:
        covered = min(amount, contract.hours_left)
        used = contract.hours_used + covered
        one_event = rules[contract.tier].validity is Validity.ONE_EVENT
        if one_event:
            used = contract.hours_total
        return Deduction(
            contract=replace(contract, hours_used=used),
            kind=kind,
            requested=amount,
            covered=covered,
            overage=_ZERO if one_event else amount - covered,
            billed_extra_hours=amount - covered if one_event else _ZERO,
        )
    if kind is HoursKind.IN_OFFICE:
        covered = min(amount, contract.office_hours_left)
        changed = replace(contract, office_hours_used=contract.office_hours_used + covered)
    else:
        covered = min(amount, contract.onsite_hours_left)
        changed = replace(contract, onsite_hours_used=contract.onsite_hours_used + covered)
    return Deduction(
        contract=changed,
        kind=kind,
        requested=amount,
        covered=covered,
        overage=_ZERO,
        billed_extra_hours=amount - covered,
    )


@dataclass(frozen=True)
class Certificate:
    """P-POL-8: contract number, tier, validity and the products covered."""

    number: str
    tier: Tier
    validity: Validity
    starts_on: date
    ends_on: date
    hours_total: Decimal
    onsite_hours_total: Decimal
    products: tuple[Product, ...]
    office_hours_total: Decimal = _ZERO


def certificate(
    contract: Contract, products: Iterable[Product], *, rules: TierRules = DEFAULT_TIER_RULES
) -> Certificate:
    """The contract's certificate (P-POL-8); products are listed once each, in the order given."""
    listed: list[Product] = []
    for product in products:
        if not isinstance(product, Product):
            raise InvalidInput(f"not a product: {product!r}")
        if product not in listed:
            listed.append(product)
    return Certificate(
        number=contract.number,
        tier=contract.tier,
        validity=rules[contract.tier].validity,
        starts_on=contract.starts_on,
        ends_on=contract.ends_on,
        hours_total=contract.hours_total,
        onsite_hours_total=contract.onsite_hours_total,
        products=tuple(listed),
        office_hours_total=contract.office_hours_total,
    )
