"""`supportbot mail ...`: the e-mail channel from the office (P-IN-6): "correo sin cliente" and contacts' addresses."""

from __future__ import annotations

import argparse
from typing import Any

from bot.cli.base import CliError, command, open_services, store
from bot.cli.parser import Noun, positive_int, whole
from bot.cli.text import emit, say, stamp
from bot.clock import utcnow
from bot.services import mail_entry
from bot.settings import Settings
from bot.validation import check_email
from storage import NotFound, StaleVersion

__all__ = ["add_parsers"]


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    mail = Noun(sub, "mail")
    mail.verb("list").arg("--all", action="store_true").arg("--json", action="store_true")
    (mail.verb("attach").arg("id", type=positive_int).arg("--client", type=whole, required=True)
     .arg("--name", default=None))  # fmt: skip
    mail.verb("contact").arg("contact_id", type=positive_int, metavar="ID").arg("--email", required=True)


@command("mail", "list")
async def _list(args: argparse.Namespace, settings: Settings) -> int:
    async with store(settings) as opened, opened.transaction() as tx:
        kept = await tx.list_unmatched_mail(open_only=not args.all, limit=1000)
    rows: list[dict[str, Any]] = [
        {"id": m.id, "received_at": m.received_at, "address": m.address, "name": m.name, "subject": m.subject,
         "reason": m.reason.value, "handled_at": m.handled_at, "ticket_id": m.ticket_id,
         "state": "open" if m.handled_at is None else "attached" if m.ticket_id else "closed"}
        for m in kept
    ]  # fmt: skip
    if not args.json:
        rows = [{**r, "received_at": stamp(r["received_at"], settings.zone),
                 "reason": say(f"mail.reason.{r['reason']}"), "subject": f"«{r['subject'] or '-'}»",
                 "state": say(f"mail.state.{r['state']}", ticket=r["ticket_id"])} for r in rows]  # fmt: skip
    emit(rows, [("id", "id"), ("received_at", "received"), ("address", "email"), ("name", "name"),
                ("subject", "subject"), ("reason", "reason"), ("state", "state")], as_json=args.json)  # fmt: skip
    return 0


@command("mail", "attach")
async def _attach(args: argparse.Namespace, settings: Settings) -> int:
    async with open_services(settings) as services:
        try:
            async with services.store.transaction() as tx:
                ticket = await mail_entry.attach_unmatched(
                    tx, services, args.id, args.client, name=args.name, at=utcnow()
                )
        except NotFound:
            raise CliError(say("mail.not_found", id=args.id, client=args.client)) from None
        except StaleVersion:
            raise CliError(say("mail.attached_already", id=args.id)) from None
    if ticket is None:
        print(say("mail.refused", id=args.id))
    else:
        print(say("mail.opened", id=args.id, number=ticket.number))
    return 0


@command("mail", "contact")
async def _contact(args: argparse.Namespace, settings: Settings) -> int:
    address = check_email(args.email) if args.email.strip() else None
    async with store(settings) as opened:
        try:
            async with opened.transaction() as tx:
                contact = await tx.set_contact_email(args.contact_id, address)
        except NotFound:
            raise CliError(say("refused.missing", id=args.contact_id)) from None
    print(say("mail.contact", id=contact.id, name=contact.name, email=contact.email or say("none")))
    return 0
