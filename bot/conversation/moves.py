"""What every intake step shares: accepting an answer and moving on, refusing one, reading the input."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.conversation.model import (
    Choice,
    Input,
    IntakeContext,
    IntakeState,
    Msg,
    Out,
    Reply,
    Step,
    Text,
)
from bot.conversation.prompts import prompt
from bot.domain.entitlement import RefusalReason

Result = tuple[IntakeState, list[Out]]
REFUSAL_KEYS = {
    RefusalReason.NO_CONTRACT: "contract.refused.no_contract",
    RefusalReason.NOT_STARTED: "contract.refused.no_contract",
    RefusalReason.EXPIRED: "contract.refused.expired",
    RefusalReason.HOURS_EXHAUSTED: "contract.refused.exhausted",
}


@dataclass(frozen=True)
class Bad:
    """The answer does not fit the step: say `msg` and ask the same question again."""

    msg: Msg


Handler = Callable[[IntakeState, Input, IntakeContext], "Result | Bad"]


def refusal_msg(reason: RefusalReason, ctx: IntakeContext) -> Msg:
    params: dict[str, object] = {}
    if ctx.contract is not None:
        params = {"tier": Msg(f"tier.{ctx.contract.tier.value}"), "expired_on": ctx.contract.ends_on}
    return Msg(REFUSAL_KEYS.get(reason, "contract.refused.no_contract"), params)


def go(
    state: IntakeState, ctx: IntakeContext, target: Step, before: Sequence[Msg] = (), /, **changes: object
) -> Result:
    """Accept the answer: record it, move on (to the summary when an edit is done), ask the next question."""
    editing = state.editing
    if editing and target in (Step.DESCRIPTION, Step.ATTACHMENTS, Step.SUMMARY):
        target, editing = Step.SUMMARY, False
    moved = state.with_(
        step=target, seq=state.seq + 1, trail=(*state.trail, state.step.value), editing=editing, **changes
    )
    ask = prompt(moved, ctx)
    return moved, [Reply((*before, *ask.lines), ask.buttons)]


def choice_of(event: Input) -> str | None:
    return event.data if isinstance(event, Choice) else None


def text_of(event: Input) -> str | None:
    return event.text.strip() if isinstance(event, Text) else None
