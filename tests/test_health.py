"""/healthz's verdicts on the worker loops (the database and the HTTP answer: tests/e2e/test_observability.py)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.health import STALE_AFTER, loop_problem


@dataclass
class Loop:
    running: bool = True
    alive_at: float = 100.0


def test_a_loop_is_healthy_while_it_runs_rounds() -> None:
    assert loop_problem("delivery", Loop(), now=100.0 + STALE_AFTER) is None  # type: ignore[arg-type]


def test_a_loop_that_stopped_or_never_started_is_named() -> None:
    assert loop_problem("timer", Loop(running=False), now=100.0) == "timer loop is not running"  # type: ignore[arg-type]
    assert loop_problem("inbox", None, now=100.0) == "inbox loop is not running"


def test_a_loop_stuck_in_one_round_is_named_with_how_long() -> None:
    stuck = Loop(alive_at=100.0)
    assert loop_problem("delivery", stuck, now=100.0 + STALE_AFTER + 15) == (  # type: ignore[arg-type]
        "delivery loop has not run for 75 s"
    )
