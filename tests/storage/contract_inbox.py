"""Contract tests: the durable inbox, paced outbox claims, dead letters, lease takeover, savepoints, and the
lookups the client and desk entries rely on."""

from __future__ import annotations

import asyncio

import pytest

from bot.domain.types import TicketStatus
from storage.base import InvalidValue, Store
from storage.records import InboxStatus, OutboxStatus, TimerStatus
from storage.secrets import SecretBox
from tests.storage.contract_support import StoreFactory, at, create_ticket, new_ticket, seed


class InboxContract:
    """Nothing received is lost or handled twice; a chat's events are handled in order."""

    async def test_a_redelivery_is_recognised_at_the_door(self, store: Store) -> None:
        async with store.transaction() as tx:
            first = await tx.add_inbox("telegram", "101", "tg:chat:1", "update", {"update_id": 101}, at=at(0))
            again = await tx.add_inbox("telegram", "101", "tg:chat:1", "update", {"update_id": 101}, at=at(1))
            other_source = await tx.add_inbox("slack", "101", "slack:user:U1", "action", {}, at=at(1))
            assert first is not None and again is None and other_source is not None
            entry = await tx.get_inbox(first)
            assert entry is not None and entry.status is InboxStatus.PENDING and entry.payload == {"update_id": 101}
            assert entry.received_at == at(0) and entry.attempts == 0
            with pytest.raises(InvalidValue):
                await tx.add_inbox("", "1", "k", "update", {}, at=at(0))

    async def test_unparsed_entries_are_kept_and_never_handed_out(self, store: Store) -> None:
        async with store.transaction() as tx:
            kept = await tx.add_inbox("telegram", "7", "tg:unparsed", "update", {"x": 1}, at=at(0), unparsed="bad")
            assert kept is not None
            assert await tx.claim_inbox(at(1), "w", 10, 30) == []
            [entry] = await tx.list_inbox((InboxStatus.UNPARSED,))
            assert entry.id == kept and entry.error == "bad" and entry.finished_at == at(0)

    async def test_one_chat_in_order_different_chats_in_parallel(self, store: Store) -> None:
        async with store.transaction() as tx:
            a1 = await tx.add_inbox("telegram", "1", "tg:chat:A", "update", {}, at=at(0))
            a2 = await tx.add_inbox("telegram", "2", "tg:chat:A", "update", {}, at=at(0))
            b1 = await tx.add_inbox("telegram", "3", "tg:chat:B", "update", {}, at=at(0))
            assert a1 is not None and a2 is not None and b1 is not None
            first = await tx.claim_inbox(at(1), "w1", 10, 300)
            assert [e.id for e in first] == [a1, b1]
            assert all(e.status is InboxStatus.WORKING and e.locked_by == "w1" for e in first)
            assert await tx.claim_inbox(at(1), "w2", 10, 30) == []  # a2 waits behind a1
            assert await tx.finish_inbox(a1, "w1", at(2))
            assert [e.id for e in await tx.claim_inbox(at(2), "w2", 10, 30)] == [a2]
            done = await tx.get_inbox(a1)
            assert done is not None and done.status is InboxStatus.DONE and done.finished_at == at(2)

    async def test_only_the_lease_holder_finishes_an_entry(self, store: Store) -> None:
        """A worker whose lease expired and was taken over must not also commit the entry's effects."""
        async with store.transaction() as tx:
            entry = await tx.add_inbox("telegram", "1", "tg:chat:A", "update", {}, at=at(0))
            assert entry is not None
            await tx.claim_inbox(at(0), "slow", 10, 30)
            assert [e.id for e in await tx.claim_inbox(at(1), "other", 10, 30)] == [entry]  # lease expired
            assert not await tx.finish_inbox(entry, "slow", at(1))
            assert not await tx.retry_inbox(entry, "slow", at(2), "late")
            assert await tx.finish_inbox(entry, "other", at(1))
            assert not await tx.finish_inbox(entry, "other", at(1))  # finished already
            with pytest.raises(InvalidValue):
                await tx.finish_inbox(entry, "other", at(1), status=InboxStatus.PENDING)

    async def test_retry_waits_keeps_order_and_counts_only_failures(self, store: Store) -> None:
        async with store.transaction() as tx:
            a1 = await tx.add_inbox("telegram", "1", "tg:chat:A", "update", {}, at=at(0))
            a2 = await tx.add_inbox("telegram", "2", "tg:chat:A", "update", {}, at=at(0))
            assert a1 is not None and a2 is not None
            await tx.claim_inbox(at(0), "w", 10, 30)
            assert await tx.retry_inbox(a1, "w", at(5), "card not recorded", counted=False)
            assert await tx.claim_inbox(at(4), "w", 10, 30) == []  # a2 may not overtake a1
            [again] = await tx.claim_inbox(at(5), "w", 10, 30)
            assert again.id == a1 and again.attempts == 0 and again.error == "card not recorded"
            assert await tx.retry_inbox(a1, "w", at(6), "boom")
            [third] = await tx.claim_inbox(at(6), "w", 10, 30)
            assert third.attempts == 1
            assert await tx.finish_inbox(a1, "w", at(7), status=InboxStatus.FAILED, error="gave up")
            assert [e.id for e in await tx.claim_inbox(at(7), "w", 10, 30)] == [a2]

    async def test_prune_forgets_finished_entries_only(self, store: Store) -> None:
        async with store.transaction() as tx:
            old = await tx.add_inbox("telegram", "1", "tg:chat:A", "update", {}, at=at(0))
            live = await tx.add_inbox("telegram", "2", "tg:chat:B", "update", {}, at=at(0))
            assert old is not None and live is not None
            unreadable = await tx.add_inbox("telegram", "3", "tg:chat:C", "update", {}, at=at(0), unparsed="KeyError")
            await tx.claim_inbox(at(0), "w", 1, 30)
            await tx.finish_inbox(old, "w", at(1))
            assert await tx.prune_inbox(at(100)) == 1
            assert await tx.get_inbox(old) is None and await tx.get_inbox(live) is not None
            assert unreadable is not None and await tx.get_inbox(unreadable) is not None  # kept for a person
            # Forgotten keys: a replay a long time later is taken as new (Telegram keeps updates 24 h).
            assert await tx.add_inbox("telegram", "1", "tg:chat:A", "update", {}, at=at(200)) is not None

    async def test_prune_inbox_takes_at_most_limit_entries(self, store: Store) -> None:
        async with store.transaction() as tx:
            ids = [await tx.add_inbox("telegram", str(n), f"tg:chat:{n}", "update", {}, at=at(n)) for n in range(3)]
            await tx.claim_inbox(at(5), "w", 10, 30)
            for n, entry in enumerate(ids):
                assert entry is not None
                await tx.finish_inbox(entry, "w", at(n + 5))
            assert await tx.prune_inbox(at(100), limit=2) == 2
            assert [await tx.get_inbox(e) is None for e in ids if e is not None] == [True, True, False]
            assert await tx.prune_inbox(at(100), limit=2) == 1

    async def test_backlog_counts_open_work_and_its_age(self, store: Store) -> None:
        async with store.transaction() as tx:
            empty = await tx.backlog()
            assert (empty.outbox_pending, empty.outbox_dead, empty.inbox_pending) == (0, 0, 0)
            assert empty.outbox_oldest is None and empty.inbox_oldest is None
            sent = await tx.enqueue("telegram", "A", "text", {}, at=at(1))
            dead = await tx.enqueue("telegram", "B", "text", {}, at=at(2))
            await tx.enqueue("telegram", "C", "text", {}, at=at(3))
            await tx.enqueue("telegram", "D", "text", {}, at=at(4))
            assert sent is not None and dead is not None
            await tx.claim_outbox(at(5), "w", 10, 30)  # all four 'sending'
            await tx.mark_sent(sent)
            await tx.mark_dead(dead, "403")
            done = await tx.add_inbox("telegram", "1", "tg:chat:A", "update", {}, at=at(1))
            await tx.add_inbox("telegram", "2", "tg:chat:B", "update", {}, at=at(2))
            await tx.add_inbox("telegram", "3", "tg:chat:B", "update", {}, at=at(3))
            assert done is not None
            await tx.claim_inbox(at(5), "w", 10, 30)
            await tx.finish_inbox(done, "w", at(6))
            backlog = await tx.backlog()
        assert (backlog.outbox_pending, backlog.outbox_oldest, backlog.outbox_dead) == (2, at(3), 1)
        assert (backlog.inbox_pending, backlog.inbox_oldest) == (2, at(2))

    async def test_a_restarted_process_takes_over_its_predecessors_leases(self, store: Store) -> None:
        s = await seed(store)
        ticket = await create_ticket(store, s)
        async with store.transaction() as tx:
            entry = await tx.add_inbox("telegram", "1", "tg:chat:A", "update", {}, at=at(0))
            row = await tx.enqueue("telegram", "A", "send", {}, at=at(0))
            timer = await tx.schedule_timer("remind", at(0), ticket_id=ticket.id)
            other = await tx.enqueue("telegram", "B", "send", {}, at=at(0))
            await tx.claim_inbox(at(0), "host1/100-aa/inboxworker", 10, 60)
            await tx.claim_outbox(at(0), "host1/100-aa/dispatcher", 1, 60)
            await tx.claim_outbox(at(0), "host2/7-cc/dispatcher", 1, 60)  # another replica's: left alone
            await tx.claim_due_timers(at(0), "host1/100-aa/scheduler", 10, 60)
            assert await tx.release_leases("host1/", "host1/200-bb/") == 3
            assert [e.id for e in await tx.claim_inbox(at(0.1), "host1/200-bb/inboxworker", 10, 60)] == [entry]
            assert [m.id for m in await tx.claim_outbox(at(0.1), "host1/200-bb/dispatcher", 10, 60)] == [row]
            assert [t.id for t in await tx.claim_due_timers(at(0.1), "host1/200-bb/scheduler", 10, 60)] == [timer]
            kept = await tx.get_outbox(other) if other is not None else None
            assert kept is not None and kept.locked_by == "host2/7-cc/dispatcher"
            timer_row = await tx.get_timer(timer) if timer is not None else None
            assert timer_row is not None and timer_row.status is TimerStatus.RUNNING
            with pytest.raises(InvalidValue):
                await tx.release_leases("", "x")

    async def test_concurrent_inbox_claims_are_disjoint(
        self, store: Store, store_factory: StoreFactory, box: SecretBox
    ) -> None:
        other = await store_factory(box)
        async with store.transaction() as tx:
            for i in range(30):
                await tx.add_inbox("telegram", str(i), f"tg:chat:{i}", "update", {}, at=at(0))

        async def claim(target: Store, worker: str) -> list[int]:
            async with target.transaction() as tx:
                return [e.id for e in await tx.claim_inbox(at(1), worker, 8, 30)]

        batches = await asyncio.gather(*(claim(store if i % 2 else other, f"w{i}") for i in range(6)))
        claimed = [i for batch in batches for i in batch]
        assert len(claimed) == len(set(claimed)) == 30

    # --- the outbox, paced ----------------------------------------------------------------------------
    async def test_claims_skip_busy_lanes_and_take_few_of_one_lane(self, store: Store) -> None:
        async with store.transaction() as tx:
            posts = [
                await tx.enqueue("slack", f"ticket:{i}", "card", {}, at=at(0), pace_key="slack:post:C1")
                for i in range(5)
            ]
            reply = await tx.enqueue("telegram", "9", "send", {}, at=at(0), pace_key="tg:chat:9")
            first = await tx.claim_outbox(at(1), "w", 50, 30, per_lane=2)
            assert [m.id for m in first] == [posts[0], posts[1], reply]  # the client's reply is not held back
            assert first[0].pace_key == "slack:post:C1"
            assert await tx.claim_outbox(at(1), "w", 50, 30, skip_lanes={"slack:post:C1"}) == []
            assert [m.id for m in await tx.claim_outbox(at(1), "w", 50, 30)] == posts[2:]
            with pytest.raises(InvalidValue):
                await tx.claim_outbox(at(1), "w", 50, 30, per_lane=0)

    async def test_a_wait_is_not_a_failed_attempt(self, store: Store) -> None:
        async with store.transaction() as tx:
            row = await tx.enqueue("telegram", "A", "send", {}, at=at(0))
            assert row is not None
            await tx.claim_outbox(at(0), "w", 10, 30)
            await tx.mark_retry(row, at(1), "429", counted=False)
            await tx.claim_outbox(at(1), "w", 10, 30)
            await tx.mark_retry(row, at(2), "500")
            await tx.claim_outbox(at(2), "w", 10, 30)
            await tx.mark_sent(row, at(2))
            done = await tx.get_outbox(row)
            assert done is not None and (done.attempts, done.claims, done.sent_at) == (1, 3, at(2))

    async def test_dead_letters_are_listed_and_sent_again(self, store: Store) -> None:
        async with store.transaction() as tx:
            dead = await tx.enqueue("telegram", "A", "send", {"n": 1}, at=at(0))
            alive = await tx.enqueue("telegram", "B", "send", {"n": 2}, at=at(0))
            assert dead is not None and alive is not None
            await tx.claim_outbox(at(0), "w", 10, 30)
            await tx.mark_retry(dead, at(0), "boom")
            await tx.claim_outbox(at(0), "w", 10, 30)
            await tx.mark_dead(dead, "gave up")
            assert [m.id for m in await tx.list_outbox(OutboxStatus.DEAD)] == [dead]
            assert await tx.requeue_outbox(dead, at(5))
            assert not await tx.requeue_outbox(alive, at(5))  # not dead: nothing to do
            again = await tx.get_outbox(dead)
            assert again is not None and again.status is OutboxStatus.PENDING and again.attempts == 0
            assert again.available_at == at(5) and await tx.list_outbox(OutboxStatus.DEAD) == []

    # --- savepoints and lookups -------------------------------------------------------------------------
    async def test_a_savepoint_undoes_only_its_own_writes(self, store: Store) -> None:
        async with store.transaction() as tx:
            kept = await tx.enqueue("telegram", "A", "send", {"n": 1}, at=at(0))
            with pytest.raises(RuntimeError):
                async with tx.savepoint():
                    await tx.enqueue("telegram", "A", "send", {"n": 2}, at=at(0))
                    raise RuntimeError("refused")
            async with tx.savepoint():
                after = await tx.enqueue("telegram", "A", "send", {"n": 3}, at=at(0))
        async with store.transaction() as tx:
            rows = await tx.claim_outbox(at(1), "w", 10, 30)
            assert [m.id for m in rows] == [kept]
            await tx.mark_sent(kept or 0)
            assert [m.payload for m in await tx.claim_outbox(at(1), "w", 10, 30)] == [{"n": 3}]
            assert after is not None

    async def test_a_contact_marked_unreachable_and_back(self, store: Store) -> None:
        await seed(store)
        async with store.transaction() as tx:
            marked = await tx.set_contact_unreachable(1001, at(3))
            assert marked is not None and marked.unreachable_since == at(3)
            found = await tx.get_contact_by_telegram_user(1001)
            assert found is not None and found.unreachable_since == at(3)
            cleared = await tx.set_contact_unreachable(1001, None)
            assert cleared is not None and cleared.unreachable_since is None
            assert await tx.set_contact_unreachable(424242, at(3)) is None

    async def test_ticket_lookups_of_the_entries(self, store: Store) -> None:
        s = await seed(store)
        async with store.transaction() as tx:
            first = await tx.create_ticket(new_ticket(s, opened_at=at(0), slack_channel="C1"))
            second = await tx.create_ticket(new_ticket(s, opened_at=at(1), contact_id=None))
            third = await tx.create_ticket(new_ticket(s, opened_at=at(2)))
            assert await tx.has_unrecorded_card("C1")
            await tx.update_ticket(first.id, first.version, slack_ts="1.1")
            assert not await tx.has_unrecorded_card("C1")
            newest = await tx.list_tickets(client_id=s.client_id, newest=2)
            assert [t.id for t in newest] == [third.id, second.id]
            mine = await tx.list_tickets(status=TicketStatus.NEW, client_id=s.client_id, contact_id=s.contact_id)
            assert [t.id for t in mine] == [first.id, third.id]
            suffix = "-" + third.number.rsplit("-", 1)[1]
            found = await tx.find_client_ticket_by_suffix(s.client_id, suffix)
            assert found is not None and found.id == third.id
            assert await tx.find_client_ticket_by_suffix(s.other_client_id, suffix) is None
            assert await tx.find_client_ticket_by_suffix(s.client_id, "-%") is None
