"""The repository protocol for clients, contacts, contracts and hours, products, agents, invites."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

from bot.domain.types import HoursKind, Role, ServiceArea, Tier
from storage.records import (
    Agent,
    Client,
    Contact,
    Contract,
    ForgetResult,
    HoursEntry,
    Invite,
    Product,
    RedeemResult,
)

__all__ = ["PeopleTx"]


class PeopleTx(Protocol):
    """Clients, contacts, contracts and their hours ledger, products, agents, invites."""

    # --- clients and contacts -------------------------------------------------------------------------
    async def add_client(
        self, name: str, *, phone: str = "", tax_id: str | None = None, notes: str = "", at: datetime
    ) -> Client:
        """Args: the client's data and creation time. Returns: the new Client."""
        ...

    async def get_client(self, client_id: int) -> Client | None:
        """Args: id. Returns: the Client or None."""
        ...

    async def list_clients(self) -> list[Client]:
        """Returns: every client, by name."""
        ...

    async def add_contact(
        self,
        client_id: int,
        name: str,
        *,
        phone: str = "",
        language: str = "es",
        telegram_user_id: int | None = None,
        at: datetime,
    ) -> Contact:
        """Args: owning client and contact data. Returns: the Contact. Raises DuplicateError (telegram id)."""
        ...

    async def get_contact(self, contact_id: int) -> Contact | None:
        """Args: id. Returns: the Contact or None."""
        ...

    async def get_contact_by_telegram_user(self, telegram_user_id: int) -> Contact | None:
        """Args: Telegram user id. Returns: the linked Contact or None."""
        ...

    async def find_contact_by_phone(self, phone: str) -> list[Contact]:
        """Args: a phone in any format. Returns: contacts whose number matches on its last 10 digits."""
        ...

    async def link_telegram_user(self, contact_id: int, telegram_user_id: int) -> Contact:
        """Args: contact, Telegram user. Returns: updated Contact. Raises NotFound, DuplicateError."""
        ...

    async def set_contact_unreachable(self, telegram_user_id: int, since: datetime | None) -> Contact | None:
        """Mark (since = when) or clear (None) that the Telegram user blocked the bot.
        Returns: the updated Contact, or None when nobody is linked to that Telegram user."""
        ...

    async def list_contacts(self, client_id: int | None = None) -> list[Contact]:
        """Args: optional client filter. Returns: contacts by id (deactivated and forgotten ones too)."""
        ...

    async def update_contact(
        self,
        contact_id: int,
        *,
        name: str | None = None,
        phone: str | None = None,
        acts_for_company: bool | None = None,
    ) -> Contact:
        """Change what is given (None: keep). acts_for_company: may act on all the company's tickets
        (P-ESC-2, P-CLOSE-2). Returns: the updated Contact. Raises NotFound, InvalidValue (blank name, or a
        forgotten contact: their data does not come back)."""
        ...

    async def deactivate_contact(self, contact_id: int) -> Contact:
        """Stop a contact acting: inactive, no longer acting for the company, unlinked from their Telegram user
        (free to be invited again as a new contact), whose drafts are deleted. Name and phone stay for the
        history. Idempotent. Returns: the updated Contact. Raises NotFound."""
        ...

    async def forget_contact(self, contact_id: int, *, name: str, at: datetime) -> ForgetResult:
        """Erase a person's data on request (LFPDPPP), all or nothing: the contact's name becomes `name`, its
        phone, language and Telegram link go, it is deactivated and marked forgotten at `at` (the first time);
        their Telegram user's drafts are deleted; the tickets they reported keep number, hours and audit but
        lose their Telegram chat and stored secrets; where their Telegram id was kept (a redeemed invite, an
        escalation they asked for) it is replaced too. Idempotent. Returns: what was touched.
        Raises NotFound, InvalidValue (blank name)."""
        ...

    # --- contracts, hours, products -------------------------------------------------------------------
    async def add_contract(
        self,
        *,
        number: str,
        client_id: int,
        tier: Tier,
        starts_on: date,
        ends_on: date,
        minutes_total: int,
        onsite_minutes_total: int = 0,
        purchase_order: str | None = None,
        special_eol_support: bool = False,
        office_minutes_total: int = 0,
    ) -> Contract:
        """Args: contract data (hours in minutes; on-site and in-office advice are two pools, R-POOLS).
        Returns: the Contract. Raises DuplicateError (number)."""
        ...

    async def get_contract(self, contract_id: int) -> Contract | None:
        """Args: id. Returns: the Contract or None."""
        ...

    async def get_contract_by_number(self, number: str) -> Contract | None:
        """Args: contract number. Returns: the Contract or None."""
        ...

    async def list_contracts(self, client_id: int | None = None) -> list[Contract]:
        """Args: optional client filter. Returns: contracts by ends_on then id."""
        ...

    async def contracts_for_client(self, client_id: int) -> list[Contract]:
        """Args: client. Returns: that client's contracts by ends_on then id."""
        ...

    async def list_expiring(self, before: date, *, on_or_after: date | None = None) -> list[Contract]:
        """Args: end bound (exclusive), optional start bound. Returns: contracts ending there, by ends_on."""
        ...

    async def record_hours(
        self,
        contract_id: int,
        ticket_id: int | None,
        minutes: int,
        kind: HoursKind,
        charged: bool,
        at: datetime,
    ) -> Contract:
        """Append to the hours ledger; charged REMOTE minutes add to minutes_used, charged IN_OFFICE minutes to
        office_minutes_used and charged ON_SITE minutes to onsite_minutes_used (P-POL-6 counts them apart, R-POOLS:
        two pools). Returns: the updated Contract."""
        ...

    async def list_hours(self, contract_id: int) -> list[HoursEntry]:
        """Args: contract. Returns: its ledger in order."""
        ...

    async def add_product(
        self,
        client_id: int,
        name: str,
        service_area: ServiceArea,
        *,
        contract_id: int | None = None,
        warranty_until: date | None = None,
        discontinued: bool = False,
        special_support: bool = False,
    ) -> Product:
        """Args: product data. Returns: the Product."""
        ...

    async def get_product(self, product_id: int) -> Product | None:
        """Args: id. Returns: the Product or None."""
        ...

    async def set_product_discontinued(self, product_id: int, discontinued: bool) -> Product:
        """Args: product, flag (P-POL-7). Returns: updated Product. Raises NotFound."""
        ...

    async def set_product_warranty(self, product_id: int, warranty_until: date | None) -> Product:
        """Args: product, warranty end (P-POL-4). Returns: updated Product. Raises NotFound."""
        ...

    async def list_products(self, client_id: int) -> list[Product]:
        """Args: client. Returns: its products by name."""
        ...

    # --- agents and invites ---------------------------------------------------------------------------
    async def add_agent(self, name: str, slack_user_id: str, role: Role, *, active: bool = True) -> Agent:
        """Args: agent data. Returns: the Agent. Raises DuplicateError (slack id)."""
        ...

    async def get_agent(self, agent_id: int) -> Agent | None:
        """Args: id. Returns: the Agent or None."""
        ...

    async def get_agent_by_slack(self, slack_user_id: str) -> Agent | None:
        """Args: Slack user id. Returns: the Agent or None."""
        ...

    async def set_agent_active(self, agent_id: int, active: bool) -> Agent:
        """Args: agent, flag. Returns: updated Agent. Raises NotFound."""
        ...

    async def list_agents(self, role: Role | None = None, *, active_only: bool = False) -> list[Agent]:
        """Args: optional role filter, active filter. Returns: agents by name."""
        ...

    async def create_invite(
        self, code: str, client_id: int, contact_name: str, *, expires_at: datetime, at: datetime
    ) -> Invite:
        """Args: one-time code and its target. Returns: the Invite. Raises DuplicateError (code)."""
        ...

    async def redeem_invite(self, code: str, telegram_user_id: int, now: datetime) -> RedeemResult:
        """Atomically mark an unused, unexpired invite as used. Returns: outcome (OK/UNKNOWN/USED/EXPIRED)."""
        ...

    async def list_invites(self, client_id: int | None = None) -> list[Invite]:
        """Args: optional client filter. Returns: invites by id."""
        ...
