"""The desk's side of "correo sin cliente" (P-IN-6): the notice in the support channel with its button, the modal
that picks the company, and attaching the message, which opens its ticket under the same policy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.i18n import Safe
from bot.services import outbox
from bot.services.context import Services
from bot.services.desk_common import AGENT, agent_text, audit, require_agent
from bot.services.events import CardButton, FormSubmitted
from bot.services.mail_events import MailAttachForm
from storage import StaleVersion, Tx
from storage.mail_records import UnmatchedMail

__all__ = ["ACTION_ID", "ATTACH", "VIEW", "AttachChoices", "attach", "attach_choices", "notice_blocks", "open_attach"]

ACTION_ID = "desk_mail_attach"  # the notice's button (Slack action_id)
ATTACH = "mail_attach"  # the desk action it becomes
VIEW = "mail_attach"  # the modal the outbox opens


def notice_blocks(services: Services, kept: UnmatchedMail, text: str) -> list[dict[str, Any]]:
    """The channel notice: what came and why it waits, and the button that attaches it to a company."""
    label = services.catalogue.plain("es", "mail.desk.attach_button")
    button = {
        "type": "button",
        "action_id": ACTION_ID,
        "value": str(kept.id),
        "text": {"type": "plain_text", "text": label[:75]},
        "style": "primary",
    }
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": text[:2900]}},
        {"type": "actions", "block_id": f"mail_unmatched:{kept.id}", "elements": [button]},
    ]


async def _already(tx: Tx, services: Services, kept: UnmatchedMail, channel: str, user: str, at: datetime) -> None:
    ticket = None if kept.ticket_id is None else await tx.get_ticket(kept.ticket_id)
    text = agent_text(services, "mail.desk.attached_already", id=kept.id, ticket=ticket.number if ticket else "—")
    await outbox.slack_ephemeral(tx, channel, user, text, at=at)


async def open_attach(tx: Tx, services: Services, b: CardButton, now: datetime) -> None:
    """ "Asignar a una empresa": an agent or a manager picks the company in a modal (opened from the outbox
    within the trigger's 3 s). Raises NotAnAgent."""
    await require_agent(tx, b.user)
    kept = None if b.value is None else await tx.get_unmatched_mail(b.value)
    if kept is None:
        return
    if kept.handled_at is not None:
        await _already(tx, services, kept, b.channel, b.user, now)
        return
    view = {"view": VIEW, "mail_id": kept.id, "channel": b.channel, "ts": b.message_ts}
    await outbox.slack_modal(tx, b.trigger_id, view, at=now)


@dataclass(frozen=True)
class AttachChoices:
    """What the modal shows: the message, and the companies to choose from (id, name)."""

    mail_id: int
    address: str
    name: str
    subject: str
    clients: tuple[tuple[int, str], ...]


async def attach_choices(services: Services, mail_id: int) -> AttachChoices | None:
    """The modal's content, read when it is opened (None: the message is gone)."""
    async with services.store.transaction() as tx:
        kept = await tx.get_unmatched_mail(mail_id)
        clients = tuple((c.id, c.name) for c in await tx.list_clients())
    if kept is None:
        return None
    return AttachChoices(kept.id, kept.address, kept.name, kept.subject, clients)


async def attach(tx: Tx, services: Services, f: FormSubmitted, now: datetime) -> None:
    """The modal submitted: the message opens its ticket for that company; the notice says who attached it and
    where it went. Raises NotAnAgent, NotFound (no such company)."""
    form = f.form
    assert isinstance(form, MailAttachForm)
    await require_agent(tx, f.user)
    kept = await tx.get_unmatched_mail(form.mail_id)
    if kept is None:
        return
    if kept.handled_at is not None:
        await _already(tx, services, kept, f.channel, f.user, now)
        return
    from bot.services import mail_entry  # it posts the notices this module renders

    try:
        async with tx.savepoint():
            ticket = await mail_entry.attach_unmatched(
                tx, services, kept.id, form.client_id, name=form.name or None, at=now
            )
    except StaleVersion:
        await _already(tx, services, kept, f.channel, f.user, now)
        return
    client = await tx.get_client(form.client_id)
    who = Safe(f"<@{f.user}>")
    company = client.name if client is not None else str(form.client_id)
    key = "mail.desk.attached" if ticket is not None else "mail.desk.attached_refused"
    text = agent_text(services, key, id=kept.id, address=kept.address, who=who, client=company,
                      ticket=ticket.number if ticket is not None else "—")  # fmt: skip
    await audit(tx, ticket.id if ticket else None, now, AGENT, f.user, "mail_attached_by_desk", unmatched_id=kept.id)
    if f.channel and f.message_ts:
        await outbox.slack_update(tx, f.channel, f.message_ts, text, at=now)  # the button goes with the notice
