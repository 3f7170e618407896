"""Modals: within Slack's view limits, and every submission parsed into a typed value or field errors."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.types import HoursKind, Severity
from bot.i18n import Catalogue
from bot.services.desk_common import split_for_mrkdwn
from handlers.slack import modals
from sandbox.slack.blockkit import validate_view

CAT = Catalogue.load(strict=True)


def submitted(values: dict[str, Any], meta: str = '{"ticket_id": 3, "channel": "C1"}') -> dict[str, Any]:
    state = {block: {"value": {"type": "plain_text_input", "value": value}} for block, value in values.items()}
    return {"state": {"values": state}, "private_metadata": meta}


@pytest.mark.parametrize(
    "view",
    [
        modals.ask_modal(CAT, 3, "C1"),
        modals.escalate_modal(CAT, 3, "C1", "1.2", Severity.LOW),
        modals.escalate_modal(CAT, 3, "C1", "1.2", Severity.CRITICAL),
        modals.resolve_modal(CAT, 3, "C1"),
        modals.reject_modal(CAT, 9, "D1", "1.2"),
    ],
)
def test_every_modal_is_a_valid_view(view: dict[str, Any]) -> None:
    assert validate_view(view) == []
    assert len(view["title"]["text"]) <= 24 and modals.metadata(view)


def test_escalate_offers_only_more_urgent_severities() -> None:
    view = modals.escalate_modal(CAT, 3, "C1", "1.2", Severity.MEDIUM)
    [select] = [b for b in view["blocks"] if b["block_id"] == "severity"]
    assert [o["value"] for o in select["element"]["options"]] == ["1", "2"]
    top = modals.escalate_modal(CAT, 3, "C1", "1.2", Severity.CRITICAL)
    assert [b["block_id"] for b in top["blocks"]] == ["reason"]


def test_parse_ask_requires_a_question() -> None:
    assert modals.parse_ask(submitted({"question": " ¿Foto? "}), CAT) == "¿Foto?"
    with pytest.raises(modals.FormErrors) as caught:
        modals.parse_ask(submitted({"question": "  "}), CAT)
    assert caught.value.errors == {"question": "Este campo es obligatorio."}


def test_parse_escalate_reads_the_selected_option() -> None:
    view = submitted({"reason": "Urge"})
    view["state"]["values"]["severity"] = {"value": {"selected_option": {"value": "2"}}}
    assert modals.parse_escalate(view, CAT) == modals.EscalateFields("Urge", Severity.HIGH)
    assert modals.parse_escalate(submitted({"reason": "Urge"}), CAT).new_severity is None
    view["state"]["values"]["severity"] = {"value": {"selected_option": {"value": "9"}}}
    with pytest.raises(modals.FormErrors):
        modals.parse_escalate(view, CAT)


def resolve_view(
    remote: str = "",
    office: str = "",
    onsite: str = "",
    billing: str | None = "charged",
    *,
    warranty: bool = False,
    reason: str = "",
) -> dict[str, Any]:
    meta = json.dumps({"ticket_id": 3, "channel": "C1", "warranty": int(warranty)})
    values = {"solution": "Listo", "hours_remote": remote, "hours_office": office, "hours_onsite": onsite}
    view = submitted({**values, "billing_reason": reason}, meta)
    if billing is not None:
        view["state"]["values"]["billing"] = {"value": {"selected_option": {"value": billing}}}
    return view


def test_parse_resolve_accepts_decimal_commas_and_billing() -> None:
    form = modals.parse_resolve(resolve_view(remote="1,5", onsite="2", billing="warranty", warranty=True), CAT)
    assert form.hours == {HoursKind.REMOTE: Decimal("1.5"), HoursKind.ON_SITE: Decimal(2)}
    assert form.charged is False and form.solution == "Listo"
    assert modals.parse_resolve(resolve_view(office="0.25"), CAT).charged is True


def _initial_billing(view: dict[str, Any]) -> str:
    [billing] = [b for b in view["blocks"] if b["block_id"] == "billing"]
    return str(billing["element"]["initial_option"]["value"])


def test_r_warranty_the_modal_preselects_no_charge_for_a_warranty_ticket() -> None:
    """R-WARRANTY: the Resolver modal preselected "Con cargo a la póliza" for every ticket."""
    assert _initial_billing(modals.resolve_modal(CAT, 3, "C1", warranty=True)) == "warranty"
    assert _initial_billing(modals.resolve_modal(CAT, 3, "C1")) == "charged"
    view = modals.resolve_modal(CAT, 3, "C1", warranty=True)
    assert validate_view(view) == [] and modals.metadata(view)["warranty"] == 1
    assert "billing_reason" in [b["block_id"] for b in view["blocks"]]


@pytest.mark.parametrize(("warranty", "billing"), [(True, "charged"), (False, "warranty")])
def test_r_warranty_changing_the_billing_needs_a_reason(warranty: bool, billing: str) -> None:
    with pytest.raises(modals.FormErrors) as caught:
        modals.parse_resolve(resolve_view(remote="1", billing=billing, warranty=warranty), CAT)
    assert list(caught.value.errors) == ["billing_reason"]
    form = modals.parse_resolve(resolve_view(remote="1", billing=billing, warranty=warranty, reason=" Mal uso "), CAT)
    assert form.billing_reason == "Mal uso" and form.charged is (billing == "charged")
    kept = modals.parse_resolve(resolve_view(remote="1", billing=None, warranty=warranty), CAT)
    assert kept.charged is not warranty and kept.billing_reason == ""


@pytest.mark.parametrize("bad", ["dos", "-1", "1e9", "nan", "inf", "1..5"])
def test_parse_resolve_refuses_bad_hours(bad: str) -> None:
    with pytest.raises(modals.FormErrors) as caught:
        modals.parse_resolve(resolve_view(remote=bad), CAT)
    assert "hours_remote" in caught.value.errors


def test_parse_resolve_needs_some_hours_and_a_solution() -> None:
    with pytest.raises(modals.FormErrors) as caught:
        modals.parse_resolve(resolve_view(), CAT)
    assert list(caught.value.errors) == ["hours_remote"]
    view = resolve_view(remote="1")
    view["state"]["values"]["solution"] = {"value": ""}
    with pytest.raises(modals.FormErrors) as missing:
        modals.parse_resolve(view, CAT)
    assert list(missing.value.errors) == ["solution"]


@pytest.mark.parametrize("meta", ["", "not json", "[1, 2]", None])
def test_metadata_that_is_not_ours_reads_as_empty(meta: str | None) -> None:
    assert modals.metadata({"private_metadata": meta}) == {}


@settings(max_examples=80, deadline=None)
@given(st.text(max_size=3000), st.integers(min_value=5, max_value=400))
def test_split_for_mrkdwn_keeps_every_character_and_each_piece_fits(text: str, limit: int) -> None:
    pieces = split_for_mrkdwn(text, limit)
    assert "".join(pieces) == text
    escaped = [p.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") for p in pieces]
    assert all(len(e) <= limit for e in escaped)
