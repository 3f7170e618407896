"""Contract tests: tickets (numbers, CAS), SLA pauses, escalations, attachments, credentials, audit."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from bot.domain.types import EscalationStatus, HoursKind, ServiceArea, Severity, TicketStatus
from storage.base import DuplicateError, InvalidValue, NotFound, StaleVersion, Store
from storage.records import AttachmentKind, CredentialKind, Ticket
from storage.secrets import SecretBox, SecretError, generate_key
from tests.storage.contract_support import T0, StoreFactory, at, create_ticket, new_ticket, seed


class TicketContract:
    """Tickets and everything attached to them."""

    async def test_ticket_round_trip(self, store: Store) -> None:
        """P-IN-1: a ticket gets its human number at creation."""
        s = await seed(store)
        ticket = await create_ticket(
            store,
            s,
            since_at=at(-120),
            since_text="desde hoy a las 9",
            onsite_details="Casco y botas; contacto: Ana",
            clock_started_at=at(0),
            response_due_at=at(600),
        )
        assert ticket.number == "SOP-2026-000001"
        assert ticket.status is TicketStatus.NEW and ticket.version == 1 and ticket.escalation_level == 1
        assert ticket.severity is Severity.HIGH and ticket.service_area is ServiceArea.FIREWALL
        assert ticket.since_at == at(-120) and ticket.since_text == "desde hoy a las 9"
        assert ticket.response_due_at == at(600) and ticket.first_response_at is None
        assert ticket.response_met is None and ticket.assignee_id is None and ticket.rating is None
        async with store.transaction() as tx:
            assert await tx.get_ticket(ticket.id) == ticket
            assert await tx.get_ticket_by_number("sop-2026-000001") == ticket
            assert await tx.get_ticket_by_number("SOP-2026-999999") is None
            assert await tx.get_ticket(99999) is None
            assert await tx.get_ticket_by_card("C0SUPPORT", "1795536824.762459") is None

    async def test_r_warranty_the_warranty_mark_is_stored(self, store: Store) -> None:
        """R-WARRANTY: the intake's decision travels with the ticket (the card shows it, resolution confirms it)."""
        s = await seed(store)
        free = await create_ticket(store, s, warranty=True, contract_id=None)
        plain = await create_ticket(store, s)
        async with store.transaction() as tx:
            assert (await tx.get_ticket(free.id)) == free and free.warranty is True and free.contract_id is None
            assert plain.warranty is False and plain.purchase_order is None

    async def test_r_event_a_purchase_order_takes_one_ticket_of_one_contract(self, store: Store) -> None:
        """R-EVENT: a company's purchase order is never used twice, and a per-event contract covers one ticket."""
        s = await seed(store)
        first = await create_ticket(store, s, purchase_order="OC-4471")
        assert first.purchase_order == "OC-4471"
        async with store.transaction() as tx:
            with pytest.raises(DuplicateError):
                await tx.create_ticket(new_ticket(s, purchase_order="OC-4471", contract_id=None))
        async with store.transaction() as tx:
            with pytest.raises(DuplicateError):  # the same contract, another order: still one event
                await tx.create_ticket(new_ticket(s, purchase_order="OC-9999"))
        # Another company may have an order with the same number; tickets without an order are not limited.
        other = await create_ticket(store, s, client_id=s.other_client_id, contact_id=None, contract_id=None,
                                    product_id=None, purchase_order="OC-4471")  # fmt: skip
        await create_ticket(store, s)
        async with store.transaction() as tx:
            assert await tx.list_purchase_order_tickets(s.client_id) == [first]
            assert await tx.list_purchase_order_tickets(s.other_client_id) == [other]

    async def test_a_ticket_is_found_by_its_card(self, store: Store) -> None:
        s = await seed(store)
        first = await create_ticket(store, s)
        second = await create_ticket(store, s)
        async with store.transaction() as tx:
            first = await tx.update_ticket(first.id, first.version, slack_channel="C0SUPPORT", slack_ts="100.000001")
            second = await tx.update_ticket(second.id, second.version, slack_channel="C0SUPPORT", slack_ts="100.000002")
        async with store.transaction() as tx:
            assert await tx.get_ticket_by_card("C0SUPPORT", "100.000002") == second
            assert await tx.get_ticket_by_card("C0SUPPORT", "100.000001") == first
            assert await tx.get_ticket_by_card("C0OTHER", "100.000001") is None
            # One card, one ticket: a second ticket cannot claim the same message.
            with pytest.raises(DuplicateError):
                await tx.update_ticket(second.id, second.version, slack_ts="100.000001")

    async def test_numbers_are_sequential_per_year_and_roll_over(self, store: Store) -> None:
        s = await seed(store)
        first = await create_ticket(store, s, opened_at=datetime(2026, 12, 31, 23, 0, tzinfo=UTC))
        second = await create_ticket(store, s, opened_at=datetime(2026, 12, 31, 23, 30, tzinfo=UTC))
        new_year = await create_ticket(store, s, opened_at=datetime(2027, 1, 1, 0, 5, tzinfo=UTC))
        late = await create_ticket(store, s, opened_at=datetime(2026, 12, 31, 23, 59, tzinfo=UTC))
        assert [t.number for t in (first, second, new_year, late)] == [
            "SOP-2026-000001",
            "SOP-2026-000002",
            "SOP-2027-000001",
            "SOP-2026-000003",
        ]

    async def test_number_year_and_prefix_can_be_given(self, store: Store) -> None:
        """The service may number by the local (Mexico City) year: 00:30 UTC on 1 Jan is still 31 Dec there."""
        s = await seed(store)
        async with store.transaction() as tx:
            local = await tx.create_ticket(new_ticket(s, opened_at=datetime(2027, 1, 1, 0, 30, tzinfo=UTC)), year=2026)
            other = await tx.create_ticket(new_ticket(s), prefix="MX2")
            for bad in ("sop", "", "TOOLONGPREFIX", "S-P"):
                with pytest.raises(InvalidValue):
                    await tx.create_ticket(new_ticket(s), prefix=bad)
        assert local.number == "SOP-2026-000001"
        assert other.number == "MX2-2026-000001"

    async def test_rolled_back_ticket_gives_its_number_back(self, store: Store) -> None:
        s = await seed(store)
        with pytest.raises(RuntimeError):
            async with store.transaction() as tx:
                await tx.create_ticket(new_ticket(s))
                raise RuntimeError("use case failed after numbering")
        async with store.transaction() as tx:
            assert await tx.list_tickets() == []
        assert (await create_ticket(store, s)).number == "SOP-2026-000001"

    async def test_fifty_concurrent_creations_get_unique_numbers(self, store: Store) -> None:
        s = await seed(store)
        tickets = await asyncio.gather(*(create_ticket(store, s) for _ in range(50)))
        numbers = sorted(t.number for t in tickets)
        assert numbers == [f"SOP-2026-{n:06d}" for n in range(1, 51)]

    async def test_two_stores_on_one_database_get_unique_numbers(
        self, store: Store, store_factory: StoreFactory, box: SecretBox
    ) -> None:
        s = await seed(store)
        other = await store_factory(box)
        tickets = await asyncio.gather(*(create_ticket(store if i % 2 else other, s) for i in range(40)))
        assert len({t.number for t in tickets}) == 40
        assert max(t.number for t in tickets) == "SOP-2026-000040"

    async def test_list_tickets_filters(self, store: Store) -> None:
        s = await seed(store)
        a = await create_ticket(store, s, opened_at=at(1))
        b = await create_ticket(store, s, opened_at=at(2))
        c = await create_ticket(store, s, opened_at=at(0), client_id=s.other_client_id, contact_id=None)
        async with store.transaction() as tx:
            b = await tx.update_ticket(b.id, 1, status=TicketStatus.ASSIGNED, assignee_id=s.agent_id)
            assert [t.id for t in await tx.list_tickets()] == [c.id, a.id, b.id]
            assert [t.id for t in await tx.list_tickets(TicketStatus.NEW)] == [c.id, a.id]
            both = [TicketStatus.ASSIGNED, TicketStatus.WAITING_CLIENT]
            assert [t.id for t in await tx.list_tickets(both)] == [b.id]
            assert [t.id for t in await tx.list_tickets(client_id=s.client_id)] == [a.id, b.id]
            assert [t.id for t in await tx.list_tickets(assignee=s.agent_id)] == [b.id]
            assert await tx.list_tickets(TicketStatus.NEW, assignee=s.agent_id) == []
            assert await tx.list_tickets([]) == []
            with pytest.raises(ValueError, match="bogus"):
                await tx.list_tickets("bogus")  # type: ignore[arg-type]

    async def test_list_response_due_soonest_first(self, store: Store) -> None:
        s = await seed(store)
        late = await create_ticket(store, s, response_due_at=at(300))
        soon = await create_ticket(store, s, response_due_at=at(100))
        answered = await create_ticket(store, s, response_due_at=at(50))
        await create_ticket(store, s, response_due_at=at(900))
        async with store.transaction() as tx:
            await tx.update_ticket(answered.id, 1, first_response_at=at(10), response_met=True)
            due = await tx.list_response_due(at(300))
            limited = await tx.list_response_due(at(300), limit=1)
        assert [t.id for t in due] == [soon.id, late.id]
        assert [t.id for t in limited] == [soon.id]

    async def test_update_ticket_is_compare_and_set(self, store: Store) -> None:
        """Grafana OnCall #3161: an action carrying an old version must not move the ticket."""
        s = await seed(store)
        ticket = await create_ticket(store, s)
        async with store.transaction() as tx:
            moved = await tx.update_ticket(
                ticket.id,
                1,
                status=TicketStatus.ASSIGNED,
                assignee_id=s.agent_id,
                first_response_at=at(30),
                response_met=True,
                slack_channel="C0SUPPORT",
                slack_ts="1700000000.000100",
                severity=1,
            )
            assert moved.version == 2 and moved.status is TicketStatus.ASSIGNED
            assert moved.severity is Severity.CRITICAL and moved.response_met is True
            assert moved.first_response_at == at(30) and moved.slack_ts == "1700000000.000100"
            assert moved.description == ticket.description
            with pytest.raises(StaleVersion):
                await tx.update_ticket(ticket.id, 1, status=TicketStatus.RESOLVED)
            assert (await tx.get_ticket(ticket.id)) == moved
            with pytest.raises(NotFound):
                await tx.update_ticket(99999, 1, solution="x")

    @pytest.mark.parametrize(
        "changes",
        [
            {"number": "SOP-2026-999999"},
            {"version": 7},
            {"id": 3},
            {"colour": "red"},
            {"status": "archived"},
            {"severity": 9},
            {"closed_at": datetime(2026, 1, 1)},
        ],
    )
    async def test_update_ticket_refuses_bad_changes(self, store: Store, changes: dict[str, object]) -> None:
        s = await seed(store)
        ticket = await create_ticket(store, s)
        async with store.transaction() as tx:
            with pytest.raises(InvalidValue):
                await tx.update_ticket(ticket.id, 1, **changes)
            assert (await tx.get_ticket(ticket.id)) == ticket

    async def test_two_concurrent_takes_give_one_owner(
        self, store: Store, store_factory: StoreFactory, box: SecretBox
    ) -> None:
        """Two agents press "Tomar" at once on the version they both read: exactly one wins."""
        s = await seed(store)
        other = await store_factory(box)
        ticket = await create_ticket(store, s)

        async def take(target: Store, agent_id: int) -> Ticket | StaleVersion:
            try:
                async with target.transaction() as tx:
                    return await tx.update_ticket(ticket.id, ticket.version, assignee_id=agent_id)
            except StaleVersion as exc:
                return exc

        results = await asyncio.gather(take(store, s.agent_id), take(other, s.manager_id), take(store, s.agent_id))
        winners = [r for r in results if isinstance(r, Ticket)]
        assert len(winners) == 1 and winners[0].version == 2
        assert sum(isinstance(r, StaleVersion) for r in results) == 2

    # --- SLA pauses -----------------------------------------------------------------------------------
    async def test_sla_pauses(self, store: Store) -> None:
        """P-SLA-7: time waiting for the client is recorded as pauses, one open at a time."""
        s = await seed(store)
        ticket = await create_ticket(store, s)
        async with store.transaction() as tx:
            assert await tx.close_pause(ticket.id, at(1)) is None
            opened = await tx.open_pause(ticket.id, at(10), "esperando acceso remoto")
            assert opened.ended_at is None and opened.reason == "esperando acceso remoto"
            with pytest.raises(DuplicateError):
                await tx.open_pause(ticket.id, at(11))
            closed = await tx.close_pause(ticket.id, at(40))
            assert closed is not None and closed.id == opened.id and closed.ended_at == at(40)
            await tx.open_pause(ticket.id, at(50))
            pauses = await tx.list_pauses(ticket.id)
            assert [(p.started_at, p.ended_at) for p in pauses] == [(at(10), at(40)), (at(50), None)]
            with pytest.raises(NotFound):
                await tx.open_pause(99999, at(1))

    async def test_pause_cannot_end_before_it_starts(self, store: Store) -> None:
        s = await seed(store)
        ticket = await create_ticket(store, s)
        async with store.transaction() as tx:
            await tx.open_pause(ticket.id, at(10))
            with pytest.raises(InvalidValue):
                await tx.close_pause(ticket.id, at(5))

    # --- escalations ----------------------------------------------------------------------------------
    async def test_escalation_is_decided_once(self, store: Store) -> None:
        """P-ESC-2: a level-2 request approved by the quality manager; a second decision fails."""
        s = await seed(store)
        ticket = await create_ticket(store, s)
        async with store.transaction() as tx:
            req = await tx.create_escalation(
                ticket.id,
                from_level=1,
                to_level=2,
                requested_by_kind="client",
                requested_by_id="1001",
                reason="sin respuesta",
                at=at(1),
                new_severity=Severity.CRITICAL,
            )
            assert req.status is EscalationStatus.REQUESTED and req.decided_at is None
            assert req.new_severity is Severity.CRITICAL
            done = await tx.decide_escalation(
                req.id, status=EscalationStatus.APPROVED, decided_by=s.manager_id, at=at(5), reason="ok"
            )
            assert done.status is EscalationStatus.APPROVED and done.decided_by == s.manager_id
            assert done.decided_at == at(5) and done.decision_reason == "ok"
            with pytest.raises(StaleVersion):
                await tx.decide_escalation(req.id, status=EscalationStatus.REJECTED, decided_by=s.agent_id, at=at(6))
            with pytest.raises(InvalidValue):
                await tx.decide_escalation(req.id, status=EscalationStatus.REQUESTED, decided_by=1, at=at(6))
            with pytest.raises(NotFound):
                await tx.decide_escalation(99999, status=EscalationStatus.APPROVED, decided_by=1, at=at(6))
            assert await tx.get_escalation(req.id) == done
            assert await tx.list_escalations(ticket.id) == [done]
            assert await tx.get_escalation(99999) is None

    async def test_concurrent_decisions_have_one_winner(self, store: Store) -> None:
        s = await seed(store)
        ticket = await create_ticket(store, s)
        async with store.transaction() as tx:
            req = await tx.create_escalation(
                ticket.id,
                from_level=2,
                to_level=3,
                requested_by_kind="agent",
                requested_by_id="U0AGENT",
                reason="cliente molesto",
                at=at(1),
            )

        async def decide(status: EscalationStatus) -> EscalationStatus | None:
            try:
                async with store.transaction() as tx:
                    decided = await tx.decide_escalation(req.id, status=status, decided_by=s.manager_id, at=at(2))
                    return decided.status
            except StaleVersion:
                return None

        results = await asyncio.gather(decide(EscalationStatus.APPROVED), decide(EscalationStatus.REJECTED))
        assert results.count(None) == 1

    # --- attachments ----------------------------------------------------------------------------------
    async def test_attachments(self, store: Store) -> None:
        """P-IN-2: screenshots are kept as Telegram file references, later mirrored to Slack."""
        s = await seed(store)
        ticket = await create_ticket(store, s)
        async with store.transaction() as tx:
            photo = await tx.add_attachment(ticket.id, AttachmentKind.PHOTO, "AgACAgEAAxk", at=at(1), size=2048)
            doc = await tx.add_attachment(
                ticket.id, AttachmentKind.DOCUMENT, "BQACAgEAAxk", at=at(2), file_name="log.txt", mime="text/plain"
            )
            assert photo.slack_file_id is None and photo.size == 2048
            up = await tx.set_attachment_slack_file(photo.id, "F0123")
            assert up.slack_file_id == "F0123"
            assert await tx.list_attachments(ticket.id) == [up, doc]
            with pytest.raises(NotFound):
                await tx.set_attachment_slack_file(99999, "F0")
            with pytest.raises(InvalidValue):
                await tx.add_attachment(ticket.id, AttachmentKind.PHOTO, "", at=at(1))
            with pytest.raises(InvalidValue):
                await tx.add_attachment(ticket.id, AttachmentKind.PHOTO, "x", at=at(1), size=-1)
            with pytest.raises(NotFound):
                await tx.add_attachment(99999, AttachmentKind.PHOTO, "x", at=at(1))

    # --- credentials ----------------------------------------------------------------------------------
    async def test_credentials_round_trip_and_erase(self, store: Store) -> None:
        """P-IN-3: TeamViewer and equipment passwords come back decrypted, and are erased on close."""
        s = await seed(store)
        ticket = await create_ticket(store, s)
        other = await create_ticket(store, s)
        async with store.transaction() as tx:
            tv = await tx.put_credential(
                ticket.id, CredentialKind.TEAMVIEWER_PASSWORD, "TV 123 456 789", "s3cr3t-ñ", at=T0
            )
            await tx.put_credential(ticket.id, CredentialKind.EQUIPMENT_PASSWORD, "NAS", "admin:pa$$", at=T0)
            await tx.put_credential(other.id, CredentialKind.OTHER, "wifi", "clave", at=T0)
            creds = await tx.get_credentials(ticket.id)
            assert (creds[0].id, creds[0].kind, creds[0].label, creds[0].secret) == (
                tv,
                CredentialKind.TEAMVIEWER_PASSWORD,
                "TV 123 456 789",
                "s3cr3t-ñ",
            )
            assert creds[1].secret == "admin:pa$$"
            assert "s3cr3t" not in repr(creds[0])
            with pytest.raises(InvalidValue):
                await tx.put_credential(ticket.id, CredentialKind.OTHER, "vacía", "", at=T0)
            assert await tx.erase_credentials(ticket.id) == 2
            assert await tx.get_credentials(ticket.id) == []
            assert await tx.erase_credentials(ticket.id) == 0
            assert [c.secret for c in await tx.get_credentials(other.id)] == ["clave"]

    async def test_rotate_secrets(self, store: Store, store_factory: StoreFactory, box_keys: list[str]) -> None:
        """After rotation the new first key alone opens every credential and the old key alone opens none."""
        s = await seed(store)
        ticket = await create_ticket(store, s)
        async with store.transaction() as tx:
            for i in range(3):
                await tx.put_credential(ticket.id, CredentialKind.OTHER, f"c{i}", f"secret-{i}", at=T0)
        new_key = generate_key()
        old_keys = list(box_keys)
        assert await store.rotate_secrets(SecretBox([new_key, *old_keys])) == 3
        async with store.transaction() as tx:
            assert [c.secret for c in await tx.get_credentials(ticket.id)] == ["secret-0", "secret-1", "secret-2"]
        only_new = await store_factory(SecretBox([new_key]))
        async with only_new.transaction() as tx:
            assert len(await tx.get_credentials(ticket.id)) == 3
        only_old = await store_factory(SecretBox(old_keys))
        async with only_old.transaction() as tx:
            with pytest.raises(SecretError):
                await tx.get_credentials(ticket.id)

    async def test_rotate_with_a_box_that_cannot_open_rolls_back(self, store: Store) -> None:
        s = await seed(store)
        ticket = await create_ticket(store, s)
        async with store.transaction() as tx:
            await tx.put_credential(ticket.id, CredentialKind.OTHER, "c", "keep-me", at=T0)
        with pytest.raises(SecretError):
            await store.rotate_secrets(SecretBox([generate_key()]))
        async with store.transaction() as tx:
            assert [c.secret for c in await tx.get_credentials(ticket.id)] == ["keep-me"]

    # --- audit ----------------------------------------------------------------------------------------
    async def test_audit_in_append_order(self, store: Store) -> None:
        s = await seed(store)
        ticket = await create_ticket(store, s)
        async with store.transaction() as tx:
            # Clocks of two replicas may disagree: the order is append order, not timestamp order.
            for minute, action in ((1, "opened"), (3, "claimed"), (2, "credential_revealed")):
                await tx.append_audit(
                    ticket.id, at=at(minute), actor_kind="agent", actor_id="U0AGENT", action=action, data={"n": action}
                )
            await tx.append_audit(None, at=T0, actor_kind="system", actor_id="scheduler", action="tick")
            events = await tx.list_audit(ticket.id)
            with pytest.raises(InvalidValue):
                await tx.append_audit(ticket.id, at=T0, actor_kind="x", actor_id="y", action="")
            with pytest.raises(InvalidValue):
                await tx.append_audit(ticket.id, at=T0, actor_kind="x", actor_id="y", action="z", data={"o": object()})
        assert [e.action for e in events] == ["opened", "claimed", "credential_revealed"]
        assert events[2].data == {"n": "credential_revealed"} and events[0].at == at(1)
        assert events[0].id < events[1].id < events[2].id

    async def test_audit_is_read_forward_by_action_a_page_at_a_time(self, store: Store) -> None:
        """The metrics count from the log: every event once, of every ticket and none, in append order."""
        s = await seed(store)
        ticket = await create_ticket(store, s)
        async with store.transaction() as tx:
            written = ((ticket.id, "opened"), (None, "tick"), (None, "draft_expired"), (ticket.id, "claimed"))
            ids = [
                await tx.append_audit(tid, at=T0, actor_kind="x", actor_id="y", action=action)
                for tid, action in written
            ]
            wanted = ("opened", "claimed", "draft_expired")
            first = await tx.audit_since(0, wanted, limit=2)
            rest = await tx.audit_since(first[-1].id, wanted, limit=2)
            assert await tx.audit_since(rest[-1].id, wanted) == []
            assert await tx.audit_since(0, ()) == []
            with pytest.raises(InvalidValue):
                await tx.audit_since(0, wanted, limit=0)
        assert [e.id for e in first + rest] == [ids[0], ids[2], ids[3]]
        assert [e.action for e in first + rest] == ["opened", "draft_expired", "claimed"]
        assert len(first) == 2 and first[1].ticket_id is None and rest[0].ticket_id == ticket.id

    async def test_failed_call_leaves_the_transaction_usable(self, store: Store) -> None:
        """A method that raises changed nothing: the use case may go on in the same transaction."""
        s = await seed(store)
        async with store.transaction() as tx:
            with pytest.raises(NotFound):
                await tx.create_ticket(new_ticket(s, client_id=99999))
            with pytest.raises(NotFound):
                await tx.record_hours(s.contract_id, 99999, 60, HoursKind.REMOTE, True, T0)
            ticket = await tx.create_ticket(new_ticket(s))
            contract = await tx.get_contract(s.contract_id)
            assert await tx.list_hours(s.contract_id) == []
        assert ticket.number == "SOP-2026-000001"
        assert contract is not None and contract.minutes_used == 0 and contract.version == 1

    async def test_list_tickets_limit(self, store: Store) -> None:
        s = await seed(store)
        tickets = [await create_ticket(store, s, opened_at=at(i)) for i in range(3)]
        async with store.transaction() as tx:
            assert [t.id for t in await tx.list_tickets(limit=2)] == [tickets[0].id, tickets[1].id]
            with pytest.raises(InvalidValue):
                await tx.list_tickets(limit=0)
