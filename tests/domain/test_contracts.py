"""Contracts (P-POL-1, 2, 6, 8): tier table, validity, hours deduction and certificate."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.contracts import (
    DEFAULT_TIER_RULES,
    Contract,
    ContractStatus,
    Product,
    TierRules,
    Validity,
    certificate,
    deduct,
    default_end,
    purchase_order_key,
    to_hours,
)
from bot.domain.errors import InvalidHours, InvalidInput
from bot.domain.types import HoursKind, ServiceArea, Tier

START = date(2026, 3, 15)
TODAY = date(2026, 11, 24)


def contract(tier: Tier = Tier.BUSINESS, **changes: Any) -> Contract:
    return replace(Contract.new("POL-001", tier, START), **changes)


def product(**changes: Any) -> Product:
    return replace(Product("FortiGate 60F", ServiceArea.FIREWALL), **changes)


IN_WARRANTY = {"warranty_until": TODAY}  # the last day of warranty still counts
OUT_OF_WARRANTY = {"warranty_until": TODAY - timedelta(days=1)}

ACTIVE = contract()
EXHAUSTED = contract(hours_used=Decimal(20))
PER_EVENT_WITH_PO = contract(Tier.PER_EVENT, purchase_order="OC-778")
D = Decimal
DEFAULT_TIER_RULES_HOURS = {tier: DEFAULT_TIER_RULES[tier].hours for tier in Tier}

# ---------------------------------------------------------------- tier table (P-POL-1, P-POL-6)


@pytest.mark.parametrize(
    ("tier", "hours", "onsite", "validity"),
    [
        pytest.param(Tier.PER_EVENT, 1, 0, Validity.ONE_EVENT, id="P-POL-1-por-evento"),
        pytest.param(Tier.BASIC, 5, 0, Validity.ONE_YEAR, id="P-POL-1-basica"),
        pytest.param(Tier.BUSINESS, 20, 0, Validity.ONE_YEAR, id="P-POL-1-empresarial"),
        pytest.param(Tier.BUSINESS_PLUS, 50, 3, Validity.ONE_YEAR, id="P-POL-1-P-POL-6-empresarial-plus"),
        pytest.param(Tier.CORPORATE, 70, 5, Validity.ONE_YEAR, id="P-POL-1-P-POL-6-corporativo"),
    ],
)
def test_default_tier_table(tier: Tier, hours: int, onsite: int, validity: Validity) -> None:
    terms = DEFAULT_TIER_RULES[tier]
    assert (terms.hours, terms.onsite_hours, terms.validity) == (D(hours), D(onsite), validity)
    assert terms.office_hours == D(onsite)  # R-POOLS: in-office advice has as many hours, apart
    assert terms.needs_purchase_order is (tier is Tier.PER_EVENT)
    fresh = Contract.new("X-1", tier, START)
    assert (fresh.hours_total, fresh.onsite_hours_total, fresh.hours_used) == (D(hours), D(onsite), D(0))


def test_tier_rules_from_settings_override() -> None:
    hours = {
        Tier.PER_EVENT: 1,
        Tier.BASIC: 6,
        Tier.BUSINESS: 22.5,
        Tier.BUSINESS_PLUS: 50,
        Tier.CORPORATE: 80,
    }
    rules = TierRules.from_mapping(hours, {Tier.CORPORATE: 8})
    assert rules[Tier.BUSINESS].hours == Decimal("22.5")
    assert rules[Tier.CORPORATE].onsite_hours == 8
    assert rules[Tier.BUSINESS_PLUS].onsite_hours == 0
    assert Contract.new("X", Tier.BASIC, START, rules=rules).hours_total == 6


@pytest.mark.parametrize(
    ("hours", "onsite"),
    [
        pytest.param({Tier.BASIC: 5}, {}, id="missing-tiers"),
        pytest.param({**{t: 5 for t in Tier}, Tier.BASIC: 0}, {}, id="zero-hours"),
        pytest.param({**{t: 5 for t in Tier}, Tier.BASIC: -1}, {}, id="negative-hours"),
        pytest.param({t: 5 for t in Tier}, {Tier.CORPORATE: -1}, id="negative-onsite"),
        pytest.param({t: 5 for t in Tier if t is not Tier.BASIC}, {Tier.BASIC: 1}, id="onsite-unknown-tier"),
        pytest.param({**{t: 5 for t in Tier}, Tier.BASIC: float("nan")}, {}, id="nan-hours"),
    ],
)
def test_tier_rules_refuse_bad_tables(hours: dict[Tier, float], onsite: dict[Tier, float]) -> None:
    with pytest.raises(InvalidInput):
        TierRules.from_mapping(hours, onsite)


# ---------------------------------------------------------------- validity (P-POL-2)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        pytest.param(date(2026, 3, 15), date(2027, 3, 14), id="P-POL-2-one-year"),
        pytest.param(date(2024, 2, 29), date(2025, 2, 28), id="P-POL-2-leap-day-start"),
        pytest.param(date(2023, 3, 1), date(2024, 2, 29), id="P-POL-2-ends-on-leap-day"),
        pytest.param(date(2026, 1, 1), date(2026, 12, 31), id="P-POL-2-calendar-year"),
    ],
)
def test_default_end(start: date, end: date) -> None:
    assert default_end(start) == end


@settings(max_examples=300, deadline=None)
@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)))
def test_default_end_is_one_year_to_the_day(start: date) -> None:
    """P-POL-2: 365 or 366 days, and the next day is the anniversary (1 Mar for a 29 Feb start)."""
    end = default_end(start)
    assert (end - start).days + 1 in (365, 366)
    anniversary = end + timedelta(days=1)
    assert anniversary.year == start.year + 1
    if (start.month, start.day) == (2, 29):
        assert (anniversary.month, anniversary.day) == (3, 1)
    else:
        assert (anniversary.month, anniversary.day) == (start.month, start.day)


def test_default_end_refuses_zero_years() -> None:
    with pytest.raises(InvalidInput):
        default_end(START, years=0)


@pytest.mark.parametrize(
    ("today", "changes", "status"),
    [
        pytest.param(START - timedelta(days=1), {}, ContractStatus.NOT_STARTED, id="P-POL-2-before-start"),
        pytest.param(START, {}, ContractStatus.ACTIVE, id="P-POL-2-first-day"),
        pytest.param(date(2027, 3, 14), {}, ContractStatus.ACTIVE, id="P-POL-2-last-day"),
        pytest.param(date(2027, 3, 15), {}, ContractStatus.EXPIRED, id="P-POL-2-day-after-end"),
        pytest.param(TODAY, {"hours_used": Decimal(20)}, ContractStatus.EXHAUSTED, id="P-POL-2-hours-used-up"),
        pytest.param(
            date(2027, 4, 1),
            {"hours_used": Decimal(20)},
            ContractStatus.EXPIRED,
            id="P-POL-2-both-expired-wins",
        ),
    ],
)
def test_contract_status(today: date, changes: dict[str, Any], status: ContractStatus) -> None:
    c = contract(**changes)
    assert c.status(today) is status
    assert c.is_active(today) is (status is ContractStatus.ACTIVE)


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"number": " "}, id="blank-number"),
        pytest.param({"ends_on": START - timedelta(days=1)}, id="ends-before-start"),
        pytest.param({"hours_used": Decimal(21)}, id="used-over-total"),
        pytest.param({"hours_used": Decimal(-1)}, id="negative-used"),
        pytest.param({"onsite_hours_used": Decimal(1)}, id="onsite-used-over-zero-total"),
        pytest.param({"office_hours_used": Decimal(1)}, id="office-used-over-zero-total"),
        pytest.param({"hours_total": Decimal(0)}, id="no-hours"),
        pytest.param({"hours_used": 1.5}, id="float-hours"),
        pytest.param({"tier": "basica"}, id="raw-string-tier"),
    ],
)
def test_contract_refuses_impossible_values(changes: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        contract(**changes)


@pytest.mark.parametrize(
    ("used", "left", "percent", "low"),
    [
        pytest.param("0", "20", "100", False, id="fresh"),
        pytest.param("7.5", "12.5", "62.5", False, id="P-POL-2-half-used"),
        pytest.param("15.9", "4.1", "20.5", False, id="just-above-threshold"),
        pytest.param("16", "4", "20", True, id="at-threshold-is-low"),
        pytest.param("20", "0", "0", True, id="exhausted-is-low"),
    ],
)
def test_hours_left_percent_and_low(used: str, left: str, percent: str, low: bool) -> None:
    c = contract(hours_used=Decimal(used))
    assert c.hours_left == Decimal(left)
    assert c.percent_left == Decimal(percent)
    assert c.is_low() is low


def test_is_low_threshold_is_a_parameter() -> None:
    c = contract(hours_used=Decimal(10))
    assert c.is_low(50) is True
    assert c.is_low(49.9) is False


@pytest.mark.parametrize("bad", [-1, 101, float("nan")])
def test_is_low_refuses_bad_threshold(bad: float) -> None:
    with pytest.raises(InvalidInput):
        contract().is_low(bad)


def test_product_refuses_blank_name_and_raw_area() -> None:
    with pytest.raises(InvalidInput):
        Product(" ", ServiceArea.FIREWALL)
    with pytest.raises(InvalidInput):
        Product("X", "firewall")  # type: ignore[arg-type]


# ---------------------------------------------------------------- hours (P-POL-2, P-POL-6)


def test_p_pol_2_remote_hours_come_from_the_yearly_budget() -> None:
    result = deduct(contract(hours_used=Decimal("7.5")), Decimal("2.5"), HoursKind.REMOTE)
    assert (result.covered, result.overage, result.billed_extra_hours) == (D("2.5"), D(0), D(0))
    assert result.contract.hours_left == Decimal(10)
    assert result.exhausted is False


def test_p_pol_2_overage_is_reported_and_contract_exhausted() -> None:
    """Never silently negative: 3 h against 2 h left covers 2, reports 1 over, and the contract ends."""
    result = deduct(contract(hours_used=Decimal(18)), 3, HoursKind.REMOTE)
    assert (result.requested, result.covered, result.overage) == (D(3), D(2), D(1))
    assert result.contract.hours_left == 0
    assert result.exhausted is True
    assert result.contract.status(TODAY) is ContractStatus.EXHAUSTED


def test_deduct_on_exhausted_contract_covers_nothing() -> None:
    result = deduct(EXHAUSTED, 1, HoursKind.REMOTE)
    assert (result.covered, result.overage, result.contract.hours_used) == (D(0), D(1), D(20))


def _left(c: Contract, kind: HoursKind) -> Decimal:
    return c.office_hours_left if kind is HoursKind.IN_OFFICE else c.onsite_hours_left


@pytest.mark.parametrize("kind", [HoursKind.IN_OFFICE, HoursKind.ON_SITE])
def test_p_pol_6_advice_hours_use_included_hours_first_then_billed(kind: HoursKind) -> None:
    c = contract(Tier.CORPORATE)  # 5 included hours of each kind of advice
    first = deduct(c, 4, kind)
    assert (first.covered, first.billed_extra_hours, _left(first.contract, kind)) == (D(4), D(0), D(1))
    second = deduct(first.contract, "2.5", kind)
    assert (second.covered, second.billed_extra_hours) == (D(1), D("1.5"))
    assert _left(second.contract, kind) == 0
    assert second.contract.hours_used == 0, "advice hours do not touch the yearly budget"
    assert second.overage == 0


@pytest.mark.parametrize(
    ("tier", "each"),
    [pytest.param(Tier.BUSINESS_PLUS, 3, id="R-POOLS-empresarial-plus-3h-each"),
     pytest.param(Tier.CORPORATE, 5, id="R-POOLS-corporativo-5h-each")],
)  # fmt: skip
def test_r_pools_in_office_and_on_site_are_two_pools(tier: Tier, each: int) -> None:
    """R-POOLS, P-POL-6: the seed's table gives "(3hr.)" / "(5hr.)" to each of the two services. Using up
    the in-office hours leaves every on-site hour (one shared pool would have left none)."""
    c = Contract.new("X-1", tier, START)
    assert (c.office_hours_total, c.onsite_hours_total) == (D(each), D(each))
    office = deduct(c, each, HoursKind.IN_OFFICE)
    assert (office.covered, office.billed_extra_hours) == (D(each), D(0))
    onsite = deduct(office.contract, each, HoursKind.ON_SITE)
    assert (onsite.covered, onsite.billed_extra_hours) == (D(each), D(0))
    assert (onsite.contract.office_hours_left, onsite.contract.onsite_hours_left) == (D(0), D(0))


def test_r_pools_each_pool_is_configurable() -> None:
    rules = TierRules.from_mapping(
        DEFAULT_TIER_RULES_HOURS, {Tier.CORPORATE: 6}, {Tier.CORPORATE: 2, Tier.BUSINESS_PLUS: 1}
    )
    corporate = Contract.new("X", Tier.CORPORATE, START, rules=rules)
    assert (corporate.onsite_hours_total, corporate.office_hours_total) == (D(6), D(2))
    assert rules[Tier.BUSINESS_PLUS].onsite_hours == 0 and rules[Tier.BUSINESS_PLUS].office_hours == 1


def test_p_pol_6_tier_without_advice_hours_bills_everything() -> None:
    result = deduct(contract(Tier.BASIC), 2, HoursKind.ON_SITE)
    assert (result.covered, result.billed_extra_hours) == (D(0), D(2))
    assert result.contract == contract(Tier.BASIC)


@pytest.mark.parametrize("hours", [Decimal("0.5"), 1, 2])
def test_p_pol_1_per_event_contract_is_spent_by_its_event(hours: Decimal | int) -> None:
    """R-EVENT: hours beyond the event's one hour are billed (not an "overage" of a yearly budget)."""
    result = deduct(PER_EVENT_WITH_PO, hours, HoursKind.REMOTE)
    assert result.contract.hours_left == 0
    assert result.covered == min(Decimal(hours), Decimal(1))
    assert result.billed_extra_hours == max(Decimal(hours) - 1, Decimal(0))
    assert result.overage == 0


