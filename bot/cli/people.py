"""`supportbot clients|contacts|invites`: the companies, the people who report for them (P-ESC-2,
P-CLOSE-2, LFPDPPP), and the one-time codes that link a Telegram user to a company."""

from __future__ import annotations

import argparse
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

from bot.cli.base import CliError, command, require_client, transaction
from bot.cli.parser import Noun, positive_hours, positive_int, whole
from bot.cli.text import emit, say, stamp, yes_no
from bot.clock import utcnow
from bot.domain.types import TicketStatus
from bot.i18n import Catalogue
from bot.services import contacts
from bot.services.convert import domain_contract
from bot.settings import Settings
from bot.validation import check_name, check_phone
from storage import Tx
from storage.records import Contact, Invite

__all__ = ["add_parsers"]

# Invite codes are typed by hand sometimes: no 0/O or 1/I/L to confuse.
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    clients = Noun(sub, "clients")
    clients.verb("add").arg("name").arg("--phone", default="").arg("--tax-id", default=None).arg("--notes", default="")
    clients.verb("list").arg("--json", action="store_true")
    (clients.verb("edit").arg("client_id", type=positive_int, metavar="ID").arg("--name", default=None)
     .arg("--phone", default=None).arg("--tax-id", default=None).arg("--notes", default=None))  # fmt: skip

    people = Noun(sub, "contacts")
    (people.verb("add").arg("--client", type=whole, required=True).arg("--name", required=True)
     .arg("--phone", default="").arg("--language", choices=["es", "en"], default="es"))  # fmt: skip
    people.verb("list").arg("--client", type=whole, default=None).arg("--json", action="store_true")
    people.verb("show").arg("contact_id", type=positive_int, metavar="ID")
    (people.verb("edit").arg("contact_id", type=positive_int, metavar="ID").arg("--name", default=None)
     .arg("--phone", default=None).arg("--acts-for-company", choices=["yes", "no"], default=None))  # fmt: skip
    people.verb("deactivate").arg("contact_id", type=positive_int, metavar="ID")
    people.verb("forget").arg("contact_id", type=positive_int, metavar="ID")

    invites = Noun(sub, "invites")
    (invites.verb("create").arg("--client", type=whole, required=True).arg("--name", required=True)
     .arg("--ttl-hours", type=positive_hours, default=None))  # fmt: skip
    invites.verb("list").arg("--client", type=whole, default=None).arg("--json", action="store_true")
    invites.verb("revoke").arg("code")


# --- clients ----------------------------------------------------------------------------------------------
async def _same_name(tx: Tx, name: str, but: int | None = None) -> None:
    for other in await tx.list_clients():
        if other.name.casefold() == name.casefold() and other.id != but:
            raise CliError(say("duplicate.client", name=other.name, id=other.id))


@command("clients", "add")
async def _clients_add(args: argparse.Namespace, settings: Settings) -> int:
    async with transaction(settings) as tx:
        name, phone = check_name(args.name), check_phone(args.phone)
        await _same_name(tx, name)
        client = await tx.add_client(name, phone=phone, tax_id=args.tax_id, notes=args.notes, at=utcnow())
    print(say("client.added", id=client.id, name=client.name))
    return 0


@command("clients", "edit")
async def _clients_edit(args: argparse.Namespace, settings: Settings) -> int:
    async with transaction(settings) as tx:
        await require_client(tx, args.client_id)
        name = None if args.name is None else check_name(args.name)
        phone = None if args.phone is None else check_phone(args.phone)
        if name is not None:
            await _same_name(tx, name, but=args.client_id)
        client = await tx.update_client(args.client_id, name=name, phone=phone, tax_id=args.tax_id, notes=args.notes)
    print(say("client.edited", id=client.id, name=client.name, phone=client.phone or "-"))
    return 0


@command("clients", "list")
async def _clients_list(args: argparse.Namespace, settings: Settings) -> int:
    today = utcnow().astimezone(settings.zone).date()
    async with transaction(settings) as tx:
        rows = []
        for client in await tx.list_clients():
            live = [
                c
                for c in await tx.contracts_for_client(client.id)
                if domain_contract(c).status(today).value == "active"
            ]
            rows.append(
                {"id": client.id, "name": client.name, "phone": client.phone, "tax_id": client.tax_id,
                 "contacts": len(await tx.list_contacts(client.id)),
                 "contract": live[-1].number if live else None, "created_at": client.created_at}
            )  # fmt: skip
    emit(rows, [("id", "id"), ("name", "name"), ("phone", "phone"), ("tax_id", "tax_id"), ("contacts", "contacts"),
                ("contract", "active_contract")], as_json=args.json)  # fmt: skip
    return 0


