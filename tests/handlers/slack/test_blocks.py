"""The card, escalation and App Home renderers: content, escaping, and every Block Kit limit."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.since import DayPart, Precision
from bot.domain.types import ServiceArea, Severity, TicketStatus, Tier
from bot.i18n import Catalogue
from bot.services.desk_queries import CardFacts, HomeFacts, HomeItem, Onsite, Reporter
from handlers.slack import blocks
from sandbox.slack.blockkit import validate_message_blocks, validate_view
from sandbox.slack.mrkdwn import find_unsafe
from storage.records import Contract, Ticket

TZ = ZoneInfo("America/Mexico_City")
NOW = datetime(2026, 11, 24, 16, 15, tzinfo=UTC)
CAT = Catalogue.load(strict=True)


def a_ticket(**changes: Any) -> Ticket:
    base = Ticket(
        id=7,
        number="SOP-2026-000124",
        client_id=1,
        contact_id=1,
        contract_id=1,
        product_id=1,
        service_area=ServiceArea.FIREWALL,
        severity=Severity.CRITICAL,
        status=TicketStatus.NEW,
        escalation_level=1,
        assignee_id=None,
        description="No hay internet",
        since_at=NOW - timedelta(hours=1),
        since_text=None,
        onsite_details=None,
        telegram_chat_id=5,
        slack_channel=None,
        slack_ts=None,
        opened_at=NOW,
        clock_started_at=NOW,
        response_due_at=NOW + timedelta(days=1),
        first_response_at=None,
        response_met=None,
        resolved_at=None,
        closed_at=None,
        solution=None,
        rating=None,
        version=1,
    )
    return replace(base, **changes)


CONTRACT = Contract(
    id=1,
    number="POL-1",
    client_id=1,
    tier=Tier.BUSINESS,
    starts_on=NOW.date(),
    ends_on=NOW.date(),
    minutes_total=1200,
    minutes_used=450,
    onsite_minutes_total=0,
    onsite_minutes_used=0,
    purchase_order=None,
    special_eol_support=False,
    version=1,
)


def facts(**changes: Any) -> CardFacts:
    base = CardFacts(
        ticket=a_ticket(),
        client_name="Comercializadora del Valle",
        contract=CONTRACT,
        product_name="FortiGate 60F",
        attachments=2,
        credential_labels=("TeamViewer 123",),
        assignee_slack_id=None,
        pending_level=None,
        response_taken=None,
        target=timedelta(hours=8),
    )
    return replace(base, **changes)


def everything(content: list[dict[str, Any]]) -> str:
    return json.dumps(content, ensure_ascii=False)


def mrkdwn_texts(content: list[dict[str, Any]]) -> list[str]:
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(content)
    return found


def test_card_matches_the_conversation_mock() -> None:
    text, content = blocks.card(facts(), CAT, TZ)
    shown = everything(content)
    assert content[0]["type"] == "header" and content[0]["text"]["text"] == "🔴 SOP-2026-000124 · Severidad 1"
    for expected in (
        "Comercializadora del Valle",
        "Empresarial",
        "horas disponibles: 12.5",
        "8 horas hábiles",
        "FortiGate 60F",
        "Archivos en el hilo: 2",
        "TeamViewer 123 (contraseña guardada)",
        "Estado: nuevo, sin asignar · Nivel 1",
        "<!date^",
    ):
        assert expected in shown, expected
    assert "SOP-2026-000124" in text
    assert validate_message_blocks(content).errors == []


# Release only while assigned (not while waiting); "Registré llamada/sesión" until the first response.
MORE = ["desk_severity", "desk_release", "desk_contact", "desk_reassign"]
WAITING_MORE = ["desk_severity", "desk_contact", "desk_reassign"]
NEW_MORE = ["desk_severity", "desk_reassign"]


@pytest.mark.parametrize(
    ("status", "assignee", "labels", "expected"),
    [
        (TicketStatus.NEW, None, ("TV",), ["desk_claim", "desk_ask", "desk_escalate", "desk_resolve", *NEW_MORE]),
        (TicketStatus.ASSIGNED, "U1", ("TV",), ["desk_reveal", "desk_ask", "desk_escalate", "desk_resolve", *MORE]),
        (TicketStatus.ASSIGNED, "U1", (), ["desk_ask", "desk_escalate", "desk_resolve", *MORE]),
        (TicketStatus.WAITING_CLIENT, "U1", ("TV",), ["desk_reveal", "desk_escalate", "desk_resolve", *WAITING_MORE]),
        (TicketStatus.RESOLVED, "U1", ("TV",), []),
        (TicketStatus.CLOSED, "U1", (), []),
    ],
)
def test_buttons_follow_the_status(
    status: TicketStatus, assignee: str | None, labels: tuple[str, ...], expected: list[str]
) -> None:
    _, content = blocks.card(
        facts(ticket=a_ticket(status=status), assignee_slack_id=assignee, credential_labels=labels), CAT, TZ
    )
    actions = [b for b in content if b["type"] == "actions"]
    assert [e["action_id"] for a in actions for e in a["elements"]] == expected
    assert all(e["value"] == "7" for a in actions for e in a["elements"])


def test_assigned_card_names_the_assignee_and_the_response_time() -> None:
    f = facts(
        ticket=a_ticket(status=TicketStatus.ASSIGNED, response_met=True),
        assignee_slack_id="U0MARCO",
        response_taken=timedelta(minutes=12),
    )
    shown = everything(blocks.card(f, CAT, TZ)[1])
    assert "Estado: asignado a <@U0MARCO> · Nivel 1" in shown and "respondido en 0 h 12 min hábiles ✅" in shown
    late = facts(
        ticket=a_ticket(status=TicketStatus.ASSIGNED, response_met=False),
        assignee_slack_id="U0MARCO",
        response_taken=timedelta(hours=9),
    )
    assert "fuera de tiempo" in everything(blocks.card(late, CAT, TZ)[1])


def test_pending_escalation_and_no_contract_are_shown() -> None:
    shown = everything(blocks.card(facts(pending_level=3, contract=None), CAT, TZ)[1])
    assert "Escalación pendiente a Gerente de Operaciones: en espera de decisión" in shown
    assert "sin póliza registrada" in shown


HOSTILE = "<!channel> <@U999> <http://evil.example|bank.com> & *bold*"


def test_user_text_is_escaped_everywhere_on_the_card() -> None:
    f = facts(
        ticket=a_ticket(description=HOSTILE, onsite_details=HOSTILE, since_at=None, since_text=HOSTILE),
        client_name=HOSTILE,
        product_name=HOSTILE,
        credential_labels=(HOSTILE,),
    )
    _, content = blocks.card(f, CAT, TZ)
    for text in mrkdwn_texts(content):
        assert find_unsafe(text, lambda user: user in {"U0MARCO"}) == [], text
        assert ("<!channel>" not in text and "&lt;!channel&gt;" in text) or HOSTILE not in text


def test_a_long_description_is_cut_on_the_card_with_a_pointer_to_the_thread() -> None:
    _, content = blocks.card(facts(ticket=a_ticket(description="&" * 5000)), CAT, TZ)
    assert validate_message_blocks(content).errors == []
    assert "texto completo en el hilo" in everything(content)


@settings(max_examples=60, deadline=None)
@given(
    description=st.text(min_size=1, max_size=6000),
    name=st.text(min_size=1, max_size=400),
    labels=st.lists(st.text(max_size=300), max_size=5),
    severity=st.sampled_from(list(Severity)),
    status=st.sampled_from(list(TicketStatus)),
)
def test_any_card_stays_within_block_kit_limits_and_safe(
    description: str, name: str, labels: list[str], severity: Severity, status: TicketStatus
) -> None:
    f = facts(
        ticket=a_ticket(description=description, severity=severity, status=status, onsite_details=name),
        client_name=name,
        product_name=name,
        credential_labels=tuple(labels),
        assignee_slack_id=None if status is TicketStatus.NEW else "U0MARCO",
    )
    text, content = blocks.card(f, CAT, TZ)
    assert validate_message_blocks(content).errors == []
    assert len(text) <= 3000 and len(everything(content)) < 12_000
    for chunk in mrkdwn_texts(content):
        assert find_unsafe(chunk, lambda user: user == "U0MARCO") == []


def test_escalation_dm_has_approve_and_reject_with_the_escalation_id() -> None:
    content = blocks.escalation_dm("Escalación", 42, CAT)
    [actions] = [b for b in content if b["type"] == "actions"]
    assert [(e["action_id"], e["value"]) for e in actions["elements"]] == [
        ("desk_approve", "42"),
        ("desk_reject", "42"),
    ]
    assert validate_message_blocks(content).errors == []


def home_item(n: int, left: timedelta | None) -> HomeItem:
    return HomeItem(a_ticket(id=n, number=f"SOP-2026-{n:06d}"), "Cliente <b>", left)


def test_home_lists_mine_then_unclaimed_with_time_left_or_overdue() -> None:
    view = blocks.home(
        HomeFacts(True, [home_item(1, timedelta(hours=2))], [home_item(2, -timedelta(minutes=30)), home_item(3, None)]),
        CAT,
        TZ,
    )
    shown = everything(view["blocks"])
    assert shown.index("SOP-2026-000001") < shown.index("Sin asignar") < shown.index("SOP-2026-000002")
    assert "quedan 2 horas hábiles" in shown and "vencido hace 0 h 30 min hábiles" in shown and "sin plazo" in shown
    assert "Cliente &lt;b&gt;" in shown
    assert validate_view(view, expect=("home",)) == []


def test_home_caps_long_lists_under_the_100_block_limit() -> None:
    many = [home_item(n, timedelta(hours=1)) for n in range(1, 200)]
    view = blocks.home(HomeFacts(True, many, many), CAT, TZ)
    assert validate_view(view, expect=("home",)) == []
    assert "… y 159 más." in everything(view["blocks"])


def test_home_for_someone_without_a_role_lists_nothing() -> None:
    view = blocks.home(HomeFacts(False, [], []), CAT, TZ)
    assert "No tienes un rol" in everything(view["blocks"]) and validate_view(view, expect=("home",)) == []


def test_slack_date_has_a_fallback_in_mexico_time() -> None:
    token = blocks.slack_date(datetime(2026, 11, 25, 16, 15, tzinfo=UTC), CAT, TZ)
    assert token == "<!date^1795623300^{date_short_pretty} {time}|mié 25 nov 10:15>"


# --- the card tells the truth: every state in the glossary's words, time left, who reported, the visit ------


def status_line(f: CardFacts) -> str:
    content = blocks.card(f, CAT, TZ)[1]
    return next(b["text"]["text"] for b in content if b["type"] == "section" and "Estado:" in b["text"]["text"])


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, "Estado: nuevo, sin asignar · Nivel 1"),
        (
            {"ticket": a_ticket(status=TicketStatus.ASSIGNED), "assignee_slack_id": "U0ANA"},
            "Estado: asignado a <@U0ANA> · Nivel 1",
        ),
        (
            {"ticket": a_ticket(status=TicketStatus.ASSIGNED), "assignee_slack_id": "U0ANA", "reopened": True},
            "Estado: reabierto, asignado a <@U0ANA> · Nivel 1",
        ),
        (
            {
                "ticket": a_ticket(status=TicketStatus.WAITING_CLIENT),
                "assignee_slack_id": "U0ANA",
                "paused_since": NOW,
                "reminders_sent": 2,
            },
            "Estado: en espera del cliente desde <!date^",
        ),
        (
            {"ticket": a_ticket(status=TicketStatus.ASSIGNED, escalation_level=2), "assignee_slack_id": "U0ANA"},
            "· escalado a nivel 2 (Responsable de Calidad)",
        ),
        ({"ticket": a_ticket(status=TicketStatus.RESOLVED), "assignee_slack_id": "U0ANA"}, "resuelto por <@U0ANA>"),
        ({"ticket": a_ticket(status=TicketStatus.CLOSED), "assignee_slack_id": "U0ANA"}, "Estado: cerrado"),
        ({"pending_level": 2}, "⏳ Escalación pendiente a Responsable de Calidad"),
    ],
)
def test_the_status_line_uses_the_glossarys_words(changes: dict[str, Any], expected: str) -> None:
    assert expected in status_line(facts(**changes))


def test_a_waiting_card_says_since_when_and_which_reminder() -> None:
    waiting = facts(
        ticket=a_ticket(status=TicketStatus.WAITING_CLIENT),
        assignee_slack_id="U0ANA",
        paused_since=NOW,
        reminders_sent=2,
        reminders_total=3,
    )
    line = status_line(waiting)
    assert "(avisos enviados: 2 de 3), asignado a <@U0ANA>" in line
    assert "reloj en pausa" in everything(blocks.card(waiting, CAT, TZ)[1])


def test_time_left_in_business_time_and_overdue_once_past_it() -> None:
    left = everything(blocks.card(facts(left=timedelta(hours=3, minutes=20)), CAT, TZ)[1])
    assert "quedan 3 h 20 min hábiles" in left and "vencido" not in left
    late = everything(blocks.card(facts(left=-timedelta(hours=2)), CAT, TZ)[1])
    assert "⚠️ vencido hace 2 horas hábiles" in late and "quedan" not in late
    assert "⚠️ vencido" in everything(blocks.card(facts(left=timedelta(0)), CAT, TZ)[1])


def test_reporter_purchase_order_and_warranty_are_on_the_card() -> None:
    f = facts(
        reporter=Reporter("Laura Pérez", "222 123 4567", "es"),
        purchase_order="OC-2026-0099",
        warranty=True,
    )
    shown = everything(blocks.card(f, CAT, TZ)[1])
    assert "Reporta: Laura Pérez · 222 123 4567 · habla español" in shown
    assert "Orden de compra: OC-2026-0099" in shown
    assert "en garantía: sin cargo a la póliza" in shown
    english = everything(blocks.card(facts(reporter=Reporter("Kevin", "", "en")), CAT, TZ)[1])
    assert "Reporta: Kevin · sin teléfono · habla inglés" in english


def test_the_visit_details_are_separate_fields() -> None:
    f = facts(onsite=Onsite("Av. Juárez 100, Puebla", "Luis Ramos 222 555 0101", "casco y botas"))
    content = blocks.card(f, CAT, TZ)[1]
    [visit] = [b for b in content if b["type"] == "section" and "fields" in b]
    assert [field["text"] for field in visit["fields"]] == [
        "*Dirección de la visita*\nAv. Juárez 100, Puebla",
        "*Recibe al consultor*\nLuis Ramos 222 555 0101",
        "*Requisitos de acceso*\ncasco y botas",
    ]
    assert validate_message_blocks(content).errors == []


@pytest.mark.parametrize(
    ("precision", "part", "shows", "hides"),
    [
        (Precision.DAY, None, "{date_short_pretty}|mar 24 nov>", "{time}"),
        (Precision.PART_OF_DAY, DayPart.MORNING, "mar 24 nov>, en la mañana", "{time}"),
        (Precision.HOUR, None, "{date_short_pretty} {time}|mar 24 nov 09:00>", ""),
    ],
)
def test_since_keeps_the_clients_precision(precision: Precision, part: DayPart | None, shows: str, hides: str) -> None:
    since = datetime(2026, 11, 24, 9 if precision is Precision.HOUR else 0, 0, tzinfo=TZ)
    if part is DayPart.MORNING:
        since = since.replace(hour=6)
    f = facts(ticket=a_ticket(since_at=since), since_precision=precision, since_part=part)
    context = next(b for b in blocks.card(f, CAT, TZ)[1] if b["type"] == "context")["elements"][0]["text"]
    assert shows in context
    if hides:
        assert hides not in context
    assert "06:00" not in context and "00:00" not in context


def test_r_pools_and_r_warranty_the_card_shows_both_advice_pools_and_the_warranty_mark() -> None:
    """R-POOLS: in-office and on-site advice hours, each its own pool; R-WARRANTY: the stored mark."""
    plus = replace(
        CONTRACT, tier=Tier.BUSINESS_PLUS, onsite_minutes_total=180, office_minutes_total=180, office_minutes_used=60
    )
    _, content = blocks.card(facts(contract=plus, ticket=a_ticket(warranty=True), warranty=True), CAT, TZ)
    shown = "\n".join(mrkdwn_texts(content))
    assert "Horas de asesoría disponibles: en nuestras oficinas 2 · en sitio 3" in shown
    assert "en garantía" in shown
    _, plain = blocks.card(facts(), CAT, TZ)
    assert "Horas de asesoría" not in "\n".join(mrkdwn_texts(plain))
