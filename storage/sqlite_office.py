"""SQLite repository methods for the office's edits by hand (storage.tx_office)."""

from __future__ import annotations

from datetime import datetime

from bot.domain.types import Role
from storage import sqlite_codec as c
from storage.base import InvalidValue, NotFound
from storage.records import Agent, Client, Invite, Product
from storage.sqlite_txbase import TxBase


class OfficeRepo(TxBase):
    """A client's details, an agent's role, a product's contract, an invite taken back."""

    async def update_client(
        self,
        client_id: int,
        *,
        name: str | None = None,
        phone: str | None = None,
        tax_id: str | None = None,
        notes: str | None = None,
    ) -> Client:
        """Change what is given (None: keep). Returns: the updated Client. Raises NotFound, InvalidValue."""
        if name is not None and not name.strip():
            raise InvalidValue("a client needs a name")
        row = await self._must(
            "UPDATE clients SET name = COALESCE(?, name), phone = COALESCE(?, phone), tax_id = COALESCE(?, tax_id),"
            " notes = COALESCE(?, notes) WHERE id = ? RETURNING *",
            (None if name is None else name.strip(), phone, tax_id, notes, client_id),
            f"client {client_id} not found",
        )
        return c.client(row)

    async def set_agent_role(self, agent_id: int, role: Role) -> Agent:
        """Args: agent, new role. Returns: the updated Agent. Raises NotFound."""
        row = await self._must(
            "UPDATE agents SET role = ? WHERE id = ? RETURNING *", (role.value, agent_id), f"agent {agent_id} not found"
        )
        return c.agent(row)

    async def set_product_contract(self, product_id: int, contract_id: int | None) -> Product:
        """Args: product, covering contract. Returns: the updated Product. Raises NotFound."""
        row = await self._must(
            "UPDATE products SET contract_id = ? WHERE id = ? RETURNING *",
            (contract_id, product_id),
            f"product {product_id} not found",
        )
        return c.product(row)

    async def expire_invite(self, code: str, at: datetime) -> Invite:
        """An unused invite expires at `at`; a used one is returned unchanged. Raises NotFound."""
        await self._exec(
            "UPDATE invites SET expires_at = ? WHERE code = ? AND used_at IS NULL AND expires_at > ?",
            (c.ts(at), code, c.ts(at)),
        )
        row = await self._one("SELECT * FROM invites WHERE code = ?", (code,))
        if row is None:
            raise NotFound(f"invite {code} not found")
        return c.invite(row)