@pytest.mark.parametrize(
    ("today", "resolved", "status"),
    [
        pytest.param(TODAY, False, ContractStatus.EVENT_IN_USE, id="R-EVENT-its-ticket-open"),
        pytest.param(TODAY, True, ContractStatus.EVENT_USED, id="R-EVENT-used-up-when-resolved"),
        pytest.param(date(2027, 6, 1), True, ContractStatus.EVENT_USED, id="R-EVENT-used-whatever-the-date"),
    ],
)
def test_r_event_a_per_event_contract_covers_one_ticket(today: date, resolved: bool, status: ContractStatus) -> None:
    """R-EVENT: "Vigencia 1 evento". Before, the same contract stayed active for a year, ticket after ticket."""
    fresh = contract(Tier.PER_EVENT, purchase_order="OC-4471")
    assert fresh.status(TODAY) is ContractStatus.ACTIVE
    taken = replace(fresh, event_ticket="SOP-2026-000001", event_resolved=resolved)
    assert taken.status(today) is status and not taken.is_active(today)


def test_r_event_a_yearly_contract_ignores_event_marks() -> None:
    assert contract(event_ticket="SOP-2026-000001", event_resolved=True).status(TODAY) is ContractStatus.ACTIVE


@pytest.mark.parametrize(("typed", "key"), [("oc-4471", "OC-4471"), ("  OC  4471 ", "OC 4471"), ("OC-4471", "OC-4471")])
def test_r_event_purchase_orders_compare_by_key(typed: str, key: str) -> None:
    assert purchase_order_key(typed) == key


