"""Contract tests of the e-mail channel (P-IN-6): addresses, tickets' mail threads, files and "correo sin cliente"."""

from __future__ import annotations

import pytest

from storage.base import DuplicateError, InvalidValue, NotFound, StaleVersion, Store
from storage.mail_records import MailDirection, UnmatchedReason
from storage.records import AttachmentKind, InboxStatus
from tests.storage.contract_support import T0, at, create_ticket, seed


class MailContract:
    """What the e-mail channel keeps, through the public Tx API only."""

    async def test_the_mailbox_reads_which_messages_the_inbox_holds(self, store: Store) -> None:
        """A message is marked handled on the server only once its inbox entry is done (P-IN-6)."""
        async with store.transaction() as tx:
            first = await tx.add_inbox("email", "<a@x>", "mail:a@x", "message", {}, at=T0)
            await tx.add_inbox("email", "<b@x>", "mail:b@x", "message", {}, at=T0)
            await tx.add_inbox("telegram", "<c@x>", "chat:1", "update", {}, at=T0)
        async with store.transaction() as tx:
            [claimed] = [e for e in await tx.claim_inbox(at(1), "w", 10, 60) if e.id == first]
            await tx.finish_inbox(claimed.id, "w", at(1))
        async with store.transaction() as tx:
            found = await tx.inbox_statuses("email", ["<a@x>", "<b@x>", "<c@x>", "<d@x>"])
        assert found == {"<a@x>": InboxStatus.DONE, "<b@x>": InboxStatus.WORKING}

    async def test_an_address_is_matched_without_regard_to_case(self, store: Store) -> None:
        s = await seed(store)
        async with store.transaction() as tx:
            contact = await tx.set_contact_email(s.contact_id, "  Ana.Ruiz@Acme.MX ")
            assert contact.email == "ana.ruiz@acme.mx" and contact.email_failing_since is None
            assert [c.id for c in await tx.find_contacts_by_email("ANA.RUIZ@acme.mx")] == [s.contact_id]
            assert await tx.find_contacts_by_email("otra@acme.mx") == []
            assert await tx.find_contacts_by_email("not an address") == []
            with pytest.raises(InvalidValue):
                await tx.set_contact_email(s.contact_id, "sin-arroba")
            with pytest.raises(NotFound):
                await tx.set_contact_email(99999, "x@y.mx")
            cleared = await tx.set_contact_email(s.contact_id, None)
            assert cleared.email is None and await tx.find_contacts_by_email("ana.ruiz@acme.mx") == []

    async def test_a_bounce_marks_the_address_failing_until_it_is_set_again(self, store: Store) -> None:
        s = await seed(store)
        async with store.transaction() as tx:
            await tx.set_contact_email(s.contact_id, "ana@acme.mx")
            marked = await tx.mark_email_failing("ANA@acme.mx", at(1))
            assert [c.id for c in marked] == [s.contact_id] and marked[0].email_failing_since == at(1)
            assert await tx.mark_email_failing("ana@acme.mx", at(2)) == []  # already failing: the first bounce stays
            again = await tx.set_contact_email(s.contact_id, "ana@acme.mx")
            assert again.email_failing_since is None

    async def test_forgetting_a_contact_erases_their_address(self, store: Store) -> None:
        """LFPDPPP: the address is personal data like the phone."""
        s = await seed(store)
        ticket = await create_ticket(store, s)
        async with store.transaction() as tx:
            await tx.set_contact_email(s.contact_id, "ana@acme.mx")
            await tx.add_mail_ticket(ticket.id, address="ana@acme.mx", subject="x", message_id="<a@x>",
                                     severity_pending=True, at=T0)  # fmt: skip
            result = await tx.forget_contact(s.contact_id, name="contacto eliminado", at=at(5))
            assert result.contact.email is None
            assert await tx.find_contacts_by_email("ana@acme.mx") == []
            mail = await tx.get_mail_ticket(ticket.id)
            assert mail is not None and mail.address == ""
            with pytest.raises(InvalidValue):
                await tx.set_contact_email(s.contact_id, "ana@acme.mx")

    async def test_a_mail_ticket_threads_every_message_id_of_its_conversation(self, store: Store) -> None:
        s = await seed(store)
        ticket = await create_ticket(store, s)
        async with store.transaction() as tx:
            mail = await tx.add_mail_ticket(
                ticket.id, address="Ana@Acme.mx", subject="Sin internet", message_id="<first@acme.mx>",
                severity_pending=True, at=T0,
            )  # fmt: skip
            assert mail.address == "ana@acme.mx" and mail.last_message_id == "<first@acme.mx>"
            assert mail.severity_pending and mail.opened_by_mail
            with pytest.raises(DuplicateError):
                await tx.add_mail_ticket(ticket.id, address="a@b.mx", subject="", message_id="<x@y>",
                                         severity_pending=False, at=T0)  # fmt: skip
            assert await tx.add_mail_message("<first@acme.mx>", ticket.id, MailDirection.IN, T0) is True
            assert await tx.add_mail_message("<first@acme.mx>", ticket.id, MailDirection.IN, T0) is False
            assert await tx.add_mail_message("<reply@bot>", ticket.id, MailDirection.OUT, at(1)) is True
            assert await tx.find_mail_message_ticket(["<nobody@x>", "<reply@bot>"]) == ticket.id
            assert await tx.find_mail_message_ticket(["<nobody@x>"]) is None
            assert await tx.find_mail_message_ticket([]) is None
            moved = await tx.update_mail_ticket(ticket.id, last_message_id="<reply@bot>")
            assert moved.last_message_id == "<reply@bot>" and moved.severity_pending
            confirmed = await tx.update_mail_ticket(ticket.id, severity_pending=False)
            assert confirmed.last_message_id == "<reply@bot>" and not confirmed.severity_pending
            assert await tx.get_mail_ticket(99999) is None
            with pytest.raises(NotFound):
                await tx.update_mail_ticket(99999, severity_pending=False)

    async def test_tickets_opened_by_mail_are_counted_per_address_and_hour(self, store: Store) -> None:
        s = await seed(store)
        first, second, third = [await create_ticket(store, s) for _ in range(3)]
        async with store.transaction() as tx:
            await tx.add_mail_ticket(first.id, address="a@acme.mx", subject="", message_id="<1@x>",
                                     severity_pending=True, at=at(0))  # fmt: skip
            await tx.add_mail_ticket(second.id, address="A@ACME.MX", subject="", message_id="<2@x>",
                                     severity_pending=True, at=at(30))  # fmt: skip
            # A Telegram ticket whose client chose e-mail is not mail that opened a ticket.
            await tx.add_mail_ticket(third.id, address="a@acme.mx", subject="", message_id="<3@x>",
                                     severity_pending=False, opened_by_mail=False, at=at(40))  # fmt: skip
            assert await tx.count_mail_tickets("a@acme.mx", at(-60)) == 2
            assert await tx.count_mail_tickets("a@acme.mx", at(10)) == 1
            assert await tx.count_mail_tickets("b@acme.mx", at(-60)) == 0

    async def test_files_are_kept_with_their_names(self, store: Store) -> None:
        await seed(store)
        async with store.transaction() as tx:
            ref = await tx.add_mail_file("captura.png", "image/png", b"\x89PNG...", at=T0)
            assert (ref.name, ref.mime, ref.size) == ("captura.png", "image/png", 7)
            assert await tx.get_mail_file(ref.id) == b"\x89PNG..."
            assert await tx.get_mail_file(99999) is None

    async def test_a_file_is_forgotten_once_it_is_in_the_thread(self, store: Store) -> None:
        s = await seed(store)
        ticket = await create_ticket(store, s)
        async with store.transaction() as tx:
            up = await tx.add_mail_file("a.png", "image/png", b"a", at=T0)
            waiting = await tx.add_mail_file("b.png", "image/png", b"b", at=T0)
            first = await tx.add_attachment(ticket.id, AttachmentKind.PHOTO, f"mail:{up.id}", at=T0, file_name="a.png")
            await tx.add_attachment(ticket.id, AttachmentKind.PHOTO, f"mail:{waiting.id}", at=T0, file_name="b.png")
            await tx.set_attachment_slack_file(first.id, "F0UPLOADED")
            assert await tx.prune_mail_files() == 1
            assert await tx.get_mail_file(up.id) is None and await tx.get_mail_file(waiting.id) == b"b"
            assert await tx.prune_mail_files() == 0

    async def test_unmatched_mail_waits_until_the_desk_handles_it_once(self, store: Store) -> None:
        s = await seed(store)
        ticket = await create_ticket(store, s)
        async with store.transaction() as tx:
            ref = await tx.add_mail_file("log.txt", "text/plain", b"x", at=T0)
            kept = await tx.add_unmatched_mail(
                message_id="<u1@x>", address="Nuevo@Otra.mx", name="Nuevo", subject="Ayuda", body="No sirve",
                files=[ref], reason=UnmatchedReason.UNKNOWN_SENDER, at=T0,
            )  # fmt: skip
            assert kept is not None and kept.address == "nuevo@otra.mx" and kept.files == (ref,)
            again = await tx.add_unmatched_mail(
                message_id="<u1@x>", address="nuevo@otra.mx", name="", subject="", body="",
                files=[], reason=UnmatchedReason.UNKNOWN_SENDER, at=at(1),
            )  # fmt: skip
            assert again is None
            later = await tx.add_unmatched_mail(
                message_id="<u2@x>", address="flood@acme.mx", name="", subject="", body="",
                files=[], reason=UnmatchedReason.FLOOD, at=at(2),
            )  # fmt: skip
            assert later is not None
            assert [m.id for m in await tx.list_unmatched_mail()] == [kept.id, later.id]
            closed = await tx.close_unmatched_mail(kept.id, at=at(3), ticket_id=ticket.id)
            assert closed.handled_at == at(3) and closed.ticket_id == ticket.id
            with pytest.raises(StaleVersion):
                await tx.close_unmatched_mail(kept.id, at=at(4), ticket_id=None)
            with pytest.raises(NotFound):
                await tx.close_unmatched_mail(99999, at=at(4), ticket_id=None)
            assert [m.id for m in await tx.list_unmatched_mail()] == [later.id]
            assert [m.id for m in await tx.list_unmatched_mail(open_only=False)] == [kept.id, later.id]
            assert await tx.get_unmatched_mail(kept.id) == closed
