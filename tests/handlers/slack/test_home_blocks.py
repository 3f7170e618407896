"""A manager's App Home within Slack's limits, however much waits (issue 12, LIMITS.md)."""

from __future__ import annotations

from datetime import date, timedelta

from bot.domain.types import TicketStatus
from bot.services.desk_home import ExpiringContract, ManagerFacts, PendingEscalation, RiskItem
from bot.services.desk_queries import HomeFacts
from handlers.slack.home_blocks import HOME_BLOCKS, home_view
from sandbox.slack.blockkit import validate_view
from tests.handlers.slack.test_blocks import CAT, TZ, a_ticket, everything, home_item


def facts(n: int, reason: str = "Motivo") -> ManagerFacts:
    return ManagerFacts(
        {TicketStatus.NEW: n, TicketStatus.ASSIGNED: 2},
        5, 1, 3, "2026-11",
        [PendingEscalation(i, f"⬆️ Escalación de *SOP-2026-{i:06d}*\nMotivo: {reason}") for i in range(1, n + 1)],
        [RiskItem(a_ticket(id=i, number=f"SOP-2026-{i:06d}"), "Cliente", timedelta(minutes=30 - i)) for i in range(n)],
        [ExpiringContract(i, f"POL-{i:03d}", "Cliente " * 20, date(2026, 12, 20), 17, 3.5, 8.75) for i in range(n)],
    )  # fmt: skip


def test_a_busy_managers_home_stays_within_the_limits() -> None:
    many = [home_item(n, timedelta(hours=1)) for n in range(1, 200)]
    view = home_view(HomeFacts(True, many, many, facts(150, reason="x" * 1500)), CAT, TZ)
    assert len(view["blocks"]) <= HOME_BLOCKS
    assert validate_view(view, expect=("home",)) == []
    shown = everything(view["blocks"])
    assert "… y 142 más." in shown and "desk_approve" in shown  # 8 escalations shown, the rest counted
    texts = [b["text"]["text"] for b in view["blocks"] if "text" in b and isinstance(b["text"], dict)]
    assert sum(len(t) for t in texts) < 12_000  # Slack's total of a view's text (LIMITS.md)


def test_an_empty_managers_home_says_so() -> None:
    view = home_view(HomeFacts(True, [], [], facts(0)), CAT, TZ)
    shown = everything(view["blocks"])
    assert "Cifras en vivo" in shown and "SLA de 2026-11: 5 cumplidos · 1 incumplidos · 3 en curso" in shown
    assert "desk_approve" not in shown and validate_view(view, expect=("home",)) == []


def test_a_consultant_gets_the_desk_home() -> None:
    view = home_view(HomeFacts(True, [home_item(1, None)], []), CAT, TZ)
    assert "Cifras en vivo" not in everything(view["blocks"])
