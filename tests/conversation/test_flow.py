"""The intake's state table, driven through the pure step() function: every step, back, edits and bad input."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.conversation import (
    Choice,
    Command,
    Delete,
    Document,
    IntakeContext,
    IntakeState,
    Media,
    Msg,
    Photo,
    ProductOption,
    Reply,
    Secret,
    Status,
    Step,
    Text,
    prompt,
    start,
    step,
)
from bot.conversation.model import Out
from bot.domain.contracts import Contract, Product
from bot.domain.types import ServiceArea, Tier

MX = ZoneInfo("America/Mexico_City")
NOW = datetime(2026, 11, 24, 10, 15, tzinfo=MX)
TODAY = NOW.date()
DESCRIPTION = "No hay internet en toda la oficina, el firewall tiene la luz de alarma en rojo."
FORTI = ProductOption(11, Product("FortiGate 60F", ServiceArea.FIREWALL))
OLD_PBX = ProductOption(12, Product("Conmutador viejo", ServiceArea.MAINTENANCE, discontinued=True))
BILLING = ProductOption(13, Product("Facturación", ServiceArea.SOFTWARE, warranty_until=TODAY + timedelta(days=30)))


def contract(
    tier: Tier = Tier.BUSINESS, *, ends: date | None = None, used: str = "7.5", po: str | None = None
) -> Contract:
    return Contract(
        number="POL-1",
        tier=tier,
        starts_on=TODAY - timedelta(days=200),
        ends_on=ends or TODAY + timedelta(days=100),
        hours_total=Decimal(20 if tier is not Tier.PER_EVENT else 1),
        hours_used=Decimal(used),
        purchase_order=po,
    )


def ctx(**changes: object) -> IntakeContext:
    values: dict[str, object] = {
        "now": NOW,
        "tz": MX,
        "contract": contract(),
        "products": (FORTI, OLD_PBX, BILLING),
    }
    values.update(changes)
    return IntakeContext(**values)  # type: ignore[arg-type]


def keys(outs: list[Out]) -> list[str]:
    return [line.key for out in outs if isinstance(out, Reply) for line in out.lines]


def tap(state: IntakeState, action: str, c: IntakeContext | None = None) -> tuple[IntakeState, list[Out]]:
    return step(state, Choice(f"i:{state.seq}:{action}"), c or ctx())


def say(state: IntakeState, text: str, c: IntakeContext | None = None) -> tuple[IntakeState, list[Out]]:
    return step(state, Text(text, 99), c or ctx())


def to(target: Step) -> IntakeState:
    """Walk the main path (firewall, FortiGate, down for everyone, remote) until `target`."""
    state, _ = start(ctx())
    path: list[tuple[str, str]] = [
        ("tap", "a.firewall"),
        ("tap", "p.11"),
        ("tap", "t.down"),
        ("tap", "t.whole_company"),
        ("say", DESCRIPTION),
        ("say", "desde hoy a las 9"),
        ("photo", "f1"),
        ("tap", "ok"),
        ("tap", "acc.remote"),
        ("say", "1 234 567 890"),
        ("secret", "token"),
        ("tap", "n"),
    ]
    for kind, value in path:
        if state.step is target:
            return state
        if kind == "tap":
            state, _ = tap(state, value)
        elif kind == "say":
            state, _ = say(state, value)
        elif kind == "photo":
            state, _ = step(state, Photo(value, 1000), ctx())
        else:
            state, _ = step(state, Secret(value, 77), ctx())
    assert state.step is target
    return state


# --- the path of CONVERSATION.md --------------------------------------------------------------------
def test_start_asks_the_service_area_with_buttons_under_64_bytes() -> None:
    state, outs = start(ctx())
    assert state.step is Step.AREA and keys(outs) == ["intake.area.question"]
    reply = outs[0]
    assert isinstance(reply, Reply)
    data = [b.data for row in reply.buttons for b in row]
    assert "i:0:a.firewall" in data and "i:0:a.other" in data and "i:0:cancel" in data
    assert all(len(d.encode()) <= 64 for d in data)


def test_p_sla_1_whole_company_down_is_severity_1_told_in_words() -> None:
    state = to(Step.TRIAGE_REACH)
    state, outs = tap(state, "t.whole_company")
    assert state.severity == 1 and state.step is Step.DESCRIPTION
    decided = next(line for out in outs if isinstance(out, Reply) for line in out.lines)
    assert decided.key == "intake.severity.decided"
    assert decided.params["target"] == timedelta(hours=8)


@pytest.mark.parametrize(
    ("taps", "severity"),
    [
        (["t.down", "t.my_area"], 1),
        (["t.down", "t.only_me", "y"], 1),  # P-SLA-1: a business system is inoperable
        (["t.down", "t.only_me", "n"], 2),  # P-SLA-2
        (["t.wrong", "t.high"], 2),  # R-SEVERITY: works wrongly with high impact, whatever the reach
        (["t.wrong", "t.medium", "y"], 3),  # P-SLA-3: not as documented
        (["t.wrong", "t.medium", "n"], 3),
        (["t.question", "t.usage_question"], 4),  # P-SLA-4
        (["t.question", "t.suggestion"], 4),
    ],
)
def test_p_sla_1_to_4_triage_paths(taps: list[str], severity: int) -> None:
    state = to(Step.TRIAGE_DOWN)
    for action in taps:
        state, _ = tap(state, action)
    assert state.severity == severity and state.step is Step.DESCRIPTION


def test_p_pol_4_product_in_warranty_failing_its_spec_is_free() -> None:
    state, _ = start(ctx())
    state, _ = tap(state, "a.software")
    state, _ = tap(state, "p.13")
    state, _ = tap(state, "t.down")
    state, outs = tap(state, "t.whole_company")
    assert state.step is Step.TRIAGE_CAUSE  # R-WARRANTY: the product's own failure, or a change first?
    state, outs = tap(state, "c.product")
    assert state.charged is False and state.entitlement_rule == "P-POL-4"
    assert "intake.warranty_free" in keys(outs)
    state, _ = tap(to(Step.TRIAGE_DOWN), "t.down")
    state, outs = tap(state, "t.whole_company")
    assert state.charged is True and "intake.warranty_free" not in keys(outs)


def test_p_in_3_password_is_kept_encrypted_and_its_message_deleted() -> None:
    state = to(Step.TV_PASSWORD)
    state, outs = step(state, Secret("gAAAA-token", 77), ctx())
    assert state.tv_password == "gAAAA-token" and state.step is Step.EQUIPMENT_QUESTION
    assert outs[0] == Delete(77)
    assert "intake.access.stored_and_deleted" in keys(outs) and "intake.access.do_not_use" in keys(outs)


def test_p_in_3_equipment_password_too() -> None:
    state = to(Step.EQUIPMENT_QUESTION)
    state, _ = tap(state, "y")
    state, outs = step(state, Secret("tok2", 78), ctx())
    assert state.equipment_password == "tok2" and state.step is Step.SUMMARY and Delete(78) in outs


def test_p_in_3_empty_password_repeats() -> None:
    state = to(Step.TV_PASSWORD)
    again, outs = step(state, Secret("", 5, empty=True), ctx())
    assert again == state and keys(outs)[0] == "intake.access.password_empty"


def test_p_in_5_onsite_asks_address_contact_and_rules_and_warns() -> None:
    state = to(Step.ACCESS)
    state, _ = tap(state, "acc.onsite")
    state, _ = say(state, "Av. Juárez 100, Centro, Puebla")
    state, _ = say(state, "Pedro López 222 111 2233")
    state, outs = tap(state, "none")
    assert state.step is Step.SUMMARY and state.onsite_rules == ""
    assert "intake.onsite.rules_warning" in keys(outs) and "intake.onsite.travel_costs" in keys(outs)
    assert "intake.summary.access_onsite" in keys(outs)


def test_summary_confirm_ends_the_draft_confirmed() -> None:
    state, outs = tap(to(Step.SUMMARY), "ok")
    assert state.status is Status.CONFIRMED and outs == []


# --- scope and contract (P-SCOPE, P-POL) ----------------------------------------------------------
@pytest.mark.parametrize("topic", ["development", "training", "third_party", "business_consulting"])
def test_p_scope_2_excluded_topic_is_explained_and_no_ticket(topic: str) -> None:
    state, _ = tap(start(ctx())[0], "a.other")
    state, outs = tap(state, f"x.{topic}")
    assert state.status is Status.REFUSED and keys(outs) == [f"intake.excluded.explain.{topic}", "contact.reach_us"]


def test_p_pol_7_discontinued_product_is_refused() -> None:
    state, _ = tap(start(ctx())[0], "a.maintenance")
    state, outs = tap(state, "p.12")
    assert state.status is Status.REFUSED and state.refusal == "discontinued_product"
    assert keys(outs) == ["contract.refused.discontinued", "contact.reach_us"]  # R-CONTACT


@pytest.mark.parametrize(
    ("c", "key"),
    [
        (contract(ends=TODAY - timedelta(days=1)), "contract.refused.expired"),  # P-POL-2/3
        (contract(used="20"), "contract.refused.exhausted"),
        (None, "contract.refused.no_contract"),
    ],
)
def test_p_pol_3_no_active_contract_no_question(c: Contract | None, key: str) -> None:
    """P-POL-3 with no product in warranty (R-WARRANTY: with one, the free route stays open); R-CONTACT: the
    refusal gives the phones and the e-mail."""
    state, outs = start(ctx(contract=c, products=(FORTI, OLD_PBX)))
    assert state.status is Status.REFUSED and keys(outs) == [key, "contact.reach_us"]


def test_p_pol_1_per_event_asks_the_purchase_order_first() -> None:
    c = ctx(contract=contract(Tier.PER_EVENT, used="0"))
    state, outs = start(c)
    assert state.step is Step.PURCHASE_ORDER and keys(outs) == ["contract.refused.purchase_order_needed"]
    again, outs = say(state, "<b>", c)
    assert again.step is Step.PURCHASE_ORDER
    state, outs = say(state, "OC-2026-17", c)
    assert state.step is Step.AREA and state.purchase_order == "OC-2026-17"


def test_p_pol_1_purchase_order_must_match_the_one_on_file() -> None:
    c = ctx(contract=contract(Tier.PER_EVENT, used="0", po="OC-1"))
    state, _ = start(c)
    again, outs = say(state, "OC-9", c)
    assert again.step is Step.PURCHASE_ORDER and keys(outs)[0] == "contract.purchase_order_invalid"
    assert say(state, "oc-1", c)[0].step is Step.AREA


# --- description, since, attachments ----------------------------------------------------------------
def test_p_in_2_thin_description_asks_for_more() -> None:
    state = to(Step.DESCRIPTION)
    again, outs = say(state, "no sirve")
    assert again.step is Step.DESCRIPTION and keys(outs)[0] == "intake.description.too_thin"


def test_long_split_message_is_kept_whole() -> None:
    state = to(Step.DESCRIPTION)
    first, second = "a " * 2048, "resto del mensaje con más detalle"
    state, outs = say(state, first)
    assert state.step is Step.DESCRIPTION and keys(outs) == ["intake.description.add_more"]
    state, _ = say(state, second)
    assert state.step is Step.SINCE and state.description == f"{first.strip()}\n{second}"


def test_since_not_understood_asks_again_and_keeps_words_and_instant() -> None:
    state = to(Step.SINCE)
    again, outs = say(state, "cuando la luna era azul")
    assert again.step is Step.SINCE and keys(outs)[0] == "intake.since.not_understood"
    state, _ = say(state, "ayer a las 5")
    assert state.since_text == "ayer a las 5" and state.since_at is not None
    since = state.since()
    assert since is not None and since.instant.date() == TODAY - timedelta(days=1)


def test_since_dont_know_goes_on() -> None:
    state, _ = tap(to(Step.SINCE), "dk")
    assert state.step is Step.ATTACHMENTS and state.since_at is None


def test_attachments_over_the_getfile_limit_are_refused_with_the_limit() -> None:
    state = to(Step.ATTACHMENTS)
    again, outs = step(state, Document("big", "video.mp4", 25 * 1024 * 1024), ctx())
    assert again.attachments == () and keys(outs)[0] == "intake.attachments.too_big"
    state, _ = step(state, Document("small", "log.txt", 2048, "text/plain"), ctx())
    assert len(state.attachments) == 1


def test_attachments_text_where_a_photo_is_asked() -> None:
    state = to(Step.ATTACHMENTS)
    again, outs = say(state, "ahí te va")
    assert again == state and keys(outs)[0] == "bad_input.expected_photo"
    state, outs = say(state, "el video está en https://drive.example.com/x")
    assert state.links == ("https://drive.example.com/x",)


def test_p_in_2_no_images_for_severity_1_is_nudged_once() -> None:
    state = to(Step.ATTACHMENTS)
    state, outs = tap(state, "ok")
    assert state.step is Step.ATTACHMENTS and "intake.attachments.nudge" in keys(outs)
    state, _ = tap(state, "ok")
    assert state.step is Step.ACCESS


def test_attachments_limit_count() -> None:
    state = to(Step.ATTACHMENTS)
    for i in range(10):
        state, _ = step(state, Photo(f"p{i}", 10), ctx())
    again, outs = step(state, Photo("p11", 10), ctx())
    assert len(again.attachments) == 10 and keys(outs)[0] == "intake.attachments.too_many"


def test_teamviewer_id_is_validated() -> None:
    state = to(Step.TV_ID)
    again, outs = say(state, "12345")
    assert again == state and keys(outs)[0] == "intake.access.teamviewer_id_invalid"
    state, _ = say(state, "123-456-789")
    assert state.teamviewer_id == "123456789"


# --- navigation -------------------------------------------------------------------------------------
def test_back_returns_to_the_previous_step_at_every_step() -> None:
    for target in (Step.PRODUCT, Step.TRIAGE_DOWN, Step.DESCRIPTION, Step.SINCE, Step.ACCESS, Step.TV_ID):
        state = to(target)
        previous, outs = tap(state, "back")
        assert previous.step.value == state.trail[-1] and previous.seq == state.seq + 1
        assert outs and isinstance(outs[0], Reply)


def test_cancel_at_every_step() -> None:
    for target in (Step.AREA, Step.PRODUCT, Step.SINCE, Step.ATTACHMENTS, Step.TV_PASSWORD, Step.SUMMARY):
        state, outs = tap(to(target), "cancel")
        assert state.status is Status.CANCELLED and keys(outs) == ["intake.cancelled"]


@pytest.mark.parametrize(
    ("edit", "first"), [("e.svc", Step.AREA), ("e.desc", Step.DESCRIPTION), ("e.acc", Step.ACCESS)]
)
def test_summary_edit_buttons_reopen_their_section(edit: str, first: Step) -> None:
    state, _ = tap(to(Step.SUMMARY), edit)
    assert state.step is first and state.editing


def test_edit_service_comes_back_to_the_summary_with_the_new_severity() -> None:
    state, _ = tap(to(Step.SUMMARY), "e.svc")
    state, _ = tap(state, "a.firewall")
    state, _ = tap(state, "p.11")
    state, _ = tap(state, "t.question")
    state, _ = tap(state, "t.usage_question")
    assert state.step is Step.SUMMARY and state.severity == 4 and not state.editing
    assert state.description == DESCRIPTION  # other sections kept


# --- bad input --------------------------------------------------------------------------------------
def test_old_button_is_detected_and_the_step_repeats() -> None:
    state = to(Step.TRIAGE_DOWN)
    stale = Choice(f"i:{state.seq - 1}:a.software")
    again, outs = step(state, stale, ctx())
    assert again == state and keys(outs)[:2] == ["bad_input.old_button", "intake.triage.question_down"]


@pytest.mark.parametrize("data", ["i:0:p.999", "garbage", "i:x:ok", "i:0:a.bogus", "i:0:" + "a" * 60, "m:report"])
def test_tampered_callback_data_changes_nothing(data: str) -> None:
    state, _ = start(ctx())
    again, outs = step(state, Choice(data), ctx())
    assert again == state and keys(outs)[0] in ("bad_input.expected_choice", "bad_input.old_button")


@pytest.mark.parametrize(("media", "key"), [("sticker", "bad_input.sticker"), ("voice", "bad_input.voice")])
def test_sticker_and_voice_get_a_friendly_reply(media: str, key: str) -> None:
    for target in (Step.AREA, Step.DESCRIPTION, Step.ATTACHMENTS):
        state = to(target)
        again, outs = step(state, Media(media), ctx())
        assert again == state and keys(outs)[0] == key


def test_command_mid_step_repeats_the_step() -> None:
    state = to(Step.SINCE)
    again, outs = step(state, Command("foo"), ctx())
    assert again == state and keys(outs)[:2] == ["bad_input.unknown_command", "intake.since.question"]


def test_text_at_a_button_step_asks_for_a_button() -> None:
    state = to(Step.ACCESS)
    again, outs = say(state, "remoto porfa")
    assert again == state and keys(outs)[0] == "bad_input.expected_choice"


def test_photo_where_text_is_asked() -> None:
    state = to(Step.DESCRIPTION)
    again, outs = step(state, Photo("x", 10), ctx())
    assert again == state and keys(outs)[0] == "bad_input.expected_text"


def test_finished_draft_ignores_input() -> None:
    state, _ = tap(to(Step.SUMMARY), "ok")
    assert step(state, Text("hola"), ctx()) == (state, [])


# --- persistence ------------------------------------------------------------------------------------
def test_state_round_trips_through_the_draft_data() -> None:
    state = to(Step.SUMMARY)
    assert IntakeState.from_data(state.to_data()) == state
    assert prompt(IntakeState.from_data(state.to_data()), ctx()) == prompt(state, ctx())


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300))
def test_any_text_at_any_text_step_never_raises(text: str) -> None:
    for target in (Step.DESCRIPTION, Step.SINCE, Step.TV_ID, Step.ATTACHMENTS):
        state = to(target)
        new, outs = step(state, Text(text), ctx())
        assert new.status is Status.ACTIVE and outs


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=80))
def test_any_callback_data_never_raises(data: str) -> None:
    state = to(Step.PRODUCT)
    new, outs = step(state, Choice(data), ctx())
    assert outs
    if not data.startswith(f"i:{state.seq}:"):
        assert new == state


def test_msg_params_are_data_not_text() -> None:
    state = to(Step.SUMMARY)
    reply = prompt(state, ctx())
    assert isinstance(reply.lines[1], Msg) and reply.lines[1].key == "intake.summary.service"


def test_a_caption_sent_with_a_file_joins_the_description() -> None:
    state = to(Step.ATTACHMENTS)
    state, _ = step(state, Photo("p", 10, "así se ve el error"), ctx())
    assert state.description.endswith("📎 así se ve el error") and len(state.attachments) == 1
