"""`supportbot mail ...`: the e-mail channel from the office (P-IN-6): "correo sin cliente" and contacts' addresses."""

from __future__ import annotations

import argparse

from bot.cli import CliError
from bot.clock import utcnow
from bot.i18n import Catalogue
from bot.keys import KeysUnavailable, configured_keys, secret_box
from bot.services import mail_entry
from bot.services.context import Services
from bot.settings import Settings
from bot.wiring import build_calendar, open_store, response_targets, tier_rules
from storage import NotFound, StaleVersion, StoreError

__all__ = ["add_parsers", "dispatch"]


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """The `mail` command and its actions."""
    mail = sub.add_parser("mail", help="the e-mail channel: mail without a client, contacts' addresses")
    actions = mail.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = actions.add_parser("list", help='"correo sin cliente": mail no ticket took yet (with --all: attached too)')
    p.add_argument("--all", action="store_true", help="also the messages already attached or dismissed")
    p = actions.add_parser("attach", help="attach a message of the list to a company: its sender becomes a contact")
    p.add_argument("id", type=int, help="the message's number in `supportbot mail list`")
    p.add_argument("--client", type=int, required=True, help="the company's id (`supportbot clients list`)")
    p.add_argument("--name", help="the contact's name (default: the name in the message)")
    p = actions.add_parser("contact", help="set (or clear with '') a contact's e-mail address")
    p.add_argument("contact_id", type=int, help="the contact's id (`supportbot contacts list`)")
    p.add_argument("--email", required=True, help="the address; '' clears it")


async def dispatch(args: argparse.Namespace, settings: Settings) -> int:
    try:
        if args.action == "list":
            return await _list(args, settings)
        if args.action == "attach":
            return await _attach(args, settings)
        return await _contact(args, settings)
    except (StoreError, KeysUnavailable) as exc:
        raise CliError(str(exc)) from None


async def _list(args: argparse.Namespace, settings: Settings) -> int:
    store = await open_store(settings)
    try:
        async with store.transaction() as tx:
            kept = await tx.list_unmatched_mail(open_only=not args.all, limit=1000)
    finally:
        await store.close()
    if not kept:
        print("(none)")
    zone = settings.zone
    for m in kept:
        when = m.received_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        state = "" if m.handled_at is None else f"  [attached: ticket #{m.ticket_id}]" if m.ticket_id else "  [closed]"
        print(f"{m.id:>4}  {when}  {m.address}  {m.name or '-'}  «{m.subject or '-'}»  ({m.reason.value}){state}")
    return 0


async def _attach(args: argparse.Namespace, settings: Settings) -> int:
    keys = configured_keys(settings)
    store = await open_store(settings)
    try:
        services = Services(
            settings=settings, store=store, calendar=build_calendar(settings), tiers=tier_rules(settings),
            targets=response_targets(settings), catalogue=Catalogue.load(), box=secret_box(settings, keys),
            clock=utcnow,
        )  # fmt: skip
        try:
            async with store.transaction() as tx:
                ticket = await mail_entry.attach_unmatched(
                    tx, services, args.id, args.client, name=args.name, at=utcnow()
                )
        except NotFound as exc:
            raise CliError(f"{exc}: see `supportbot mail list` and `supportbot clients list`") from None
        except StaleVersion:
            raise CliError(f"message {args.id} was attached already") from None
    finally:
        await store.close()
    if ticket is None:
        print(f"message {args.id}: the company's contract does not allow a ticket; the sender was told by e-mail")
    else:
        print(f"message {args.id}: ticket {ticket.number} opened; the running bot posts its card and answers by e-mail")
    return 0


async def _contact(args: argparse.Namespace, settings: Settings) -> int:
    store = await open_store(settings)
    try:
        async with store.transaction() as tx:
            contact = await tx.set_contact_email(args.contact_id, args.email or None)
    except NotFound:
        raise CliError(f"no contact {args.contact_id}: see `supportbot contacts list`") from None
    finally:
        await store.close()
    print(f"contact {contact.id} ({contact.name}): e-mail {contact.email or '(none)'}")
    return 0
