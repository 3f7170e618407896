"""Contract tests: who may act for a company (P-ESC-2, P-CLOSE-2), deactivation, and erasure on request.

Erasure ("forget") is the LFPDPPP cancellation right: a person's name, phone, Telegram id, unfinished
conversations and stored secrets go; ticket numbers, hours and the audit trail stay.
"""

from __future__ import annotations

import pytest

from bot.domain.types import HoursKind
from storage.base import DuplicateError, InvalidValue, NotFound, Store
from storage.records import CredentialKind
from tests.storage.contract_support import T0, at, create_ticket, seed

FORGOTTEN = "contacto eliminado"


class ContactContract:
    """Listing and editing contacts, acting for the whole company, deactivation and forgetting."""

    async def test_a_new_contact_acts_only_for_itself_and_is_active(self, store: Store) -> None:
        """P-ESC-2, P-CLOSE-2: safe by default, a contact acts on the tickets it reported only."""
        s = await seed(store)
        async with store.transaction() as tx:
            contact = await tx.get_contact(s.contact_id)
        assert contact is not None
        assert contact.acts_for_company is False and contact.active is True and contact.forgotten_at is None

    async def test_list_contacts_all_or_of_one_client_by_id(self, store: Store) -> None:
        s = await seed(store)
        async with store.transaction() as tx:
            other = await tx.add_contact(s.other_client_id, "Zoe", at=T0)
            second = await tx.add_contact(s.client_id, "Beto", at=T0)
            assert [c.id for c in await tx.list_contacts()] == [s.contact_id, other.id, second.id]
            assert [c.id for c in await tx.list_contacts(s.client_id)] == [s.contact_id, second.id]
            assert await tx.list_contacts(99999) == []

    async def test_update_contact_changes_only_what_is_given(self, store: Store) -> None:
        """P-ESC-2, P-CLOSE-2: the company may name a contact who acts on all its tickets."""
        s = await seed(store)
        async with store.transaction() as tx:
            same = await tx.update_contact(s.contact_id)
            assert same == await tx.get_contact(s.contact_id)
            named = await tx.update_contact(s.contact_id, acts_for_company=True)
            assert named.acts_for_company is True and named.name == "Ana" and named.phone == "55 1234 5678"
            moved = await tx.update_contact(s.contact_id, name="  Ana Ruiz ", phone="33 9876 5432")
            assert moved.name == "Ana Ruiz" and moved.phone == "33 9876 5432" and moved.acts_for_company is True
            # The phone lookup follows the new number.
            assert [c.id for c in await tx.find_contact_by_phone("3398765432")] == [s.contact_id]
            assert await tx.find_contact_by_phone("5512345678") == []
            back = await tx.update_contact(s.contact_id, acts_for_company=False)
            assert back.acts_for_company is False
            assert await tx.get_contact(s.contact_id) == back

    async def test_update_contact_refuses_a_blank_name_and_an_unknown_contact(self, store: Store) -> None:
        s = await seed(store)
        async with store.transaction() as tx:
            with pytest.raises(InvalidValue):
                await tx.update_contact(s.contact_id, name="   ")
            with pytest.raises(NotFound):
                await tx.update_contact(99999, name="Nadie")

    async def test_deactivate_unlinks_telegram_and_drops_drafts(self, store: Store) -> None:
        s = await seed(store)
        async with store.transaction() as tx:
            await tx.update_contact(s.contact_id, acts_for_company=True)
            await tx.save_draft(1001, user_id=1001, step="severity", data={"kind": "intake"}, language="es", at=T0)
            await tx.save_draft(7, user_id=7, step="severity", data={"kind": "intake"}, language="es", at=T0)
            gone = await tx.deactivate_contact(s.contact_id)
            assert gone.active is False and gone.telegram_user_id is None and gone.acts_for_company is False
            assert gone.name == "Ana" and gone.forgotten_at is None  # kept for the history
            assert await tx.get_contact_by_telegram_user(1001) is None
            assert await tx.get_draft(1001) is None and await tx.get_draft(7) is not None
            assert await tx.deactivate_contact(s.contact_id) == gone  # twice: nothing more to do
            # The Telegram user is free again: a new invite links them to a new contact.
            again = await tx.add_contact(s.client_id, "Ana", telegram_user_id=1001, at=T0)
            assert again.id != s.contact_id and again.active is True
            with pytest.raises(NotFound):
                await tx.deactivate_contact(99999)

    async def test_forget_erases_personal_data_and_keeps_tickets_hours_and_audit(self, store: Store) -> None:
        """LFPDPPP: name, phone, Telegram id, drafts and credentials go; numbers, hours and audit stay."""
        s = await seed(store)
        mine = await create_ticket(store, s, telegram_chat_id=1001)
        closed = await create_ticket(store, s, telegram_chat_id=1001)
        async with store.transaction() as tx:
            colleague = await tx.add_contact(s.client_id, "Beto", phone="33 1111 2222", telegram_user_id=2002, at=T0)
        theirs = await create_ticket(store, s, contact_id=colleague.id, telegram_chat_id=2002)
        async with store.transaction() as tx:
            await tx.update_contact(s.contact_id, acts_for_company=True)
            await tx.set_contact_unreachable(1001, T0)
            await tx.put_credential(mine.id, CredentialKind.TEAMVIEWER_PASSWORD, "tv", "k9#Lm2", at=T0)
            await tx.put_credential(mine.id, CredentialKind.EQUIPMENT_PASSWORD, "nas", "x", at=T0)
            await tx.put_credential(theirs.id, CredentialKind.TEAMVIEWER_PASSWORD, "tv", "y", at=T0)
            await tx.save_draft(1001, user_id=1001, step="severity", data={"kind": "intake"}, language="en", at=T0)
            await tx.save_draft(2002, user_id=2002, step="severity", data={"kind": "intake"}, language="es", at=T0)
            await tx.record_hours(s.contract_id, closed.id, 90, HoursKind.REMOTE, True, T0)
            await tx.append_audit(mine.id, at=T0, actor_kind="client", actor_id="1001", action="opened")
            await tx.create_invite("ABC123", s.client_id, "Ana", expires_at=at(60), at=T0)
            await tx.redeem_invite("ABC123", 1001, at(1))
            esc = await tx.create_escalation(
                mine.id, from_level=1, to_level=2, requested_by_kind="client", requested_by_id="1001",
                reason="Urge", at=T0,
            )  # fmt: skip

            result = await tx.forget_contact(s.contact_id, name=FORGOTTEN, at=at(5))

            c = result.contact
            assert (c.name, c.phone, c.telegram_user_id, c.language) == (FORGOTTEN, "", None, "es")
            assert c.acts_for_company is False and c.active is False and c.unreachable_since is None
            assert c.forgotten_at == at(5) and c.client_id == s.client_id
            assert (result.tickets, result.credentials, result.drafts) == (2, 2, 1)
            assert await tx.get_contact(s.contact_id) == c
            assert await tx.get_contact_by_telegram_user(1001) is None
            assert await tx.find_contact_by_phone("5512345678") == []
            # Drafts and secrets of that person only.
            assert await tx.get_draft(1001) is None and await tx.get_draft(2002) is not None
            assert await tx.get_credentials(mine.id) == []
            assert [x.label for x in await tx.get_credentials(theirs.id)] == ["tv"]
            # Tickets keep their numbers and contact, no longer their Telegram chat.
            for kept in (mine, closed):
                now = await tx.get_ticket(kept.id)
                assert now is not None and now.number == kept.number and now.contact_id == s.contact_id
                assert now.telegram_chat_id is None and now.description == kept.description
            other = await tx.get_ticket(theirs.id)
            assert other is not None and other.telegram_chat_id == 2002
            # Hours and the audit trail stay.
            [entry] = [h for h in await tx.list_hours(s.contract_id) if h.ticket_id == closed.id]
            assert entry.minutes == 90
            assert [e.action for e in await tx.list_audit(mine.id)] == ["opened"]
            # Where the Telegram id was kept beside the ticket, it is gone too.
            [invite] = await tx.list_invites(s.client_id)
            assert invite.used_by is None and invite.contact_name == FORGOTTEN and invite.used_at is not None
            found = await tx.get_escalation(esc.id)
            assert found is not None and found.requested_by_id == FORGOTTEN and found.reason == "Urge"

    async def test_forget_twice_changes_nothing_more(self, store: Store) -> None:
        s = await seed(store)
        async with store.transaction() as tx:
            first = await tx.forget_contact(s.contact_id, name=FORGOTTEN, at=at(1))
            second = await tx.forget_contact(s.contact_id, name=FORGOTTEN, at=at(2))
        assert second.contact == first.contact and second.contact.forgotten_at == at(1)
        assert (second.credentials, second.drafts) == (0, 0)

    async def test_a_forgotten_contact_cannot_be_edited_back(self, store: Store) -> None:
        s = await seed(store)
        async with store.transaction() as tx:
            await tx.forget_contact(s.contact_id, name=FORGOTTEN, at=T0)
            with pytest.raises(InvalidValue):
                await tx.update_contact(s.contact_id, name="Ana")
            with pytest.raises(InvalidValue):
                await tx.update_contact(s.contact_id, acts_for_company=True)
            with pytest.raises(NotFound):
                await tx.forget_contact(99999, name=FORGOTTEN, at=T0)
            with pytest.raises(InvalidValue):
                await tx.forget_contact(s.contact_id, name="  ", at=T0)
            # The Telegram user is free: they may be invited again as a new contact.
            await tx.add_contact(s.client_id, "Ana", telegram_user_id=1001, at=T0)
            with pytest.raises(DuplicateError):
                await tx.add_contact(s.client_id, "Otra", telegram_user_id=1001, at=T0)

    async def test_a_rolled_back_forget_erases_nothing(self, store: Store) -> None:
        s = await seed(store)
        ticket = await create_ticket(store, s)
        async with store.transaction() as tx:
            await tx.put_credential(ticket.id, CredentialKind.TEAMVIEWER_PASSWORD, "tv", "k9#Lm2", at=T0)

        class Boom(Exception):
            pass

        with pytest.raises(Boom):
            async with store.transaction() as tx:
                await tx.forget_contact(s.contact_id, name=FORGOTTEN, at=T0)
                raise Boom
        async with store.transaction() as tx:
            contact = await tx.get_contact(s.contact_id)
            assert contact is not None and contact.name == "Ana" and contact.telegram_user_id == 1001
            assert len(await tx.get_credentials(ticket.id)) == 1
