"""The repository protocol for what the office changes by hand: a client's details, an agent's role, a product's
contract, an invite taken back."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.domain.types import Role
from storage.records import Agent, Client, Invite, Product

__all__ = ["OfficeTx"]


class OfficeTx(Protocol):
    """Edits the `supportbot` command makes on the office's behalf."""

    async def update_client(
        self,
        client_id: int,
        *,
        name: str | None = None,
        phone: str | None = None,
        tax_id: str | None = None,
        notes: str | None = None,
    ) -> Client:
        """Change what is given (None: keep). Returns: the updated Client. Raises NotFound, InvalidValue (blank
        name)."""
        ...

    async def set_agent_role(self, agent_id: int, role: Role) -> Agent:
        """Args: agent, new role (P-ESC-2). Returns: the updated Agent. Raises NotFound."""
        ...

    async def set_product_contract(self, product_id: int, contract_id: int | None) -> Product:
        """Args: product, the contract covering it now (a renewal moves the products). Returns: the updated
        Product. Raises NotFound."""
        ...

    async def expire_invite(self, code: str, at: datetime) -> Invite:
        """Take back an unused invite: it expires at `at` (a used one is left as it is). Returns: the Invite.
        Raises NotFound."""
        ...
