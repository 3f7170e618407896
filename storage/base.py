"""The storage contract: the Store and Tx protocols every backend implements, and the store's errors."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Protocol

from storage.secrets import SecretBox
from storage.tx_inbox import InboxTx
from storage.tx_mail import MailTx
from storage.tx_office import OfficeTx
from storage.tx_people import PeopleTx
from storage.tx_queues import QueueTx
from storage.tx_tickets import TicketTx

__all__ = [
    "DuplicateError",
    "InvalidValue",
    "MigrationError",
    "NotFound",
    "StaleVersion",
    "Store",
    "StoreError",
    "Tx",
]


class StoreError(Exception):
    """Base of every error the store raises on purpose."""


class NotFound(StoreError):
    """The row asked for does not exist."""


class StaleVersion(StoreError):
    """A compare-and-set lost: the row's version or state moved since it was read."""


class DuplicateError(StoreError):
    """A value that must be unique (contract number, Slack or Telegram user id, open pause) already exists."""


class InvalidValue(StoreError, ValueError):
    """A value the store cannot record as given (naive datetime, unknown field, bad amount)."""


class MigrationError(StoreError):
    """A schema migration could not be loaded or applied."""


class Tx(PeopleTx, TicketTx, QueueTx, InboxTx, MailTx, OfficeTx, Protocol):
    """The repository methods available inside one transaction (`async with store.transaction() as tx`)."""

    def savepoint(self) -> AbstractAsyncContextManager[None]:
        """A nested all-or-nothing part of the transaction: an exception inside undoes only that part
        (a refused desk action rolls back its own writes, while its inbox entry and the refusal commit)."""
        ...


class Store(Protocol):
    """A database holding the bot's state; every use case runs in one transaction()."""

    def transaction(self) -> AbstractAsyncContextManager[Tx]:
        """Returns: a context giving a Tx; commits on normal exit, rolls back on exception."""
        ...

    async def migrate(self) -> list[int]:
        """Apply pending schema migrations. Returns: the versions applied."""
        ...

    async def close(self) -> None:
        """Release the connection(s)."""
        ...

    async def backup(self, path: str | Path) -> None:
        """Write a consistent online copy of the database to path."""
        ...

    async def rotate_secrets(self, box: SecretBox) -> int:
        """Re-encrypt every credential under box's first key in one transaction and keep box.
        Returns: how many credentials were re-encrypted."""
        ...
