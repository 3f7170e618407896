"""The backend-independent storage contract: every Store implementation must pass StoreContract unchanged.

A backend's test module subclasses StoreContract (named Test...) and provides four fixtures:
  box_keys      -- list[str], the Fernet keys the store under test was opened with;
  box           -- SecretBox(box_keys);
  store         -- an open, migrated, empty Store using box;
  store_factory -- async callable(SecretBox) -> another Store on the SAME database (a second process or
                   replica), closed by the fixture.
"""

from __future__ import annotations

import asyncio

import pytest

from storage.base import Store, StoreError
from tests.storage.contract_contacts import ContactContract
from tests.storage.contract_inbox import InboxContract
from tests.storage.contract_mail import MailContract
from tests.storage.contract_office import OfficeContract
from tests.storage.contract_people import PeopleContract
from tests.storage.contract_queues import QueueContract
from tests.storage.contract_support import T0
from tests.storage.contract_tickets import TicketContract

__all__ = ["StoreContract"]


class StoreContract(
    PeopleContract, ContactContract, TicketContract, QueueContract, InboxContract, MailContract, OfficeContract
):
    """Every rule of the Store/Tx protocols, checked through the public API only."""

    async def test_nested_transaction_is_refused_not_deadlocked(self, store: Store) -> None:
        async with store.transaction():
            with pytest.raises(StoreError, match="nested"):
                async with store.transaction():
                    pass

    async def test_a_cancelled_use_case_rolls_back_and_the_store_goes_on(self, store: Store) -> None:
        started = asyncio.Event()

        async def slow() -> None:
            async with store.transaction() as tx:
                await tx.add_client("Cancelado", at=T0)
                started.set()
                await asyncio.sleep(10)

        task = asyncio.create_task(slow())
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        async with store.transaction() as tx:
            assert await tx.list_clients() == []
            await tx.add_client("Después", at=T0)
