"""The severity question of an e-mail ticket on Telegram (R-SEVERITY, P-IN-6): the deep link in the automatic
reply (/start sev-<ticket id>) asks it with four buttons; one tap settles "severidad por confirmar"."""

from __future__ import annotations

from bot.conversation.model import Button, Msg, Reply
from bot.domain.types import Severity
from bot.services import mail_severity
from bot.services.desk_common import NotTheClient, may_act
from bot.services.identity import ClientTurn
from bot.services.mail_open import SEVERITY_DEEP_LINK

__all__ = ["TAP_PREFIX", "ask", "is_deep_link", "tapped"]

TAP_PREFIX = "ms:"  # "ms:<ticket id>:<severity>"


def is_deep_link(argument: str) -> bool:
    return argument.strip().startswith(SEVERITY_DEEP_LINK)


async def _ticket_for(t: ClientTurn, raw: str) -> int | None:
    """The ticket the link or button names, when this Telegram user may answer for it and it still waits."""
    if not raw.isdigit():
        return None
    ticket = await t.tx.get_ticket(int(raw))
    if ticket is None or not await mail_severity.is_pending(t.tx, ticket.id):
        return None
    try:
        await may_act(t.tx, ticket, t.user_id)
    except NotTheClient:
        return None
    return ticket.id


async def ask(t: ClientTurn, argument: str) -> bool:
    """/start sev-<id>: the question with its four answers. Returns: False when the link does not apply (the
    caller greets as usual)."""
    ticket_id = await _ticket_for(t, argument.strip().removeprefix(SEVERITY_DEEP_LINK))
    if ticket_id is None:
        return False
    ticket = await t.tx.get_ticket(ticket_id)
    assert ticket is not None
    rows = tuple(
        (Button(Msg(f"mail.telegram.option.{int(s)}"), f"{TAP_PREFIX}{ticket_id}:{int(s)}"),) for s in Severity
    )
    await t.say(Reply((Msg("mail.telegram.question", {"ticket": ticket.number}),), rows))
    return True


async def tapped(t: ClientTurn, data: str) -> str | None:
    """One of the four answers. Returns: a toast when the button no longer applies."""
    raw_ticket, _, raw_severity = data.removeprefix(TAP_PREFIX).partition(":")
    ticket_id = await _ticket_for(t, raw_ticket)
    if ticket_id is None or raw_severity not in {"1", "2", "3", "4"}:
        return t.services.catalogue.plain(t.lang, "bad_input.old_button")
    ticket = await t.tx.get_ticket(ticket_id)
    assert ticket is not None and t.profile is not None
    done = await mail_severity.set_by_client(
        t.tx, t.services, ticket, Severity(int(raw_severity)), name=t.profile.contact.name,
        actor=str(t.user_id), via="telegram", now=t.now,
    )  # fmt: skip
    if done is None:
        return t.services.catalogue.plain(t.lang, "bad_input.old_button")
    words = Msg(f"intake.severity.name.{raw_severity}")
    await t.say(Reply((Msg("mail.severity_confirmed", {"ticket": ticket.number, "severity": words,
                                                         "deadline": done.response_due_at}),)))  # fmt: skip
    return None
