"""Entitlement (P-POL-1, 3..7, R-WARRANTY, R-EVENT): one decision on whether a client gets support, free or
charged, or why not."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from types import MappingProxyType

from bot.domain.contracts import DEFAULT_TIER_RULES, Contract, ContractStatus, Product, TierRules

__all__ = [
    "Basis",
    "Entitlement",
    "Outcome",
    "Referral",
    "RefusalReason",
    "decide_entitlement",
    "warranty_candidates",
]


class Outcome(StrEnum):
    """The entitlement decision."""

    ALLOWED_CHARGED = "allowed_charged"
    ALLOWED_FREE = "allowed_free"
    REFUSED = "refused"


class RefusalReason(StrEnum):
    """Why support is refused."""

    NO_CONTRACT = "no_contract"
    NOT_STARTED = "not_started"
    EXPIRED = "expired"
    HOURS_EXHAUSTED = "hours_exhausted"
    DISCONTINUED_PRODUCT = "discontinued_product"
    PURCHASE_ORDER_REQUIRED = "purchase_order_required"
    EVENT_IN_USE = "event_in_use"  # R-EVENT: the per-event contract's one ticket is open
    EVENT_USED = "event_used"  # R-EVENT: the per-event contract's one ticket was resolved


class Referral(StrEnum):
    """Where a refused client is sent next."""

    SALES = "sales"  # P-POL-3 renewal / new contract, P-POL-7 special contract
    PURCHASE_ORDER = "purchase_order"  # P-POL-1: the client issues a purchase order, then asks again
    WAIT_FOR_START = "wait_for_start"  # the contract exists but starts later; the bot says when


class Basis(StrEnum):
    """Why support is allowed."""

    WARRANTY_SPEC_FAILURE = "warranty_spec_failure"  # P-POL-4, R-WARRANTY
    CONTRACT = "contract"  # P-POL-5


@dataclass(frozen=True)
class Entitlement:
    """One decision: allowed (charged or free, with its basis) or refused (with reason and referral)."""

    outcome: Outcome
    rule: str
    basis: Basis | None = None
    reason: RefusalReason | None = None
    referral: Referral | None = None

    @property
    def allowed(self) -> bool:
        """Support may go ahead (a ticket may be opened)."""
        return self.outcome is not Outcome.REFUSED

    @property
    def charged(self) -> bool:
        """Hours are deducted for this support."""
        return self.outcome is Outcome.ALLOWED_CHARGED


_CONTRACT_REFUSALS: Mapping[ContractStatus, tuple[RefusalReason, Referral]] = MappingProxyType(
    {
        ContractStatus.NOT_STARTED: (RefusalReason.NOT_STARTED, Referral.WAIT_FOR_START),
        ContractStatus.EXPIRED: (RefusalReason.EXPIRED, Referral.SALES),
        ContractStatus.EXHAUSTED: (RefusalReason.HOURS_EXHAUSTED, Referral.SALES),
        # R-EVENT: another event needs another purchase order, which sales turns into a new contract.
        ContractStatus.EVENT_IN_USE: (RefusalReason.EVENT_IN_USE, Referral.SALES),
        ContractStatus.EVENT_USED: (RefusalReason.EVENT_USED, Referral.SALES),
    }
)


_EVENT_REASONS = frozenset({RefusalReason.EVENT_IN_USE, RefusalReason.EVENT_USED})


def _refused(reason: RefusalReason, referral: Referral, rule: str) -> Entitlement:
    return Entitlement(Outcome.REFUSED, rule, reason=reason, referral=referral)


def warranty_candidates(products: Iterable[Product], today: date) -> tuple[Product, ...]:
    """R-WARRANTY: the registered products that could get free support today (inside their warranty and not
    discontinued): without one, a client with no active contract has no route at all."""
    return tuple(p for p in products if p.in_warranty(today) and not p.discontinued)


def decide_entitlement(
    contract: Contract | None,
    product: Product | None,
    today: date,
    *,
    fails_documented_spec: bool,
    purchase_order: str | None,
    usage_question: bool = False,
    rules: TierRules = DEFAULT_TIER_RULES,
) -> Entitlement:
    """Whether the client gets support for `product` on `today`, and whether it costs hours.

    Decisions taken from the policy text (seed, "Condiciones para recibir Soporte Técnico gratuito") as read
    in R-WARRANTY:

    * Two routes. Warranty support needs no contract: the text offers "Soporte Técnico gratuito (bajo ciertas
      condiciones)" next to, not inside, "Soporte Técnico que derive de la contratación de las pólizas"; the
      free case is the company failing its own documented specification (a registered, non-discontinued
      product inside its warranty, severities 1-3 caused by the product), which a missing contract cannot
      excuse. P-POL-3's "póliza vigente" governs the contract route.
    * Usage questions, misuse and third-party causes are never free (R-WARRANTY: "Errores derivados de un uso
      incorrecto … dentro y fuera del periodo de garantía"): they take the contract route, or are refused
      (sales) without one. Pass `fails_documented_spec=False` for misuse and third-party changes, and
      `usage_question=True` for a question, a suggestion or a documentation clarification.
    * A discontinued product gets nothing, not even warranty support ("no poseen ninguna clase de
      soporte"), unless the client has a special contract (P-POL-7), which must itself be active.
    * An unknown product (None) cannot be shown to be in warranty: support is charged to the contract.
    * "Por evento" needs a purchase order (P-POL-1): the one on the contract or the one given now; it covers
      one ticket (R-EVENT: the contract's status says when that ticket is open or resolved).
    """
    if product is not None and product.discontinued:
        if contract is None or not contract.special_eol_support:
            return _refused(RefusalReason.DISCONTINUED_PRODUCT, Referral.SALES, "P-POL-7")
        status = contract.status(today)
        if status is not ContractStatus.ACTIVE:
            reason, referral = _CONTRACT_REFUSALS[status]
            return _refused(reason, referral, "P-POL-7")
    if product is not None and product.in_warranty(today) and fails_documented_spec and not usage_question:
        return Entitlement(Outcome.ALLOWED_FREE, "P-POL-4", basis=Basis.WARRANTY_SPEC_FAILURE)
    if contract is None:
        return _refused(RefusalReason.NO_CONTRACT, Referral.SALES, "P-POL-3")
    status = contract.status(today)
    if status is not ContractStatus.ACTIVE:
        reason, referral = _CONTRACT_REFUSALS[status]
        return _refused(reason, referral, "R-EVENT" if reason in _EVENT_REASONS else "P-POL-3")
    if rules[contract.tier].needs_purchase_order:
        given = [po for po in (purchase_order, contract.purchase_order) if po is not None and po.strip()]
        if not given:
            return _refused(RefusalReason.PURCHASE_ORDER_REQUIRED, Referral.PURCHASE_ORDER, "P-POL-1")
    return Entitlement(Outcome.ALLOWED_CHARGED, "P-POL-5", basis=Basis.CONTRACT)
