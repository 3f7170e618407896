"""Slack payload parsing and the refusal sentences each desk error becomes (no display text is matched)."""

from __future__ import annotations

import pytest

from bot.domain.errors import (
    EscalationAlreadyPending,
    EscalationLimitReached,
    EscalationNotAllowed,
    IllegalTransition,
    NoPendingEscalation,
    NotAuthorized,
)
from bot.domain.types import Role, TicketStatus
from bot.services import desk
from bot.services.context import Services
from bot.services.desk_common import NotAnAgent, NotTheAssignee, TicketGone
from bot.services.desk_entry import refusal
from bot.services.events import CardButton, ThreadMessage
from handlers.slack.listeners import to_button, to_message
from storage.records import Agent
from tests.services.desk_env import DeskEnv
from tests.services.desk_env import desk as desk_env

_ = desk_env
MARCO = Agent(id=1, name="Marco", slack_user_id="U0MARCO", role=Role.AGENT, active=True)


def test_a_block_actions_payload_becomes_a_card_button() -> None:
    body = {
        "user": {"id": "U0ANA"},
        "channel": {"id": "C0SUPPORT"},
        "container": {"message_ts": "1.2"},
        "trigger_id": "T1",
        "actions": [{"action_id": "desk_claim", "value": "42", "action_ts": "3.4"}],
    }
    assert to_button(body) == CardButton("U0ANA", "claim", 42, "C0SUPPORT", "1.2", "T1")


@pytest.mark.parametrize("value", ["", "abc", "-1", "1; DROP", "1" * 13])
def test_a_tampered_value_names_no_ticket(value: str) -> None:
    button = to_button({"actions": [{"action_id": "desk_claim", "value": value}]})
    assert button is not None and button.value is None


def test_an_empty_or_foreign_payload_is_no_button() -> None:
    assert to_button({}) is None
    assert to_button({"actions": [{"action_id": "someone_elses"}]}) is None


def test_thread_replies_by_people_only() -> None:
    reply = {"channel": "C1", "thread_ts": "1.0", "ts": "2.0", "user": "U1", "text": "hola"}
    assert to_message(reply) == ThreadMessage("U1", "C1", "1.0", "2.0", "hola")
    assert to_message({**reply, "thread_ts": None}) is None  # top level
    assert to_message({**reply, "ts": "1.0"}) is None  # the parent itself
    assert to_message({**reply, "bot_id": "B1"}) is None  # our own posts
    assert to_message({**reply, "subtype": "message_changed"}) is None


def test_a_message_shared_into_the_thread_carries_its_words() -> None:
    shared = {
        "channel": "C1", "thread_ts": "1.0", "ts": "2.0", "user": "U1", "text": "Mira esto:",
        "attachments": [{"is_share": True, "text": "Reinicia el firewall desde el panel"}, {"text": "vista previa"}],
    }  # fmt: skip
    message = to_message(shared)
    assert message is not None and message.text == "Mira esto:\nReinicia el firewall desde el panel"


@pytest.mark.parametrize(
    ("error", "sentence"),
    [
        (desk.AlreadyTaken(MARCO), "Ya lo tomó <@U0MARCO>."),
        (NotTheAssignee(MARCO), "Solo <@U0MARCO>, quien tomó el ticket, puede hacer esto."),
        (NotTheAssignee(None), "Primero toma el ticket con «Tomar»."),
        (NotAnAgent("U9"), "No tienes un rol en el bot de soporte. Pide a un administrador que te dé de alta."),
        (
            NotAuthorized(Role.AGENT, Role.QUALITY_MANAGER),
            "Solo el Responsable de Calidad puede decidir esta escalación.",
        ),
        (
            NotAuthorized(Role.QUALITY_MANAGER, Role.OPERATIONS_MANAGER),
            "Solo el Gerente de Operaciones puede decidir esta escalación.",
        ),
        (NoPendingEscalation("x"), "Esta escalación ya fue decidida."),
        (EscalationAlreadyPending("x"), "Ya hay una escalación en espera de decisión."),
        (EscalationLimitReached("x"), "El ticket ya está en el nivel más alto."),
        (EscalationNotAllowed("x"), "Un ticket resuelto o cerrado no se escala: el cliente puede reabrirlo."),
        (IllegalTransition(TicketStatus.CLOSED, "ask"), "No se puede ahora: el ticket está cerrado."),
        (TicketGone("x"), "No encuentro ese ticket."),
    ],
)
def test_each_refusal_has_its_sentence(desk_env: DeskEnv, error: Exception, sentence: str) -> None:
    services: Services = desk_env.services
    assert refusal(services, error) == sentence


def test_a_bug_is_not_explained_to_the_user(desk_env: DeskEnv) -> None:
    assert refusal(desk_env.services, RuntimeError("boom")) is None
