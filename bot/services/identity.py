"""Who a Telegram user is: invite links (/start CODE), shared-contact linking, the greeting, unknown users."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bot.conversation.model import Button, Msg, ProductOption, Reply
from bot.conversation.prompts import MENU_HOME as REFUSED_MENU
from bot.conversation.prompts import REPORT_AGAIN
from bot.dates import hours_number, numeric_date
from bot.domain import contracts as dc
from bot.domain.contracts import ContractStatus
from bot.domain.entitlement import warranty_candidates
from bot.domain.remote_access import normalize_phone
from bot.domain.types import Tier
from bot.services import outbox
from bot.services.context import Services
from bot.services.convert import domain_contract, domain_product
from bot.services.intake_render import Renderer
from storage import DuplicateError, SecretBox, Tx
from storage.records import Client, Contact, Contract, Draft, Product, Ticket

__all__ = [
    "MENU_CONTACT",
    "MENU_HOME",
    "MENU_POLICY",
    "MENU_REPORT",
    "MENU_TICKETS",
    "ClientTurn",
    "Profile",
    "choose_contract",
    "greet",
    "load_profile",
    "send",
    "shared_contact",
    "start",
    "unknown_user",
]

MENU_REPORT = REPORT_AGAIN  # also the button under a refused report (bot.conversation.moves.refused)
MENU_TICKETS = "m:tickets"
MENU_POLICY = "m:policy"
MENU_CONTACT = "m:contact"
MENU_HOME = REFUSED_MENU  # the greeting with the menu again (the way back after a refused report)


@dataclass(frozen=True)
class Profile:
    """A linked client contact with the contract that governs them now and their products."""

    contact: Contact
    client: Client
    contract: Contract | None
    products: tuple[Product, ...]
    # R-EVENT: the company's tickets that took a purchase order, by the per-event contract they took.
    events: Mapping[int, Ticket] = field(default_factory=dict)

    @property
    def first_name(self) -> str:
        return self.contact.name.split()[0] if self.contact.name.split() else self.contact.name

    def domain_contract(self) -> dc.Contract | None:
        if self.contract is None:
            return None
        return domain_contract(self.contract, self.events.get(self.contract.id))

    def used_purchase_orders(self) -> dict[str, str]:
        """R-EVENT: every purchase order the company already used, with the ticket that used it."""
        return {t.purchase_order: t.number for t in self.events.values() if t.purchase_order}

    def options(self) -> tuple[ProductOption, ...]:
        """The products the intake offers: those of the governing contract, or not tied to any."""
        contract_id = self.contract.id if self.contract is not None else None
        return tuple(
            ProductOption(p.id, domain_product(p))
            for p in self.products
            if p.contract_id is None or p.contract_id == contract_id
        )


def choose_contract(
    contracts: Sequence[Contract], today: date, events: Mapping[int, Ticket] | None = None
) -> Contract | None:
    """The active contract ending last (P-POL-2; a per-event one whose ticket was taken is not active, R-EVENT);
    else the one ending last, so a refusal can say why."""
    if not contracts:
        return None
    taken = events or {}
    active = [c for c in contracts if domain_contract(c, taken.get(c.id)).status(today) is ContractStatus.ACTIVE]
    pool = active or list(contracts)
    return max(pool, key=lambda c: (c.ends_on, c.id))


async def load_profile(tx: Tx, telegram_user_id: int, today: date) -> Profile | None:
    """The linked contact's profile, or None for a Telegram user nobody linked."""
    contact = await tx.get_contact_by_telegram_user(telegram_user_id)
    if contact is None:
        return None
    client = await tx.get_client(contact.client_id)
    if client is None:
        return None
    contracts = await tx.contracts_for_client(client.id)
    events: dict[int, Ticket] = {}
    if any(c.tier is Tier.PER_EVENT for c in contracts):
        events = {t.contract_id: t for t in await tx.list_purchase_order_tickets(client.id) if t.contract_id}
    contract = choose_contract(contracts, today, events)
    products = tuple(await tx.list_products(client.id))
    return Profile(contact, client, contract, products, events)


@dataclass
class ClientTurn:
    """One client event being handled: the open transaction, who is asking, and what their chat has in
    progress, loaded once by the client entry and handed to the use case the event is routed to."""

    tx: Tx
    services: Services
    box: SecretBox
    chat_id: int
    user_id: int
    lang: str
    first_name: str
    now: datetime
    profile: Profile | None
    draft: Draft | None

    @property
    def today(self) -> date:
        return self.now.astimezone(self.services.settings.zone).date()

    @property
    def draft_kind(self) -> str | None:
        """What the chat's open draft is for ("intake", "escalate", "bridge"), or None."""
        return None if self.draft is None else str(self.draft.data.get("kind", "intake"))

    def renderer(self, lang: str | None = None) -> Renderer:
        """Texts in the client's language, greeting them by name when they are linked."""
        p = self.profile
        client, name = (p.client.name, p.first_name) if p is not None else ("", "")
        return Renderer.for_services(self.services, lang or self.lang, client=client, name=name)

    async def say(self, reply: Reply, *, renderer: Renderer | None = None, **extra: Any) -> None:
        """Queue one reply to the chat."""
        await send(self.tx, self.chat_id, renderer or self.renderer(), reply, self.now, **extra)

    async def reload_profile(self) -> Profile | None:
        """Read the profile again (after the chat was linked to a contact)."""
        self.profile = await load_profile(self.tx, self.user_id, self.today)
        return self.profile