def test_float_hours_do_not_drift() -> None:
    """12.5 h left minus 0.1 h three times leaves exactly 12.2 h."""
    c = contract(hours_used=Decimal("7.5"))
    for _ in range(3):
        c = deduct(c, 0.1, HoursKind.REMOTE).contract
    assert c.hours_left == Decimal("12.2")


@pytest.mark.parametrize("bad", [0, -1, "-0.5", "abc", float("nan"), float("inf"), True])
def test_deduct_refuses_non_positive_or_non_numbers(bad: Any) -> None:
    with pytest.raises(InvalidHours):
        deduct(ACTIVE, bad, HoursKind.REMOTE)
    with pytest.raises(ValueError):
        deduct(ACTIVE, bad, HoursKind.REMOTE)


def test_deduct_refuses_raw_kind() -> None:
    with pytest.raises(InvalidInput):
        deduct(ACTIVE, 1, "remote")  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(
    used=st.integers(min_value=0, max_value=2000).map(lambda m: Decimal(m) / 100),
    steps=st.lists(st.integers(min_value=1, max_value=600).map(lambda m: Decimal(m) / 60), max_size=10),
)
def test_deductions_conserve_hours(used: Decimal, steps: list[Decimal]) -> None:
    """Every requested hour is either covered or reported as overage; hours used never pass the total."""
    c = contract(hours_used=min(used, Decimal(20)))
    start_used = c.hours_used
    covered = overage = Decimal(0)
    for hours in steps:
        result = deduct(c, hours, HoursKind.REMOTE)
        assert result.covered + result.overage == to_hours(hours)
        covered += result.covered
        overage += result.overage
        c = result.contract
        assert 0 <= c.hours_left <= c.hours_total
    assert c.hours_used - start_used == covered
    assert covered + overage == sum((to_hours(step) for step in steps), Decimal(0))