# --- contacts ---------------------------------------------------------------------------------------------
def _contact_state(contact: Contact) -> str:
    if contact.forgotten_at is not None:
        return "forgotten"
    return "active" if contact.active else "deactivated"


@asynccontextmanager
async def _contact_tx(settings: Settings) -> AsyncIterator[Tx]:
    """A transaction whose contact refusals (unknown, forgotten, deactivated) are one-line errors."""
    async with transaction(settings) as tx:
        try:
            yield tx
        except contacts.ContactRefused as exc:
            raise CliError(say(f"refused.{exc.key}", **exc.params)) from None


@command("contacts", "add")
async def _contacts_add(args: argparse.Namespace, settings: Settings) -> int:
    async with transaction(settings) as tx:
        client = await require_client(tx, args.client)
        name, phone = check_name(args.name), check_phone(args.phone)
        contact = await tx.add_contact(client.id, name, phone=phone, language=args.language, at=utcnow())
    print(say("contact.added", id=contact.id, name=contact.name, client=client.name))
    return 0


@command("contacts", "list")
async def _contacts_list(args: argparse.Namespace, settings: Settings) -> int:
    async with _contact_tx(settings) as tx:
        if args.client is not None:
            await require_client(tx, args.client)
        names = {c.id: c.name for c in await tx.list_clients()}
        found = await tx.list_contacts(args.client)
    rows: list[dict[str, Any]] = [
        {"id": c.id, "client_id": c.client_id, "client": names.get(c.client_id, "?"), "name": c.name,
         "phone": c.phone, "email": c.email, "language": c.language, "telegram_user_id": c.telegram_user_id,
         "acts_for_company": c.acts_for_company, "active": c.active, "forgotten_at": c.forgotten_at,
         "created_at": c.created_at, "state": _contact_state(c)}
        for c in found
    ]  # fmt: skip
    if not args.json:
        rows = [{**r, "acts_for_company": yes_no(r["acts_for_company"]), "state": say(f"contact.state.{r['state']}")}
                for r in rows]  # fmt: skip
    emit(rows, [("id", "id"), ("client", "client"), ("name", "name"), ("phone", "phone"),
                ("telegram_user_id", "telegram"), ("language", "language"),
                ("acts_for_company", "acts_for_company"), ("state", "state")], as_json=args.json)  # fmt: skip
    return 0


@command("contacts", "show")
async def _contacts_show(args: argparse.Namespace, settings: Settings) -> int:
    async with _contact_tx(settings) as tx:
        contact = await contacts.require(tx, args.contact_id)
        client = await tx.get_client(contact.client_id)
        reported = await tx.list_tickets(contact_id=contact.id)
    state = say(f"contact.state.{_contact_state(contact)}")
    if contact.forgotten_at is not None:
        state = say("contact.forgotten_on", state=state, day=contact.forgotten_at.astimezone(settings.zone).date())
    waiting = (TicketStatus.NEW, TicketStatus.ASSIGNED, TicketStatus.WAITING_CLIENT)
    lines = [
        ("contact", f"{contact.id}  {contact.name}"),
        ("client", f"{contact.client_id}  {client.name if client else '?'}"),
        ("phone", contact.phone or "-"),
        ("email", contact.email or "-"),
        ("language", contact.language),
        ("telegram", str(contact.telegram_user_id or say("contact.not_linked"))),
        ("acts", f"{yes_no(contact.acts_for_company)} (P-ESC-2, P-CLOSE-2)"),
        ("state", state),
        ("tickets", say("contact.tickets", reported=len(reported), open=sum(t.status in waiting for t in reported))),
    ]
    labels = {key: say(f"contact.show.{key}") for key, _ in lines}
    width = max(len(label) for label in labels.values()) + 1
    for key, value in lines:
        print(f"{labels[key]:<{width}}{value}")
    return 0


