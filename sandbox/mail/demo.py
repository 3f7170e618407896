"""The demo's e-mail addresses (sandbox only): the contacts the mail pane writes as, on the sandbox's database."""

from __future__ import annotations

from sandbox.demo import LAURA_ID, NORTE_ID
from sandbox.mail import MAIL_PEOPLE
from storage import Store

__all__ = ["give_addresses"]


async def give_addresses(store: Store) -> None:
    """Laura and Jorge get the pane's addresses (once: an address someone set stays)."""
    wanted = {LAURA_ID: MAIL_PEOPLE[0][0], NORTE_ID: MAIL_PEOPLE[1][0]}
    async with store.transaction() as tx:
        for telegram_id, address in wanted.items():
            contact = await tx.get_contact_by_telegram_user(telegram_id)
            if contact is not None and not contact.email and not await tx.find_contacts_by_email(address):
                await tx.set_contact_email(contact.id, address)
