"""Entitlement (P-POL-1, 3..7): free, charged or refused, with the reason and where the client goes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.contracts import Contract, Product
from bot.domain.entitlement import Basis, Outcome, Referral, RefusalReason, decide_entitlement, warranty_candidates
from bot.domain.types import ServiceArea, Tier

START = date(2026, 3, 15)
TODAY = date(2026, 11, 24)
IN_WARRANTY = {"warranty_until": TODAY}  # the last day of warranty still counts
OUT_OF_WARRANTY = {"warranty_until": TODAY - timedelta(days=1)}


def contract(tier: Tier = Tier.BUSINESS, **changes: Any) -> Contract:
    return replace(Contract.new("POL-001", tier, START), **changes)


def product(**changes: Any) -> Product:
    return replace(Product("FortiGate 60F", ServiceArea.FIREWALL), **changes)


ACTIVE = contract()
EXPIRED = contract(ends_on=TODAY - timedelta(days=1))
EXHAUSTED = contract(hours_used=Decimal(20))
NOT_STARTED = contract(starts_on=TODAY + timedelta(days=1), ends_on=TODAY + timedelta(days=365))
SPECIAL = contract(special_eol_support=True)
SPECIAL_EXPIRED = replace(EXPIRED, special_eol_support=True)
PER_EVENT = contract(Tier.PER_EVENT)
PER_EVENT_WITH_PO = contract(Tier.PER_EVENT, purchase_order="OC-778")
EVENT_IN_USE = contract(Tier.PER_EVENT, purchase_order="OC-4471", event_ticket="SOP-2026-000001")
EVENT_USED = replace(EVENT_IN_USE, event_resolved=True)
CHARGED = (Outcome.ALLOWED_CHARGED, None, None, "P-POL-5")
FREE_SPEC = (Outcome.ALLOWED_FREE, None, None, "P-POL-4")


def _refused(reason: RefusalReason, referral: Referral, rule: str) -> tuple[Any, ...]:
    return (Outcome.REFUSED, reason, referral, rule)


ENTITLEMENT_CASES: list[Any] = [
    pytest.param(ACTIVE, product(**OUT_OF_WARRANTY), False, None, False, CHARGED, id="P-POL-5-after-warranty"),
    pytest.param(ACTIVE, product(**IN_WARRANTY), False, None, False, CHARGED, id="P-POL-5-misuse-in-warranty"),
    pytest.param(ACTIVE, None, True, None, False, CHARGED, id="P-POL-5-unknown-product-charged"),
    pytest.param(ACTIVE, product(), True, None, False, CHARGED, id="P-POL-5-no-warranty-date"),
    pytest.param(ACTIVE, product(**IN_WARRANTY), True, None, False, FREE_SPEC, id="P-POL-4-spec-failure"),
    pytest.param(None, product(**IN_WARRANTY), True, None, False, FREE_SPEC, id="P-POL-4-free-without-contract"),
    pytest.param(EXPIRED, product(**IN_WARRANTY), True, None, False, FREE_SPEC, id="P-POL-4-free-expired"),
    pytest.param(
        None,
        product(**IN_WARRANTY),
        False,
        None,
        True,
        _refused(RefusalReason.NO_CONTRACT, Referral.SALES, "P-POL-3"),
        id="R-WARRANTY-usage-question-in-warranty-without-contract-to-sales",
    ),
    pytest.param(
        ACTIVE, product(**IN_WARRANTY), False, None, True, CHARGED, id="R-WARRANTY-usage-question-in-warranty-charged"
    ),
    pytest.param(
        EXPIRED,
        product(**IN_WARRANTY),
        False,
        None,
        False,
        _refused(RefusalReason.EXPIRED, Referral.SALES, "P-POL-3"),
        id="R-WARRANTY-misuse-in-warranty-expired-to-sales",
    ),
    pytest.param(
        EVENT_IN_USE,
        product(),
        True,
        "OC-4471",
        False,
        _refused(RefusalReason.EVENT_IN_USE, Referral.SALES, "R-EVENT"),
        id="R-EVENT-one-ticket-open-second-refused",
    ),
    pytest.param(
        EVENT_USED,
        product(),
        True,
        "OC-4471",
        False,
        _refused(RefusalReason.EVENT_USED, Referral.SALES, "R-EVENT"),
        id="R-EVENT-used-up-once-resolved",
    ),
    pytest.param(EVENT_USED, product(**IN_WARRANTY), True, None, False, FREE_SPEC, id="R-EVENT-warranty-still-free"),
    pytest.param(
        ACTIVE,
        product(**OUT_OF_WARRANTY),
        False,
        None,
        True,
        CHARGED,
        id="P-POL-5-usage-question-after-warranty",
    ),
    pytest.param(
        None,
        product(**OUT_OF_WARRANTY),
        True,
        None,
        False,
        _refused(RefusalReason.NO_CONTRACT, Referral.SALES, "P-POL-3"),
        id="P-POL-3-no-contract",
    ),
    pytest.param(
        EXPIRED,
        product(),
        False,
        None,
        False,
        _refused(RefusalReason.EXPIRED, Referral.SALES, "P-POL-3"),
        id="P-POL-3-expired-to-sales",
    ),
    pytest.param(
        EXHAUSTED,
        product(),
        False,
        None,
        False,
        _refused(RefusalReason.HOURS_EXHAUSTED, Referral.SALES, "P-POL-3"),
        id="P-POL-3-exhausted-to-sales",
    ),
    pytest.param(
        NOT_STARTED,
        product(),
        False,
        None,
        False,
        _refused(RefusalReason.NOT_STARTED, Referral.WAIT_FOR_START, "P-POL-3"),
        id="P-POL-2-not-started",
    ),
    pytest.param(
        ACTIVE,
        product(discontinued=True),
        False,
        None,
        False,
        _refused(RefusalReason.DISCONTINUED_PRODUCT, Referral.SALES, "P-POL-7"),
        id="P-POL-7-discontinued",
    ),
    pytest.param(
        None,
        product(discontinued=True, **IN_WARRANTY),
        True,
        None,
        False,
        _refused(RefusalReason.DISCONTINUED_PRODUCT, Referral.SALES, "P-POL-7"),
        id="P-POL-7-discontinued-even-in-warranty",
    ),
    pytest.param(SPECIAL, product(discontinued=True), False, None, False, CHARGED, id="P-POL-7-special-contract"),
    pytest.param(
        SPECIAL,
        product(discontinued=True, **IN_WARRANTY),
        True,
        None,
        False,
        FREE_SPEC,
        id="P-POL-7-special-free",
    ),
    pytest.param(
        SPECIAL_EXPIRED,
        product(discontinued=True, **IN_WARRANTY),
        True,
        None,
        False,
        _refused(RefusalReason.EXPIRED, Referral.SALES, "P-POL-7"),
        id="P-POL-7-special-contract-expired",
    ),
    pytest.param(
        PER_EVENT,
        product(),
        False,
        None,
        False,
        _refused(RefusalReason.PURCHASE_ORDER_REQUIRED, Referral.PURCHASE_ORDER, "P-POL-1"),
        id="P-POL-1-per-event-needs-po",
    ),
    pytest.param(
        PER_EVENT,
        product(),
        False,
        "  ",
        False,
        _refused(RefusalReason.PURCHASE_ORDER_REQUIRED, Referral.PURCHASE_ORDER, "P-POL-1"),
        id="P-POL-1-per-event-blank-po",
    ),
    pytest.param(PER_EVENT, product(), False, "OC-1", False, CHARGED, id="P-POL-1-per-event-po-given"),
    pytest.param(PER_EVENT_WITH_PO, product(), False, None, False, CHARGED, id="P-POL-1-per-event-po-on-contract"),
    pytest.param(
        PER_EVENT_WITH_PO, product(), False, " ", False, CHARGED, id="P-POL-1-blank-po-given-contract-po-counts"
    ),
    pytest.param(PER_EVENT, product(**IN_WARRANTY), True, None, False, FREE_SPEC, id="P-POL-4-warranty-needs-no-po"),
]


@pytest.mark.parametrize(("c", "p", "fails_spec", "po", "usage", "expected"), ENTITLEMENT_CASES)
def test_decide_entitlement(
    c: Contract | None,
    p: Product | None,
    fails_spec: bool,
    po: str | None,
    usage: bool,
    expected: tuple[Any, ...],
) -> None:
    decision = decide_entitlement(
        c, p, TODAY, fails_documented_spec=fails_spec, purchase_order=po, usage_question=usage
    )
    assert (decision.outcome, decision.reason, decision.referral, decision.rule) == expected
    assert decision.allowed is (decision.outcome is not Outcome.REFUSED)
    assert decision.charged is (decision.outcome is Outcome.ALLOWED_CHARGED)
    assert (decision.basis is None) is (decision.outcome is Outcome.REFUSED)


def test_entitlement_bases() -> None:
    in_warranty = product(**IN_WARRANTY)
    spec = decide_entitlement(None, in_warranty, TODAY, fails_documented_spec=True, purchase_order=None)
    paid = decide_entitlement(ACTIVE, None, TODAY, fails_documented_spec=False, purchase_order=None)
    assert (spec.basis, paid.basis) == (Basis.WARRANTY_SPEC_FAILURE, Basis.CONTRACT)


def test_r_warranty_a_usage_question_is_never_free() -> None:
    """R-WARRANTY: "dudas" take the contract route even inside the warranty (the old reading made them free),
    and no contract means sales, even when the caller also says the spec failed."""
    in_warranty = product(**IN_WARRANTY)
    without = decide_entitlement(
        None, in_warranty, TODAY, fails_documented_spec=True, purchase_order=None, usage_question=True
    )
    with_contract = decide_entitlement(
        ACTIVE, in_warranty, TODAY, fails_documented_spec=False, purchase_order=None, usage_question=True
    )
    assert (without.outcome, without.reason) == (Outcome.REFUSED, RefusalReason.NO_CONTRACT)
    assert with_contract.outcome is Outcome.ALLOWED_CHARGED


def test_r_warranty_candidates_are_registered_in_warranty_and_not_discontinued() -> None:
    """R-WARRANTY: the free route is open without a contract only for such a product."""
    good = product(**IN_WARRANTY)
    candidates = [good, product(**OUT_OF_WARRANTY), product(), product(discontinued=True, **IN_WARRANTY)]
    assert warranty_candidates(candidates, TODAY) == (good,)
    assert warranty_candidates(candidates, TODAY + timedelta(days=1)) == ()


def test_warranty_ends_after_its_last_day() -> None:
    """P-POL-4: the day after warranty_until the same failure is charged."""
    p = product(warranty_until=TODAY)
    tomorrow = TODAY + timedelta(days=1)
    free = decide_entitlement(ACTIVE, p, TODAY, fails_documented_spec=True, purchase_order=None)
    paid = decide_entitlement(ACTIVE, p, tomorrow, fails_documented_spec=True, purchase_order=None)
    assert (free.outcome, paid.outcome) == (Outcome.ALLOWED_FREE, Outcome.ALLOWED_CHARGED)


_contracts = st.one_of(
    st.none(),
    st.builds(
        contract,
        tier=st.sampled_from(list(Tier)),
        starts_on=st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 1, 1)),
        ends_on=st.just(date(2027, 6, 30)),
        hours_used=st.sampled_from([Decimal(0), Decimal("0.5")]),
        special_eol_support=st.booleans(),
        purchase_order=st.sampled_from([None, "", "OC-9"]),
    ),
)
_products = st.one_of(
    st.none(),
    st.builds(
        product,
        warranty_until=st.one_of(st.none(), st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 1, 1))),
        discontinued=st.booleans(),
    ),
)


@settings(max_examples=300, deadline=None)
@given(
    c=_contracts,
    p=_products,
    today=st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 1, 1)),
    fails_spec=st.booleans(),
    usage=st.booleans(),
    po=st.sampled_from([None, "OC-1"]),
)
def test_entitlement_invariants(
    c: Contract | None, p: Product | None, today: date, fails_spec: bool, usage: bool, po: str | None
) -> None:
    """P-POL-3..7 whatever the mix: charged needs an active contract, free needs warranty, refusals say why."""
    decision = decide_entitlement(
        c, p, today, fails_documented_spec=fails_spec, purchase_order=po, usage_question=usage
    )
    eol_enabled = c is not None and c.special_eol_support and c.is_active(today)
    if p is not None and p.discontinued and not eol_enabled:
        assert decision.outcome is Outcome.REFUSED
    if decision.outcome is Outcome.ALLOWED_CHARGED:
        assert c is not None and c.is_active(today)
    if decision.outcome is Outcome.ALLOWED_FREE:
        assert p is not None and p.in_warranty(today) and fails_spec and not usage
    if decision.outcome is Outcome.REFUSED:
        assert decision.reason is not None and decision.referral is not None
    else:
        assert decision.reason is None and decision.referral is None