@command("contacts", "edit")
async def _contacts_edit(args: argparse.Namespace, settings: Settings) -> int:
    acts = None if args.acts_for_company is None else args.acts_for_company == "yes"
    async with _contact_tx(settings) as tx:
        name = None if args.name is None else check_name(args.name)
        phone = None if args.phone is None else check_phone(args.phone)
        contact = await contacts.edit(
            tx, args.contact_id, name=name, phone=phone, acts_for_company=acts, at=utcnow(), actor="cli"
        )
    print(say("contact.edited", id=contact.id, name=contact.name, client=contact.client_id,
              acts=yes_no(contact.acts_for_company)))  # fmt: skip
    return 0


@command("contacts", "deactivate")
async def _contacts_deactivate(args: argparse.Namespace, settings: Settings) -> int:
    async with _contact_tx(settings) as tx:
        contact = await contacts.deactivate(tx, args.contact_id, at=utcnow(), actor="cli")
    print(say("contact.deactivated", id=contact.id, name=contact.name, client=contact.client_id))
    return 0


def _count(n: int, what: str) -> str:
    return say(f"count.{what}.{'one' if n == 1 else 'many'}", n=n)


@command("contacts", "forget")
async def _contacts_forget(args: argparse.Namespace, settings: Settings) -> int:
    """LFPDPPP: asks nothing (the request was checked before running it); an unfinished conversation of the
    person is erased with the rest rather than blocking the erasure."""
    async with _contact_tx(settings) as tx:
        done = await contacts.forget(tx, Catalogue.load(), args.contact_id, at=utcnow(), actor="cli")
    r = done.result
    print(say("contact.forgotten", id=r.contact.id, drafts=_count(r.drafts, "drafts"),
              secrets=_count(r.credentials, "secrets"), tickets=_count(r.tickets, "tickets")))  # fmt: skip
    return 0


# --- invites ----------------------------------------------------------------------------------------------
@command("invites", "create")
async def _invites_create(args: argparse.Namespace, settings: Settings) -> int:
    now = utcnow()
    ttl = args.ttl_hours if args.ttl_hours is not None else settings.invite_code_ttl_hours
    code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
    async with transaction(settings) as tx:
        client = await require_client(tx, args.client)
        invite = await tx.create_invite(
            code, client.id, check_name(args.name), expires_at=now + timedelta(hours=ttl), at=now
        )
    print(say("invite.created", code=invite.code, name=invite.contact_name, client=client.name,
              until=stamp(invite.expires_at, settings.zone)))  # fmt: skip
    print(say("invite.how", code=invite.code))
    return 0


def _invite_state(invite: Invite, now: datetime) -> str:
    return "used" if invite.used_at else ("expired" if invite.expires_at <= now else "open")


@command("invites", "list")
async def _invites_list(args: argparse.Namespace, settings: Settings) -> int:
    now = utcnow()
    async with transaction(settings) as tx:
        if args.client is not None:
            await require_client(tx, args.client)
        names = {c.id: c.name for c in await tx.list_clients()}
        invites = await tx.list_invites(args.client)
    rows: list[dict[str, Any]] = [
        {"code": i.code, "client_id": i.client_id, "client": names.get(i.client_id, "?"), "name": i.contact_name,
         "expires_at": i.expires_at, "state": _invite_state(i, now), "used_at": i.used_at}
        for i in invites
    ]  # fmt: skip
    if not args.json:
        rows = [{**r, "expires_at": stamp(r["expires_at"], settings.zone), "state": say(f"invite.state.{r['state']}")}
                for r in rows]  # fmt: skip
    emit(rows, [("code", "code"), ("client", "client"), ("name", "for"), ("expires_at", "expires"),
                ("state", "state")], as_json=args.json)  # fmt: skip
    return 0


@command("invites", "revoke")
async def _invites_revoke(args: argparse.Namespace, settings: Settings) -> int:
    now = utcnow()
    code = args.code.strip().upper()
    async with transaction(settings) as tx:
        found = [i for i in await tx.list_invites() if i.code == code]
        if not found:
            raise CliError(say("missing.invite", code=code))
        if found[0].used_at is not None:
            raise CliError(say("invite.already_used", code=code))
        invite = await tx.expire_invite(code, now)
        await tx.append_audit(None, at=now, actor_kind="cli", actor_id="cli", action="invite_revoked",
                              data={"code": code, "client_id": invite.client_id})  # fmt: skip
    print(say("invite.revoked", code=code, name=invite.contact_name))
    return 0