async def send(tx: Tx, chat_id: int, renderer: Renderer, reply: Reply, at: datetime, **extra: Any) -> None:
    """Queue one rendered reply to the chat (the outbox keeps the chat's order)."""
    text, keyboard = renderer.reply(reply)
    await outbox.telegram_send(tx, chat_id, text, at=at, keyboard=keyboard, **extra)


def menu() -> tuple[tuple[Button, ...], ...]:
    """The main menu (CONVERSATION.md): report, tickets, contract, contact."""
    return (
        (Button(Msg("menu.report"), MENU_REPORT), Button(Msg("menu.tickets"), MENU_TICKETS)),
        (Button(Msg("menu.contract"), MENU_POLICY), Button(Msg("menu.contact"), MENU_CONTACT)),
    )


def greeting_lines(profile: Profile, services: Services, today: date, lang: str) -> list[Msg]:
    """Hello, the contract and its hours left (P-POL-8 in one line), and a low-hours hint."""
    contract = profile.domain_contract()
    if contract is None or contract.status(today) is not ContractStatus.ACTIVE:
        if warranty_candidates((o.product for o in profile.options()), today):
            return [Msg("greeting.no_contract"), Msg("intake.warranty.only")]  # R-WARRANTY: the free route
        return [Msg("greeting.no_contract")]
    valid = numeric_date(contract.ends_on, lang, catalogue=services.catalogue)
    if services.tiers[contract.tier].needs_purchase_order:
        return [Msg("greeting.per_event", {"valid_until": valid})]
    left, total = hours_number(float(contract.hours_left)), hours_number(float(contract.hours_total))
    lines = [
        Msg(
            "greeting.active",
            {
                "tier": Msg(f"tier.{contract.tier.value}"),
                "valid_until": valid,
                "hours_left": left,
                "hours_total": total,
            },
        )
    ]
    if contract.is_low(services.settings.low_hours_warning_percent):
        lines.append(Msg("greeting.low_hours", {"hours_left": left, "hours_total": total}))
    return lines


async def greet(t: ClientTurn, *, before: Sequence[Msg] = ()) -> None:
    """The greeting with the menu; offers to resume an unfinished report."""
    assert t.profile is not None
    lines = [*before, *greeting_lines(t.profile, t.services, t.today, t.lang)]
    await t.say(Reply(tuple(lines), menu()), remove_keyboard=True)
    if t.draft_kind == "intake":
        resume = (Button(Msg("greeting.resume_continue"), "r:go"), Button(Msg("greeting.resume_discard"), "r:new"))
        await t.say(Reply((Msg("greeting.resume"),), (resume,)))


async def unknown_user(t: ClientTurn, key: str = "contact.unknown_user") -> None:
    """P-CONTACT-1: the company's contact details and how to get an invite, nothing else."""
    label = t.services.catalogue.plain(t.lang, "contact.share_phone")
    await t.say(Reply((Msg(key),)), renderer=Renderer.for_services(t.services, t.lang), contact_button=label)


async def start(t: ClientTurn, code: str | None) -> None:
    """`/start` or `/start CODE` (an invite's deep link)."""
    if code and t.profile is None:
        result = await t.tx.redeem_invite(code.strip()[:64], t.user_id, t.now)
        if not result.ok or result.invite is None:
            await unknown_user(t, "contact.invite_invalid")
            return
        name = result.invite.contact_name or t.first_name
        try:
            await t.tx.add_contact(result.invite.client_id, name, language=t.lang, telegram_user_id=t.user_id, at=t.now)
        except DuplicateError:
            pass  # linked meanwhile by another path: the profile below finds it
        if await t.reload_profile() is not None:
            await _welcome(t, "invite_redeemed", {"code": code})
    elif t.profile is None:
        await unknown_user(t)
    else:
        await greet(t)


async def _welcome(t: ClientTurn, action: str, data: dict[str, Any]) -> None:
    assert t.profile is not None
    await greet(t, before=[Msg("contact.invite_accepted", {"name": t.profile.first_name})])
    await t.tx.append_audit(None, at=t.now, actor_kind="client", actor_id=str(t.user_id), action=action, data=data)


async def shared_contact(t: ClientTurn, *, phone: str, contact_user_id: int | None) -> None:
    """A shared contact links by the registered phone only when it is the sender's own (LIMITS.md)."""
    if t.profile is not None:
        await greet(t)
    elif contact_user_id != t.user_id:
        await unknown_user(t, "contact.phone_not_yours")
    else:
        # A deactivated (or forgotten) contact is never linked again: the company invites the person anew.
        candidates = [c for c in await t.tx.find_contact_by_phone(phone) if c.telegram_user_id is None and c.active]
        if len(candidates) != 1 or not normalize_phone(phone):
            await unknown_user(t, "contact.phone_not_found")
            return
        await t.tx.link_telegram_user(candidates[0].id, t.user_id)
        if await t.reload_profile() is not None:
            await _welcome(t, "phone_linked", {})
