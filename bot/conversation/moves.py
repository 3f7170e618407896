"""What every intake step shares: accepting an answer and moving on, refusing one, reading the input."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.conversation.model import (
    Button,
    Choice,
    Input,
    IntakeContext,
    IntakeState,
    Msg,
    Out,
    Reply,
    Status,
    Step,
    Text,
)
from bot.conversation.prompts import MENU_HOME, REPORT_AGAIN, prompt
from bot.domain.entitlement import RefusalReason

Result = tuple[IntakeState, list[Out]]
REFUSAL_KEYS = {
    RefusalReason.NO_CONTRACT: "contract.refused.no_contract",
    RefusalReason.NOT_STARTED: "contract.refused.no_contract",
    RefusalReason.EXPIRED: "contract.refused.expired",
    RefusalReason.HOURS_EXHAUSTED: "contract.refused.exhausted",
    RefusalReason.EVENT_IN_USE: "contract.refused.event_in_use",  # R-EVENT
    RefusalReason.EVENT_USED: "contract.refused.event_used",  # R-EVENT
}
# R-CONTACT (P-CONTACT-1): every refusal gives the phones and the support e-mail.
REACH_US = Msg("contact.reach_us")


@dataclass(frozen=True)
class Bad:
    """The answer does not fit the step: say `msg` and ask the same question again."""

    msg: Msg


Handler = Callable[[IntakeState, Input, IntakeContext], "Result | Bad"]


def refusal_msg(reason: RefusalReason, ctx: IntakeContext) -> Msg:
    """Why the contract route is closed, in words: an expired contract is "vencida" with its end date
    (R-CONTACT), a per-event one names the ticket and the purchase order that used it (R-EVENT)."""
    params: dict[str, object] = {}
    c = ctx.contract
    if c is not None:
        ticket = c.event_ticket or "—"
        order = next((po for po, number in ctx.used_purchase_orders.items() if number == ticket), None)
        params = {
            "tier": Msg(f"tier.{c.tier.value}"),
            "expired_on": c.ends_on,
            "ticket": ticket,
            "purchase_order": order or c.purchase_order or "—",
        }
    return Msg(REFUSAL_KEYS.get(reason, "contract.refused.no_contract"), params)


def refused(
    state: IntakeState,
    refusal: str,
    lines: Sequence[Msg],
    *,
    way_back: bool = False,
    reach_us: bool = True,
    **changes: object,
) -> Result:
    """End the intake without a ticket: why, then the phones and the support e-mail (R-CONTACT, P-CONTACT-1;
    `reach_us=False` when the lines already carry them). `way_back`: this report is refused, not the client,
    so they get buttons to report something else or go back to the menu (never a dead end)."""
    done = state.with_(status=Status.REFUSED, refusal=refusal, **changes)
    said = (*lines, REACH_US) if reach_us else tuple(lines)
    buttons: tuple[tuple[Button, ...], ...] = ()
    if way_back:
        buttons = ((Button(Msg("intake.refused.report_other"), REPORT_AGAIN), Button(Msg("menu.home"), MENU_HOME)),)
    return done, [Reply(said, buttons)]


def go(
    state: IntakeState, ctx: IntakeContext, target: Step, before: Sequence[Msg] = (), /, **changes: object
) -> Result:
    """Accept the answer: record it, move on (to the summary when an edit is done), ask the next question."""
    editing = state.editing
    # An edited section goes back to the summary; the description's edit does not ask "since when" again.
    if editing and target in (Step.DESCRIPTION, Step.SINCE, Step.ATTACHMENTS, Step.SUMMARY):
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
