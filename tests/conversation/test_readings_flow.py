"""POLICY.md "Readings" in the intake's pure state table: R-SEVERITY, R-WARRANTY, R-EVENT, R-CONTACT, way back."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot.conversation import Button, IntakeState, Reply, Status, Step, prompt, start
from bot.conversation.model import Out
from bot.domain.types import Tier
from tests.conversation.test_flow import BILLING, FORTI, OLD_PBX, TODAY, contract, ctx, keys, say, tap, to

EXPIRED = contract(ends=TODAY - timedelta(days=1))


def buttons(outs: list[Out]) -> list[Button]:
    return [b for out in outs if isinstance(out, Reply) for row in out.buttons for b in row]


# --- R-SEVERITY: every answer path of the intake's buttons, as the seed words each level --------------------
@pytest.mark.parametrize(
    ("taps", "severity"),
    [
        # 1: "no funciona en absoluto" AND many users or a business system inoperable (P-SLA-1)
        pytest.param(["t.down", "t.whole_company"], 1, id="nothing-works-whole-company-1"),
        pytest.param(["t.down", "t.my_area"], 1, id="nothing-works-my-area-1"),
        pytest.param(["t.down", "t.only_me", "y"], 1, id="nothing-works-only-me-business-system-1"),
        # 2: "no funciona correctamente ... impacto significativo (alto)" (P-SLA-2)
        pytest.param(["t.down", "t.only_me", "n"], 2, id="nothing-works-only-me-2"),
        pytest.param(["t.wrong", "t.high"], 2, id="works-wrongly-a-lot-2"),
        # 3: "no funciona de acuerdo a lo documentado", "resultados inesperados", "impacto ... medio" (P-SLA-3)
        pytest.param(["t.wrong", "t.medium", "y"], 3, id="works-wrongly-little-not-as-documented-3"),
        pytest.param(["t.wrong", "t.medium", "n"], 3, id="works-wrongly-little-3"),
        # 4: "preguntas de uso", "sugerencias", "clarificación de la documentación" (P-SLA-4)
        pytest.param(["t.question", "t.usage_question"], 4, id="usage-question-4"),
        pytest.param(["t.question", "t.suggestion"], 4, id="suggestion-4"),
        pytest.param(["t.question", "t.documentation"], 4, id="documentation-4"),
        # Going back and answering again: the last answers decide.
        pytest.param(["t.down", "back", "t.wrong", "t.high"], 2, id="down-then-back-then-works-wrongly-2"),
        pytest.param(["t.wrong", "back", "t.down", "t.my_area"], 1, id="works-wrongly-then-back-then-down-1"),
        pytest.param(["t.question", "back", "t.wrong", "t.medium", "y"], 3, id="question-then-back-then-3"),
    ],
)
def test_r_severity_every_button_path_gives_the_seed_s_severity(taps: list[str], severity: int) -> None:
    state = to(Step.TRIAGE_DOWN)
    for action in taps:
        state, _ = tap(state, action)
    assert state.severity == severity and state.step is Step.DESCRIPTION


def test_r_severity_measured_bug_works_wrongly_a_lot_for_my_area_is_2_not_1() -> None:
    """The measured bug: "Funciona, pero mal" + "Mucho" + "A mi área" gave severity 1. Now "Mucho" already
    decides 2 (P-SLA-2): the reach is not asked, and an old "A mi área" button changes nothing."""
    state, _ = tap(to(Step.TRIAGE_DOWN), "t.wrong")
    before = state
    state, outs = tap(state, "t.high")
    assert state.severity == 2 and state.step is Step.DESCRIPTION
    decided = next(line for out in outs if isinstance(out, Reply) for line in out.lines)
    assert decided.params["target"] == timedelta(hours=10)
    stale, outs = tap(before, "t.my_area")  # a button of a question no longer asked
    assert stale == before and keys(outs)[0] == "bad_input.expected_choice"


# --- R-WARRANTY ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("c", [None, EXPIRED, contract(used="20")], ids=["no-contract", "expired", "exhausted"])
def test_r_warranty_without_a_contract_route_the_free_route_stays_open(c: object) -> None:
    """R-WARRANTY: the old start refused at once; now only services and products in warranty are offered."""
    state, outs = start(ctx(contract=c))
    assert state.status is Status.ACTIVE and state.warranty_only and state.step is Step.AREA
    assert keys(outs)[:2] == ["intake.warranty.only", "intake.area.question"]
    areas = [b.data.split(":")[-1] for b in buttons(outs)]
    assert "a.software" in areas and "a.firewall" not in areas and "a.maintenance" not in areas
    state, outs = tap(state, "a.software")
    assert [b.data.split(":")[-1] for b in buttons(outs)][:1] == ["p.13"]
    assert "p.other" not in [b.data.split(":")[-1] for b in buttons(outs)]  # unregistered: no warranty
    state, _ = tap(state, "p.13")
    state, _ = tap(state, "t.wrong")
    state, outs = tap(state, "t.high")
    assert state.step is Step.TRIAGE_CAUSE and keys(outs) == ["intake.triage.question_cause"]
    state, outs = tap(state, "c.product")
    assert state.charged is False and state.entitlement_rule == "P-POL-4" and state.step is Step.DESCRIPTION
    assert "intake.warranty.free_no_contract" in keys(outs)


@pytest.mark.parametrize(
    "taps",
    [
        pytest.param(["t.down", "t.whole_company", "c.change"], id="a-change-came-first"),
        pytest.param(["t.question", "t.usage_question"], id="usage-question"),
        pytest.param(["t.question", "t.suggestion"], id="suggestion"),
    ],
)
def test_r_warranty_what_is_not_the_product_s_own_failure_is_refused_without_a_contract(taps: list[str]) -> None:
    """R-WARRANTY: usage questions, misuse and third-party causes are not free: no contract, sales."""
    c = ctx(contract=EXPIRED)
    state, _ = start(c)
    state, _ = tap(state, "a.software", c)
    state, _ = tap(state, "p.13", c)
    for action in taps:
        state, outs = tap(state, action, c)
    assert state.status is Status.REFUSED and state.refusal == "expired"
    assert keys(outs) == ["intake.warranty.not_free", "contract.refused.expired", "contact.reach_us"]
    assert {b.data for b in buttons(outs)} == {"m:report", "m:menu"}


def test_r_warranty_with_a_contract_a_change_is_charged_and_unsure_stays_free() -> None:
    state, _ = start(ctx())
    state, _ = tap(state, "a.software")
    state, _ = tap(state, "p.13")
    state, _ = tap(state, "t.down")
    state, _ = tap(state, "t.whole_company")
    charged, outs = tap(state, "c.change")
    assert charged.charged is True and "intake.warranty.charged_change" in keys(outs)
    unsure, outs = tap(state, "c.unsure")
    assert unsure.charged is False and "intake.warranty_free" in keys(outs)


def test_r_warranty_a_product_out_of_warranty_asks_no_cause() -> None:
    state = to(Step.TRIAGE_REACH)
    state, _ = tap(state, "t.whole_company")
    assert state.step is Step.DESCRIPTION and state.cause is None


def test_r_warranty_an_area_without_a_product_in_warranty_is_refused_with_a_way_back() -> None:
    c = ctx(contract=None, products=(FORTI, OLD_PBX, BILLING))
    state, _ = start(c)
    state, outs = tap(state, "a.firewall", c)  # a crafted or old button: no product in warranty there
    assert state.status is Status.REFUSED and state.refusal == "no_contract"
    assert keys(outs) == ["intake.warranty.none_here", "contract.refused.no_contract", "contact.reach_us"]


def test_r_warranty_the_summary_shows_the_mark() -> None:
    state, _ = start(ctx())
    for action in ("a.software", "p.13", "t.down", "t.whole_company", "c.product"):
        state, _ = tap(state, action)
    assert "intake.summary.warranty" in keys([prompt(state.with_(step=Step.SUMMARY), ctx())])


# --- R-EVENT ------------------------------------------------------------------------------------------------
def test_r_event_a_purchase_order_used_before_is_refused_clearly() -> None:
    """R-EVENT: the same OC-4471 passed again; now the client hears which ticket used it, and may give another."""
    c = ctx(contract=contract(Tier.PER_EVENT, used="0"), used_purchase_orders={"OC-4471": "SOP-2026-000007"})
    state, _ = start(c)
    again, outs = say(state, "oc-4471", c)
    assert again.step is Step.PURCHASE_ORDER and keys(outs)[0] == "contract.purchase_order_used"
    said = next(line for out in outs if isinstance(out, Reply) for line in out.lines)
    assert said.params == {"purchase_order": "oc-4471", "ticket": "SOP-2026-000007"}
    moved, _ = say(state, "OC-4480", c)
    assert moved.step is Step.AREA


@pytest.mark.parametrize(
    ("resolved", "key"), [(False, "contract.refused.event_in_use"), (True, "contract.refused.event_used")]
)
def test_r_event_a_per_event_contract_whose_ticket_was_taken_refuses_a_second(resolved: bool, key: str) -> None:
    taken = replace(contract(Tier.PER_EVENT, used="0"), event_ticket="SOP-2026-000007", event_resolved=resolved)
    c = ctx(contract=taken, products=(FORTI,), used_purchase_orders={"OC-4471": "SOP-2026-000007"})
    state, outs = start(c)
    assert state.status is Status.REFUSED and keys(outs) == [key, "contact.reach_us"]
    said = next(line for out in outs if isinstance(out, Reply) for line in out.lines)
    assert (said.params["ticket"], said.params["purchase_order"]) == ("SOP-2026-000007", "OC-4471")


def test_r_event_taken_meanwhile_is_refused_at_the_confirmation() -> None:
    """R-EVENT: a colleague's report took the event between the order and the confirmation: no second ticket."""
    c = ctx(contract=contract(Tier.PER_EVENT, used="0"))
    state, _ = start(c)
    state, _ = say(state, "OC-4471", c)
    state = state.with_(step=Step.SUMMARY)
    meanwhile = ctx(contract=c.contract, used_purchase_orders={"OC-4471": "SOP-2026-000009"})
    done, outs = tap(state, "ok", meanwhile)
    assert done.status is Status.REFUSED and keys(outs) == ["contract.purchase_order_used", "contact.reach_us"]
    fine, _ = tap(state, "ok", c)
    assert fine.status is Status.CONFIRMED


# --- scope refusals offer a way back ------------------------------------------------------------------------
def test_none_of_these_ends_with_buttons_back_to_the_menu_and_to_report_again() -> None:
    """ "Otro tema → Ninguna de estas" was a dead end: the contact card and nothing to tap."""
    state, _ = tap(start(ctx())[0], "a.other")
    state, outs = tap(state, "x.none")
    assert state.status is Status.REFUSED and keys(outs) == ["intake.excluded.none_reply"]
    assert {b.data for b in buttons(outs)} == {"m:report", "m:menu"}
    assert all(len(b.data.encode()) <= 64 for b in buttons(outs))


def test_refused_states_round_trip() -> None:
    state = IntakeState(warranty_only=True, contract_refusal="expired", cause="unsure")
    assert IntakeState.from_data(state.to_data()) == state
