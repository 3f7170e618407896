"""Who a Telegram user is: invite links (/start CODE), shared-contact linking, the greeting, unknown users."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.conversation.model import Button, Msg, ProductOption, Reply
from bot.dates import hours_number, numeric_date
from bot.domain import contracts as dc
from bot.domain.contracts import ContractStatus
from bot.domain.remote_access import normalize_phone
from bot.services import outbox
from bot.services.context import Services
from bot.services.convert import domain_contract, domain_product
from bot.services.intake_render import Renderer
from storage import DuplicateError, Tx
from storage.records import Client, Contact, Contract, Product

__all__ = [
    "MENU_CONTACT",
    "MENU_POLICY",
    "MENU_REPORT",
    "MENU_TICKETS",
    "Profile",
    "choose_contract",
    "greet",
    "load_profile",
    "send",
    "shared_contact",
    "start",
    "unknown_user",
]

TELEGRAM = "telegram"
MENU_REPORT = "m:report"
MENU_TICKETS = "m:tickets"
MENU_POLICY = "m:policy"
MENU_CONTACT = "m:contact"


@dataclass(frozen=True)
class Profile:
    """A linked client contact with the contract that governs them now and their products."""

    contact: Contact
    client: Client
    contract: Contract | None
    products: tuple[Product, ...]

    @property
    def first_name(self) -> str:
        return self.contact.name.split()[0] if self.contact.name.split() else self.contact.name

    def domain_contract(self) -> dc.Contract | None:
        return None if self.contract is None else domain_contract(self.contract)

    def options(self) -> tuple[ProductOption, ...]:
        """The products the intake offers: those of the governing contract, or not tied to any."""
        contract_id = self.contract.id if self.contract is not None else None
        return tuple(
            ProductOption(p.id, domain_product(p))
            for p in self.products
            if p.contract_id is None or p.contract_id == contract_id
        )


def choose_contract(contracts: Sequence[Contract], today: date) -> Contract | None:
    """The active contract ending last (P-POL-2); else the one ending last, so a refusal can say why."""
    if not contracts:
        return None
    active = [c for c in contracts if domain_contract(c).status(today) is ContractStatus.ACTIVE]
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
    contract = choose_contract(await tx.contracts_for_client(client.id), today)
    products = tuple(await tx.list_products(client.id))
    return Profile(contact, client, contract, products)


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


async def greet(
    tx: Tx, services: Services, profile: Profile, chat_id: int, lang: str, *, before: Sequence[Msg] = ()
) -> None:
    """The greeting with the menu; offers to resume an unfinished report."""
    now = services.clock()
    today = now.astimezone(services.settings.zone).date()
    renderer = Renderer.for_services(services, lang, client=profile.client.name, name=profile.first_name)
    lines = [*before, *greeting_lines(profile, services, today, lang)]
    await send(tx, chat_id, renderer, Reply(tuple(lines), menu()), now, remove_keyboard=True)
    draft = await tx.get_draft(chat_id)
    if draft is not None and draft.data.get("kind") == "intake":
        resume = (Button(Msg("greeting.resume_continue"), "r:go"), Button(Msg("greeting.resume_discard"), "r:new"))
        await send(tx, chat_id, renderer, Reply((Msg("greeting.resume"),), (resume,)), now)


async def unknown_user(tx: Tx, services: Services, chat_id: int, lang: str, key: str = "contact.unknown_user") -> None:
    """P-CONTACT-1: the company's contact details and how to get an invite, nothing else."""
    now = services.clock()
    renderer = Renderer.for_services(services, lang)
    label = services.catalogue.plain(lang, "contact.share_phone")
    await send(tx, chat_id, renderer, Reply((Msg(key),)), now, contact_button=label)


async def start(
    services: Services, *, update_key: str, chat_id: int, user_id: int, first_name: str, lang: str, code: str | None
) -> None:
    """`/start` or `/start CODE` (an invite's deep link)."""
    now = services.clock()
    today = now.astimezone(services.settings.zone).date()
    async with services.store.transaction() as tx:
        if not await tx.mark_processed(TELEGRAM, update_key, now):
            return
        profile = await load_profile(tx, user_id, today)
        if code and profile is None:
            result = await tx.redeem_invite(code.strip()[:64], user_id, now)
            if result.ok and result.invite is not None:
                name = result.invite.contact_name or first_name
                try:
                    await tx.add_contact(result.invite.client_id, name, language=lang, telegram_user_id=user_id, at=now)
                except DuplicateError:
                    pass  # linked meanwhile by another path: the profile below finds it
                profile = await load_profile(tx, user_id, today)
                if profile is not None:
                    accepted = Msg("contact.invite_accepted", {"name": profile.first_name})
                    await greet(tx, services, profile, chat_id, lang, before=[accepted])
                    await tx.append_audit(
                        None,
                        at=now,
                        actor_kind="client",
                        actor_id=str(user_id),
                        action="invite_redeemed",
                        data={"code": code},
                    )
            else:
                await unknown_user(tx, services, chat_id, lang, "contact.invite_invalid")
        elif profile is None:
            await unknown_user(tx, services, chat_id, lang)
        else:
            await greet(tx, services, profile, chat_id, lang)
    services.wake_delivery()


async def shared_contact(
    services: Services,
    *,
    update_key: str,
    chat_id: int,
    user_id: int,
    phone: str,
    contact_user_id: int | None,
    lang: str,
) -> None:
    """A shared contact links by the registered phone only when it is the sender's own (LIMITS.md)."""
    now = services.clock()
    today = now.astimezone(services.settings.zone).date()
    async with services.store.transaction() as tx:
        if not await tx.mark_processed(TELEGRAM, update_key, now):
            return
        profile = await load_profile(tx, user_id, today)
        if profile is not None:
            await greet(tx, services, profile, chat_id, lang)
        elif contact_user_id != user_id:
            await unknown_user(tx, services, chat_id, lang, "contact.phone_not_yours")
        else:
            candidates = [c for c in await tx.find_contact_by_phone(phone) if c.telegram_user_id is None]
            if len(candidates) != 1 or not normalize_phone(phone):
                await unknown_user(tx, services, chat_id, lang, "contact.phone_not_found")
            else:
                await tx.link_telegram_user(candidates[0].id, user_id)
                profile = await load_profile(tx, user_id, today)
                if profile is not None:
                    accepted = Msg("contact.invite_accepted", {"name": profile.first_name})
                    await greet(tx, services, profile, chat_id, lang, before=[accepted])
                    await tx.append_audit(
                        None, at=now, actor_kind="client", actor_id=str(user_id), action="phone_linked", data={}
                    )
    services.wake_delivery()
