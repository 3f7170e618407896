"""Contract tests: the office's edits by hand (a client's details, an agent's role, a product's contract, an
invite taken back)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.types import Role, ServiceArea
from storage.base import InvalidValue, NotFound, Store
from tests.storage.contract_support import T0, seed


class OfficeContract:
    async def test_update_client_changes_only_what_is_given(self, store: Store) -> None:
        s = await seed(store)
        async with store.transaction() as tx:
            edited = await tx.update_client(s.client_id, phone="+52 222 111 2233", notes="Cliente desde 2020")
            assert (edited.name, edited.phone, edited.tax_id, edited.notes) == (
                "Acme SA de CV", "+52 222 111 2233", "ACM010101AAA", "Cliente desde 2020",
            )  # fmt: skip
            renamed = await tx.update_client(s.client_id, name="  Acme Industrial  ")
            assert renamed.name == "Acme Industrial" and renamed.phone == "+52 222 111 2233"
            with pytest.raises(InvalidValue):
                await tx.update_client(s.client_id, name=" ")
            with pytest.raises(NotFound):
                await tx.update_client(999, name="X")

    async def test_set_agent_role(self, store: Store) -> None:
        s = await seed(store)
        async with store.transaction() as tx:
            agent = await tx.set_agent_role(s.agent_id, Role.QUALITY_MANAGER)
            assert agent.role is Role.QUALITY_MANAGER
            assert [a.id for a in await tx.list_agents(Role.QUALITY_MANAGER)].count(s.agent_id) == 1
            with pytest.raises(NotFound):
                await tx.set_agent_role(999, Role.AGENT)

    async def test_set_product_contract(self, store: Store) -> None:
        s = await seed(store)
        async with store.transaction() as tx:
            product = await tx.add_product(s.client_id, "Switch", ServiceArea.SWITCHING)
            moved = await tx.set_product_contract(product.id, s.contract_id)
            assert moved.contract_id == s.contract_id
            assert (await tx.set_product_contract(product.id, None)).contract_id is None
            with pytest.raises(NotFound):
                await tx.set_product_contract(999, None)

    async def test_expire_invite_takes_back_an_unused_code_only(self, store: Store) -> None:
        s = await seed(store)
        async with store.transaction() as tx:
            await tx.create_invite("OPEN1234", s.client_id, "Luis", expires_at=T0 + timedelta(days=3), at=T0)
            await tx.create_invite("USED1234", s.client_id, "Eva", expires_at=T0 + timedelta(days=3), at=T0)
            await tx.redeem_invite("USED1234", 4242, T0 + timedelta(hours=1))
            revoked = await tx.expire_invite("OPEN1234", T0 + timedelta(hours=2))
            assert revoked.expires_at == T0 + timedelta(hours=2) and revoked.used_at is None
            assert not (await tx.redeem_invite("OPEN1234", 4343, T0 + timedelta(hours=3))).ok
            used = await tx.expire_invite("USED1234", T0 + timedelta(hours=2))
            assert used.expires_at == T0 + timedelta(days=3) and used.used_at is not None
            with pytest.raises(NotFound):
                await tx.expire_invite("NOPE0000", T0)
