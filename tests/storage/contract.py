"""The backend-independent storage contract: every Store implementation must pass StoreContract unchanged.

A backend's test module subclasses StoreContract (named Test...) and provides four fixtures:
  box_keys      -- list[str], the Fernet keys the store under test was opened with;
  box           -- SecretBox(box_keys);
  store         -- an open, migrated, empty Store using box;
  store_factory -- async callable(SecretBox) -> another Store on the SAME database (a second process or
                   replica), closed by the fixture.
"""

from __future__ import annotations

from tests.storage.contract_contacts import ContactContract
from tests.storage.contract_inbox import InboxContract
from tests.storage.contract_mail import MailContract
from tests.storage.contract_office import OfficeContract
from tests.storage.contract_people import PeopleContract
from tests.storage.contract_queues import QueueContract
from tests.storage.contract_tickets import TicketContract

__all__ = ["StoreContract"]


class StoreContract(
    PeopleContract, ContactContract, TicketContract, QueueContract, InboxContract, MailContract, OfficeContract
):
    """Every rule of the Store/Tx protocols, checked through the public API only."""
