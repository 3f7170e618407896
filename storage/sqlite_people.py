"""SQLite repository methods for clients, contacts, contracts and their hours, products, agents, invites."""

from __future__ import annotations

from datetime import date, datetime

from bot.domain.types import HoursKind, Role, ServiceArea, Tier
from storage import sqlite_codec as c
from storage.base import InvalidValue, NotFound
from storage.records import (
    Agent,
    Client,
    Contact,
    Contract,
    ForgetResult,
    HoursEntry,
    Invite,
    Product,
    RedeemOutcome,
    RedeemResult,
)
from storage.sqlite_txbase import TxBase, non_negative_int, positive_int

# A shorter key would match unrelated numbers; 7 digits is the shortest Mexican local number.
_MIN_PHONE_KEY = 7


class PeopleRepo(TxBase):
    """Clients, contacts, contracts, products, agents and invites."""

    async def add_client(
        self, name: str, *, phone: str = "", tax_id: str | None = None, notes: str = "", at: datetime
    ) -> Client:
        """Args: the client's data and creation time. Returns: the new Client."""
        if not name.strip():
            raise InvalidValue("a client needs a name")
        row = await self._must(
            "INSERT INTO clients (name, phone, tax_id, notes, created_at) VALUES (?, ?, ?, ?, ?) RETURNING *",
            (name.strip(), phone, tax_id, notes, c.ts(at)),
            "client insert returned nothing",
        )
        return c.client(row)

    async def get_client(self, client_id: int) -> Client | None:
        """Args: id. Returns: the Client or None."""
        row = await self._one("SELECT * FROM clients WHERE id = ?", (client_id,))
        return None if row is None else c.client(row)

    async def list_clients(self) -> list[Client]:
        """Returns: every client, by name."""
        return [c.client(r) for r in await self._all("SELECT * FROM clients ORDER BY name, id")]

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
        row = await self._must(
            "INSERT INTO contacts (client_id, name, phone, phone_key, language, telegram_user_id, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *",
            (client_id, name, phone, c.phone_key(phone), language, telegram_user_id, c.ts(at)),
            "contact insert returned nothing",
        )
        return c.contact(row)

    async def get_contact(self, contact_id: int) -> Contact | None:
        """Args: id. Returns: the Contact or None."""
        row = await self._one("SELECT * FROM contacts WHERE id = ?", (contact_id,))
        return None if row is None else c.contact(row)

    async def get_contact_by_telegram_user(self, telegram_user_id: int) -> Contact | None:
        """Args: Telegram user id. Returns: the linked Contact or None."""
        row = await self._one("SELECT * FROM contacts WHERE telegram_user_id = ?", (telegram_user_id,))
        return None if row is None else c.contact(row)

    async def find_contact_by_phone(self, phone: str) -> list[Contact]:
        """Args: a phone in any format. Returns: contacts whose number matches on its last 10 digits."""
        key = c.phone_key(phone)
        if len(key) < _MIN_PHONE_KEY:
            return []
        rows = await self._all("SELECT * FROM contacts WHERE phone_key = ? ORDER BY id", (key,))
        return [c.contact(r) for r in rows]

    async def link_telegram_user(self, contact_id: int, telegram_user_id: int) -> Contact:
        """Args: contact, Telegram user. Returns: updated Contact. Raises NotFound, DuplicateError."""
        row = await self._must(
            "UPDATE contacts SET telegram_user_id = ? WHERE id = ? RETURNING *",
            (telegram_user_id, contact_id),
            f"contact {contact_id} not found",
        )
        return c.contact(row)

    async def set_contact_unreachable(self, telegram_user_id: int, since: datetime | None) -> Contact | None:
        """Mark (since = when) or clear (None) that the Telegram user blocked the bot.
        Returns: the updated Contact, or None when nobody is linked to that Telegram user."""
        row = await self._one(
            "UPDATE contacts SET unreachable_since = ? WHERE telegram_user_id = ? RETURNING *",
            (c.ts_opt(since), telegram_user_id),
        )
        return None if row is None else c.contact(row)

    async def list_contacts(self, client_id: int | None = None) -> list[Contact]:
        """Args: optional client filter. Returns: contacts by id (deactivated and forgotten ones too)."""
        if client_id is None:
            rows = await self._all("SELECT * FROM contacts ORDER BY id")
        else:
            rows = await self._all("SELECT * FROM contacts WHERE client_id = ? ORDER BY id", (client_id,))
        return [c.contact(r) for r in rows]

    async def _existing_contact(self, contact_id: int) -> Contact:
        found = await self.get_contact(contact_id)
        if found is None:
            raise NotFound(f"contact {contact_id} not found")
        return found

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
        found = await self._existing_contact(contact_id)
        if found.forgotten_at is not None:
            raise InvalidValue(f"contact {contact_id} was forgotten: their data does not come back")
        if name is not None and not name.strip():
            raise InvalidValue("a contact needs a name")
        new_name = found.name if name is None else name.strip()
        new_phone = found.phone if phone is None else phone.strip()
        acts = found.acts_for_company if acts_for_company is None else bool(acts_for_company)
        row = await self._must(
            "UPDATE contacts SET name = ?, phone = ?, phone_key = ?, acts_for_company = ?"
            " WHERE id = ? AND forgotten_at IS NULL RETURNING *",
            (new_name, new_phone, c.phone_key(new_phone), int(acts), contact_id),
            f"contact {contact_id} not found",
        )
        return c.contact(row)

    async def deactivate_contact(self, contact_id: int) -> Contact:
        """Stop a contact acting: inactive, no longer acting for the company, unlinked from their Telegram user
        (free to be invited again as a new contact), whose drafts are deleted. Name and phone stay for the
        history. Idempotent. Returns: the updated Contact. Raises NotFound."""
        found = await self._existing_contact(contact_id)
        async with self._atomic("deactivate_contact"):
            if found.telegram_user_id is not None:
                await self._exec("DELETE FROM drafts WHERE user_id = ?", (found.telegram_user_id,))
            row = await self._must(
                "UPDATE contacts SET active = 0, acts_for_company = 0, telegram_user_id = NULL,"
                " unreachable_since = NULL WHERE id = ? RETURNING *",
                (contact_id,),
                f"contact {contact_id} not found",
            )
        return c.contact(row)

    async def forget_contact(self, contact_id: int, *, name: str, at: datetime) -> ForgetResult:
        """Erase a person's data on request (LFPDPPP), all or nothing: the contact's name becomes `name`, its
        phone, language and Telegram link go, it is deactivated and marked forgotten at `at` (the first time);
        their Telegram user's drafts are deleted; the tickets they reported keep number, hours and audit but
        lose their Telegram chat and stored secrets; where their Telegram id was kept (a redeemed invite, an
        escalation they asked for) it is replaced too. Idempotent. Returns: what was touched.
        Raises NotFound, InvalidValue (blank name)."""
        if not name.strip():
            raise InvalidValue("a forgotten contact needs the name shown instead of theirs")
        found = await self._existing_contact(contact_id)
        user = found.telegram_user_id
        async with self._atomic("forget_contact"):
            counted = await self._must(
                "SELECT COUNT(*) AS n FROM tickets WHERE contact_id = ?", (contact_id,), "count returned nothing"
            )
            credentials = await self._exec(
                "DELETE FROM credentials WHERE ticket_id IN (SELECT id FROM tickets WHERE contact_id = ?)",
                (contact_id,),
            )
            # The version moves: a use case that read the ticket before the erasure cannot write its chat back.
            await self._exec(
                "UPDATE tickets SET telegram_chat_id = NULL, version = version + 1"
                " WHERE contact_id = ? AND telegram_chat_id IS NOT NULL",
                (contact_id,),
            )
            # Their address goes too: a ticket that talked by e-mail keeps its thread ids, not where to write.
            await self._exec(
                "UPDATE mail_tickets SET address = '' WHERE ticket_id IN (SELECT id FROM tickets WHERE contact_id = ?)",
                (contact_id,),
            )
            drafts = 0
            if user is not None:
                drafts = await self._exec("DELETE FROM drafts WHERE user_id = ? OR chat_id = ?", (user, user))
                await self._exec(
                    "UPDATE tickets SET telegram_chat_id = NULL, version = version + 1 WHERE telegram_chat_id = ?",
                    (user,),
                )
                await self._exec(
                    "UPDATE invites SET contact_name = ?, used_by = NULL WHERE used_by = ?", (name.strip(), user)
                )
                await self._exec(
                    "UPDATE escalations SET requested_by_id = ? WHERE requested_by_kind = 'client'"
                    " AND requested_by_id = ?",
                    (name.strip(), str(user)),
                )
            row = await self._must(
                "UPDATE contacts SET name = ?, phone = '', phone_key = '', language = 'es', telegram_user_id = NULL,"
                " unreachable_since = NULL, acts_for_company = 0, active = 0, email = NULL, email_failing_since = NULL,"
                " forgotten_at = COALESCE(forgotten_at, ?) WHERE id = ? RETURNING *",
                (name.strip(), c.ts(at), contact_id),
                f"contact {contact_id} not found",
            )
        return ForgetResult(c.contact(row), int(counted["n"]), credentials, drafts)

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
        if not number.strip():
            raise InvalidValue("a contract needs a number")
        starts, ends = c.day(starts_on), c.day(ends_on)
        if ends < starts:
            raise InvalidValue("a contract cannot end before it starts")
        row = await self._must(
            "INSERT INTO contracts (number, client_id, tier, starts_on, ends_on, minutes_total,"
            " onsite_minutes_total, purchase_order, special_eol_support, office_minutes_total)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
            (
                number.strip(),
                client_id,
                Tier(tier).value,
                starts,
                ends,
                non_negative_int(minutes_total, "minutes_total"),
                non_negative_int(onsite_minutes_total, "onsite_minutes_total"),
                purchase_order,
                int(special_eol_support),
                non_negative_int(office_minutes_total, "office_minutes_total"),
            ),
            "contract insert returned nothing",
        )
        return c.contract(row)

    async def get_contract(self, contract_id: int) -> Contract | None:
        """Args: id. Returns: the Contract or None."""
        row = await self._one("SELECT * FROM contracts WHERE id = ?", (contract_id,))
        return None if row is None else c.contract(row)

    async def get_contract_by_number(self, number: str) -> Contract | None:
        """Args: contract number. Returns: the Contract or None."""
        row = await self._one("SELECT * FROM contracts WHERE number = ?", (number.strip(),))
        return None if row is None else c.contract(row)

    async def list_contracts(self, client_id: int | None = None) -> list[Contract]:
        """Args: optional client filter. Returns: contracts by ends_on then id."""
        if client_id is None:
            rows = await self._all("SELECT * FROM contracts ORDER BY ends_on, id")
        else:
            rows = await self._all("SELECT * FROM contracts WHERE client_id = ? ORDER BY ends_on, id", (client_id,))
        return [c.contract(r) for r in rows]

    async def contracts_for_client(self, client_id: int) -> list[Contract]:
        """Args: client. Returns: that client's contracts by ends_on then id."""
        return await self.list_contracts(client_id)

    async def list_expiring(self, before: date, *, on_or_after: date | None = None) -> list[Contract]:
        """Args: end bound (exclusive), optional start bound. Returns: contracts ending there, by ends_on."""
        low = "0000-01-01" if on_or_after is None else c.day(on_or_after)
        rows = await self._all(
            "SELECT * FROM contracts WHERE ends_on < ? AND ends_on >= ? ORDER BY ends_on, id",
            (c.day(before), low),
        )
        return [c.contract(r) for r in rows]

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
        positive_int(minutes, "minutes")
        kind = HoursKind(kind)
        remote = minutes if charged and kind is HoursKind.REMOTE else 0
        office = minutes if charged and kind is HoursKind.IN_OFFICE else 0
        onsite = minutes if charged and kind is HoursKind.ON_SITE else 0
        # Ledger first: its foreign keys check contract and ticket before any total moves.
        await self._all(
            "INSERT INTO contract_hours (contract_id, ticket_id, minutes, kind, charged, at) VALUES (?, ?, ?, ?, ?, ?)",
            (contract_id, ticket_id, minutes, kind.value, int(charged), c.ts(at)),
        )
        row = await self._must(
            "UPDATE contracts SET minutes_used = minutes_used + ?, office_minutes_used = office_minutes_used + ?,"
            " onsite_minutes_used = onsite_minutes_used + ?, version = version + 1 WHERE id = ? RETURNING *",
            (remote, office, onsite, contract_id),
            f"contract {contract_id} not found",
        )
        return c.contract(row)

    async def list_hours(self, contract_id: int) -> list[HoursEntry]:
        """Args: contract. Returns: its ledger in order."""
        rows = await self._all("SELECT * FROM contract_hours WHERE contract_id = ? ORDER BY id", (contract_id,))
        return [c.hours_entry(r) for r in rows]

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
        row = await self._must(
            "INSERT INTO products (client_id, contract_id, name, service_area, warranty_until, discontinued,"
            " special_support) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *",
            (
                client_id,
                contract_id,
                name,
                ServiceArea(service_area).value,
                c.day_opt(warranty_until),
                int(discontinued),
                int(special_support),
            ),
            "product insert returned nothing",
        )
        return c.product(row)

    async def get_product(self, product_id: int) -> Product | None:
        """Args: id. Returns: the Product or None."""
        row = await self._one("SELECT * FROM products WHERE id = ?", (product_id,))
        return None if row is None else c.product(row)

    async def set_product_discontinued(self, product_id: int, discontinued: bool) -> Product:
        """Args: product, flag (P-POL-7). Returns: updated Product. Raises NotFound."""
        row = await self._must(
            "UPDATE products SET discontinued = ? WHERE id = ? RETURNING *",
            (int(discontinued), product_id),
            f"product {product_id} not found",
        )
        return c.product(row)

    async def set_product_warranty(self, product_id: int, warranty_until: date | None) -> Product:
        """Args: product, warranty end (P-POL-4). Returns: updated Product. Raises NotFound."""
        row = await self._must(
            "UPDATE products SET warranty_until = ? WHERE id = ? RETURNING *",
            (c.day_opt(warranty_until), product_id),
            f"product {product_id} not found",
        )
        return c.product(row)

    async def list_products(self, client_id: int) -> list[Product]:
        """Args: client. Returns: its products by name."""
        rows = await self._all("SELECT * FROM products WHERE client_id = ? ORDER BY name, id", (client_id,))
        return [c.product(r) for r in rows]

    async def add_agent(self, name: str, slack_user_id: str, role: Role, *, active: bool = True) -> Agent:
        """Args: agent data. Returns: the Agent. Raises DuplicateError (slack id)."""
        if not slack_user_id.strip():
            raise InvalidValue("an agent needs a Slack user id")
        row = await self._must(
            "INSERT INTO agents (name, slack_user_id, role, active) VALUES (?, ?, ?, ?) RETURNING *",
            (name, slack_user_id.strip(), Role(role).value, int(active)),
            "agent insert returned nothing",
        )
        return c.agent(row)

    async def get_agent(self, agent_id: int) -> Agent | None:
        """Args: id. Returns: the Agent or None."""
        row = await self._one("SELECT * FROM agents WHERE id = ?", (agent_id,))
        return None if row is None else c.agent(row)

    async def get_agent_by_slack(self, slack_user_id: str) -> Agent | None:
        """Args: Slack user id. Returns: the Agent or None."""
        row = await self._one("SELECT * FROM agents WHERE slack_user_id = ?", (slack_user_id,))
        return None if row is None else c.agent(row)

    async def set_agent_active(self, agent_id: int, active: bool) -> Agent:
        """Args: agent, flag. Returns: updated Agent. Raises NotFound."""
        row = await self._must(
            "UPDATE agents SET active = ? WHERE id = ? RETURNING *",
            (int(active), agent_id),
            f"agent {agent_id} not found",
        )
        return c.agent(row)

    async def list_agents(self, role: Role | None = None, *, active_only: bool = False) -> list[Agent]:
        """Args: optional role filter, active filter. Returns: agents by name."""
        rows = await self._all(
            "SELECT * FROM agents WHERE (? IS NULL OR role = ?) AND (? = 0 OR active = 1) ORDER BY name, id",
            (
                None if role is None else Role(role).value,
                None if role is None else Role(role).value,
                int(active_only),
            ),
        )
        return [c.agent(r) for r in rows]

    async def create_invite(
        self, code: str, client_id: int, contact_name: str, *, expires_at: datetime, at: datetime
    ) -> Invite:
        """Args: one-time code and its target. Returns: the Invite. Raises DuplicateError (code)."""
        if not code.strip():
            raise InvalidValue("an invite needs a code")
        row = await self._must(
            "INSERT INTO invites (code, client_id, contact_name, expires_at, created_at)"
            " VALUES (?, ?, ?, ?, ?) RETURNING *",
            (code.strip(), client_id, contact_name, c.ts(expires_at), c.ts(at)),
            "invite insert returned nothing",
        )
        return c.invite(row)

    async def redeem_invite(self, code: str, telegram_user_id: int, now: datetime) -> RedeemResult:
        """Atomically mark an unused, unexpired invite as used. Returns: outcome (OK/UNKNOWN/USED/EXPIRED)."""
        when = c.ts(now)
        # One conditional UPDATE is the whole decision: two redeemers cannot both see "unused".
        row = await self._one(
            "UPDATE invites SET used_at = ?, used_by = ?"
            " WHERE code = ? AND used_at IS NULL AND expires_at > ? RETURNING *",
            (when, telegram_user_id, code.strip(), when),
        )
        if row is not None:
            return RedeemResult(RedeemOutcome.OK, c.invite(row))
        row = await self._one("SELECT * FROM invites WHERE code = ?", (code.strip(),))
        if row is None:
            return RedeemResult(RedeemOutcome.UNKNOWN, None)
        found = c.invite(row)
        outcome = RedeemOutcome.ALREADY_USED if found.used_at is not None else RedeemOutcome.EXPIRED
        return RedeemResult(outcome, found)

    async def list_invites(self, client_id: int | None = None) -> list[Invite]:
        """Args: optional client filter. Returns: invites by id."""
        rows = await self._all(
            "SELECT * FROM invites WHERE (? IS NULL OR client_id = ?) ORDER BY id", (client_id, client_id)
        )
        return [c.invite(r) for r in rows]