def test_to_hours_keeps_the_decimal_shown() -> None:
    assert to_hours(12.1) == Decimal("12.1")
    assert to_hours("0.25") == Decimal("0.25")


def test_to_hours_rounds_minutes_to_the_quantum() -> None:
    """Minutes that are no finite decimal of an hour are rounded half-up to 0.0001 h."""
    third = to_hours(Decimal(20) / 60)
    assert third == Decimal("0.3333")
    assert to_hours(Decimal(40) / 60) == Decimal("0.6667")


# ---------------------------------------------------------------- certificate (P-POL-8)


def test_p_pol_8_certificate_lists_number_tier_validity_products() -> None:
    a, b = product(), product(name="Switch Aruba 2930F", area=ServiceArea.SWITCHING)
    cert = certificate(ACTIVE, [a, b, a])
    assert (cert.number, cert.tier, cert.starts_on, cert.ends_on) == (
        "POL-001",
        Tier.BUSINESS,
        START,
        date(2027, 3, 14),
    )
    assert cert.validity is Validity.ONE_YEAR
    assert certificate(PER_EVENT_WITH_PO, [a]).validity is Validity.ONE_EVENT
    assert cert.products == (a, b)
    assert (cert.hours_total, cert.onsite_hours_total, cert.office_hours_total) == (D(20), D(0), D(0))
    plus = certificate(Contract.new("P-1", Tier.BUSINESS_PLUS, START), [a])
    assert (plus.onsite_hours_total, plus.office_hours_total) == (D(3), D(3))  # R-POOLS


def test_p_pol_8_certificate_refuses_non_products() -> None:
    with pytest.raises(InvalidInput):
        certificate(ACTIVE, ["FortiGate"])  # type: ignore[list-item]
