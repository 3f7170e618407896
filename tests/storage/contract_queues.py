"""Contract tests: intake drafts, processed-update keys, the outbox and timers."""

from __future__ import annotations

import asyncio

import pytest

from storage.base import InvalidValue, NotFound, StaleVersion, Store
from storage.records import Draft, OutboxStatus, TimerStatus
from storage.secrets import SecretBox
from tests.storage.contract_support import T0, StoreFactory, at, create_ticket, seed


class QueueContract:
    """State that lets the bot survive restarts and redeliveries."""

    # --- drafts ---------------------------------------------------------------------------------------
    async def test_draft_upsert_and_round_trip(self, store: Store) -> None:
        """python-telegram-bot #1864: an intake survives a restart because each answer is saved."""
        async with store.transaction() as tx:
            assert await tx.get_draft(7) is None
            first = await tx.save_draft(
                7, user_id=70, step="severity", data={"desc": "no prende"}, language="es", at=T0
            )
            second = await tx.save_draft(
                7, user_id=70, step="screenshots", data={"desc": "no prende", "sev": 2}, language="en", at=at(1)
            )
            loaded = await tx.get_draft(7)
        assert first.version == 1 and second.version == 2
        assert loaded == second
        assert loaded is not None and loaded.data == {"desc": "no prende", "sev": 2}
        assert loaded.language == "en" and loaded.step == "screenshots" and loaded.updated_at == at(1)

    async def test_draft_compare_and_set(self, store: Store) -> None:
        async with store.transaction() as tx:
            created = await tx.save_draft(8, user_id=80, step="a", data={}, language="es", at=T0, expected_version=0)
            assert created.version == 1
            with pytest.raises(StaleVersion):
                await tx.save_draft(8, user_id=80, step="b", data={}, language="es", at=T0, expected_version=0)
            moved = await tx.save_draft(8, user_id=80, step="b", data={}, language="es", at=T0, expected_version=1)
            assert moved.version == 2 and moved.step == "b"
            with pytest.raises(StaleVersion):
                await tx.save_draft(8, user_id=80, step="c", data={}, language="es", at=T0, expected_version=1)
            with pytest.raises(StaleVersion):
                await tx.save_draft(9, user_id=90, step="c", data={}, language="es", at=T0, expected_version=3)
            assert await tx.get_draft(9) is None
            assert (await tx.get_draft(8)) == moved
            with pytest.raises(InvalidValue):
                await tx.save_draft(8, user_id=80, step="c", data={"x": {1, 2}}, language="es", at=T0)

    async def test_two_replicas_saving_one_draft_one_wins(
        self, store: Store, store_factory: StoreFactory, box: SecretBox
    ) -> None:
        other = await store_factory(box)
        async with store.transaction() as tx:
            base = await tx.save_draft(5, user_id=50, step="a", data={}, language="es", at=T0)

        async def answer(target: Store, step: str) -> Draft | None:
            try:
                async with target.transaction() as tx:
                    return await tx.save_draft(
                        5, user_id=50, step=step, data={}, language="es", at=at(1), expected_version=base.version
                    )
            except StaleVersion:
                return None

        results = await asyncio.gather(answer(store, "b"), answer(other, "c"))
        assert sum(r is not None for r in results) == 1

    async def test_delete_and_list_old_drafts(self, store: Store) -> None:
        async with store.transaction() as tx:
            await tx.save_draft(1, user_id=1, step="a", data={}, language="es", at=at(0))
            await tx.save_draft(2, user_id=2, step="a", data={}, language="es", at=at(-60))
            await tx.save_draft(3, user_id=3, step="a", data={}, language="es", at=at(30))
            assert [d.chat_id for d in await tx.list_drafts_older_than(at(10))] == [2, 1]
            assert await tx.delete_draft(1) is True
            assert await tx.delete_draft(1) is False
            assert [d.chat_id for d in await tx.list_drafts_older_than(at(60))] == [2, 3]

    # --- processed updates ----------------------------------------------------------------------------
    async def test_mark_processed_once(self, store: Store) -> None:
        """bolt-python #868: a redelivered update or click must do nothing the second time."""
        async with store.transaction() as tx:
            assert await tx.mark_processed("telegram", "1001", T0) is True
            assert await tx.mark_processed("telegram", "1001", at(1)) is False
            assert await tx.mark_processed("slack", "1001", T0) is True
            with pytest.raises(InvalidValue):
                await tx.mark_processed("", "1", T0)

    async def test_concurrent_mark_processed_once(
        self, store: Store, store_factory: StoreFactory, box: SecretBox
    ) -> None:
        other = await store_factory(box)

        async def mark(target: Store) -> bool:
            async with target.transaction() as tx:
                return await tx.mark_processed("slack", "Ev0123", T0)

        results = await asyncio.gather(*(mark(store if i % 2 else other) for i in range(10)))
        assert results.count(True) == 1

    async def test_prune_processed(self, store: Store) -> None:
        async with store.transaction() as tx:
            await tx.mark_processed("telegram", "old", at(-600))
            await tx.mark_processed("telegram", "new", at(0))
            assert await tx.prune_processed(at(-1)) == 1
            assert await tx.mark_processed("telegram", "old", at(1)) is True
            assert await tx.mark_processed("telegram", "new", at(1)) is False

    # --- outbox ---------------------------------------------------------------------------------------
    async def test_enqueue_dedupes_and_round_trips(self, store: Store) -> None:
        async with store.transaction() as tx:
            first = await tx.enqueue("telegram", "5001", "text", {"text": "Hola"}, at=T0, dedupe_key="t:1")
            again = await tx.enqueue("telegram", "5001", "text", {"text": "Hola"}, at=T0, dedupe_key="t:1")
            free = await tx.enqueue("slack", "C0", "card", {}, at=T0)
            free2 = await tx.enqueue("slack", "C0", "card", {}, at=T0)
            assert first is not None and again is None and free is not None and free2 is not None
            row = await tx.get_outbox(first)
            assert await tx.get_outbox(99999) is None
            with pytest.raises(InvalidValue):
                await tx.enqueue("", "1", "text", {}, at=T0)
        assert row is not None
        assert row.payload == {"text": "Hola"} and row.status is OutboxStatus.PENDING
        assert row.available_at == T0 and row.attempts == 0 and row.locked_by is None

    async def test_outbox_one_in_flight_per_ordering_key(self, store: Store) -> None:
        """Messages to one chat go out in order: only the oldest undelivered one is handed out."""
        async with store.transaction() as tx:
            a1 = await tx.enqueue("telegram", "A", "text", {"n": 1}, at=at(0))
            a2 = await tx.enqueue("telegram", "A", "text", {"n": 2}, at=at(1))
            b1 = await tx.enqueue("telegram", "B", "text", {"n": 3}, at=at(2))
            s1 = await tx.enqueue("slack", "A", "text", {"n": 4}, at=at(3))
            assert a1 is not None and b1 is not None
            first = await tx.claim_outbox(at(5), "w1", 10, 30)
            assert [m.id for m in first] == [a1, b1, s1]
            assert all(m.status is OutboxStatus.SENDING and m.locked_by == "w1" for m in first)
            # attempts count failures only; claims count takings (a sender knows an earlier try may have landed)
            assert first[0].attempts == 0 and first[0].claims == 1 and first[0].locked_until == at(5.5)
            # a2 waits behind a1 while a1 is leased; nothing is handed out twice.
            assert await tx.claim_outbox(at(5), "w2", 10, 30) == []
            await tx.mark_sent(a1)
            await tx.mark_sent(b1)
            second = await tx.claim_outbox(at(5.25), "w2", 10, 30)
            assert [m.id for m in second] == [a2]
            sent = await tx.get_outbox(a1)
            assert sent is not None and sent.status is OutboxStatus.SENT and sent.locked_by is None

    async def test_outbox_retry_keeps_order_and_dead_unblocks(self, store: Store) -> None:
        async with store.transaction() as tx:
            a1 = await tx.enqueue("telegram", "A", "text", {}, at=at(0))
            a2 = await tx.enqueue("telegram", "A", "text", {}, at=at(0))
            assert a1 is not None and a2 is not None
            await tx.claim_outbox(at(1), "w", 10, 30)
            await tx.mark_retry(a1, at(10), "429 retry_after=9")
            retried = await tx.get_outbox(a1)
            assert retried is not None and retried.status is OutboxStatus.PENDING
            assert retried.last_error == "429 retry_after=9" and retried.locked_by is None
            # Neither a1 (not yet available) nor a2 (behind a1) may go out before a1's retry time.
            assert await tx.claim_outbox(at(5), "w", 10, 30) == []
            again = await tx.claim_outbox(at(10), "w", 10, 30)
            assert [(m.id, m.attempts, m.claims) for m in again] == [(a1, 1, 2)]
            await tx.mark_dead(a1, "403 blocked")
            dead = await tx.get_outbox(a1)
            assert dead is not None and dead.status is OutboxStatus.DEAD and dead.last_error == "403 blocked"
            assert [m.id for m in await tx.claim_outbox(at(11), "w", 10, 30)] == [a2]
            for mark in (tx.mark_sent(99999), tx.mark_retry(99999, at(1), "x"), tx.mark_dead(99999, "x")):
                with pytest.raises(NotFound):
                    await mark

    async def test_outbox_lease_expires(self, store: Store) -> None:
        async with store.transaction() as tx:
            a1 = await tx.enqueue("telegram", "A", "text", {}, at=at(0))
            await tx.enqueue("telegram", "B", "text", {}, at=at(0), available_at=at(60))
            assert [m.id for m in await tx.claim_outbox(at(1), "w1", 10, 60)] == [a1]
            assert await tx.claim_outbox(at(1.5), "w2", 10, 60) == []
            # w1 died: after its lease, w2 may take the row.
            retaken = await tx.claim_outbox(at(2), "w2", 10, 60)
            assert [(m.id, m.locked_by, m.claims) for m in retaken] == [(a1, "w2", 2)]

    async def test_prune_outbox_keeps_undelivered_rows(self, store: Store) -> None:
        async with store.transaction() as tx:
            sent = await tx.enqueue("telegram", "A", "text", {}, at=at(0), dedupe_key="k:sent")
            dead = await tx.enqueue("telegram", "B", "text", {}, at=at(0))
            pending = await tx.enqueue("telegram", "C", "text", {}, at=at(0))
            recent = await tx.enqueue("telegram", "D", "text", {}, at=at(100))
            assert sent is not None and dead is not None and recent is not None
            await tx.claim_outbox(at(100), "w", 10, 30)
            await tx.mark_sent(sent)
            await tx.mark_dead(dead, "403")
            await tx.mark_sent(recent)
            assert await tx.prune_outbox(at(50)) == 1
            assert await tx.get_outbox(sent) is None
            assert await tx.get_outbox(dead) is not None  # a dead letter waits for `outbox retry`
            assert pending is not None and await tx.get_outbox(pending) is not None
            assert await tx.get_outbox(recent) is not None
            # The pruned row's dedupe key is free again.
            assert await tx.enqueue("telegram", "A", "text", {}, at=at(101), dedupe_key="k:sent") is not None

    async def test_prunes_take_at_most_limit_rows_oldest_first(self, store: Store) -> None:
        """A big prune is cut into short transactions: each call forgets at most `limit` rows."""
        async with store.transaction() as tx:
            rows = [await tx.enqueue("telegram", f"k{n}", "text", {}, at=at(n)) for n in range(3)]
            timers = [await tx.schedule_timer("remind", at(n)) for n in range(3)]
            await tx.claim_outbox(at(10), "w", 10, 30)
            for row in rows:
                assert row is not None
                await tx.mark_sent(row)
            await tx.claim_due_timers(at(10), "s", 10, 60)
            for timer in timers:
                assert timer is not None
                await tx.complete_timer(timer)
            for n in range(3):
                assert await tx.mark_processed("telegram", f"u{n}", at(n))
            assert await tx.prune_outbox(at(50), limit=2) == 2
            assert [await tx.get_outbox(r) is None for r in rows if r is not None] == [True, True, False]
            assert await tx.prune_outbox(at(50), limit=2) == 1
            assert await tx.prune_timers(at(50), limit=2) == 2
            assert [await tx.get_timer(t) is None for t in timers if t is not None] == [True, True, False]
            assert await tx.prune_processed(at(50), limit=2) == 2
            assert await tx.prune_processed(at(50), limit=2) == 1
            with pytest.raises(InvalidValue):
                await tx.prune_outbox(at(50), limit=0)

    async def test_outbox_limit_and_bad_arguments(self, store: Store) -> None:
        async with store.transaction() as tx:
            for key in ("A", "B", "C"):
                await tx.enqueue("telegram", key, "text", {}, at=at(0))
            assert len(await tx.claim_outbox(at(1), "w", 2, 30)) == 2
            assert len(await tx.claim_outbox(at(1), "w", 2, 30)) == 1
            with pytest.raises(InvalidValue):
                await tx.claim_outbox(at(1), "w", 0, 30)
            with pytest.raises(InvalidValue):
                await tx.claim_outbox(at(1), "w", 1, 0)

    async def test_concurrent_claims_are_disjoint(
        self, store: Store, store_factory: StoreFactory, box: SecretBox
    ) -> None:
        other = await store_factory(box)
        async with store.transaction() as tx:
            for i in range(30):
                await tx.enqueue("telegram", f"chat{i}", "text", {}, at=T0)

        async def claim(target: Store, worker: str) -> list[int]:
            async with target.transaction() as tx:
                return [m.id for m in await tx.claim_outbox(at(1), worker, 8, 30)]

        batches = await asyncio.gather(*(claim(store if i % 2 else other, f"w{i}") for i in range(6)))
        claimed = [i for batch in batches for i in batch]
        assert len(claimed) == len(set(claimed)) == 30

    # --- timers ---------------------------------------------------------------------------------------
    async def test_timers_due_order_and_no_double_claim(self, store: Store) -> None:
        s = await seed(store)
        ticket = await create_ticket(store, s)
        async with store.transaction() as tx:
            late = await tx.schedule_timer("remind", at(30), ticket_id=ticket.id, payload={"n": 2})
            soon = await tx.schedule_timer("sla_due", at(10), ticket_id=ticket.id)
            future = await tx.schedule_timer("close", at(999))
            assert future is not None
            # With a limit, the earliest due timer goes first even though it was scheduled later.
            claimed = await tx.claim_due_timers(at(30), "s1", 1, 60)
            assert [t.id for t in claimed] == [soon]
            claimed += await tx.claim_due_timers(at(30), "s1", 10, 60)
            assert [t.id for t in claimed] == [soon, late]
            assert claimed[1].payload == {"n": 2} and claimed[0].status is TimerStatus.RUNNING
            assert await tx.claim_due_timers(at(30.5), "s2", 10, 60) == []
            assert late is not None
            await tx.complete_timer(late)
            done = await tx.get_timer(late)
            assert done is not None and done.status is TimerStatus.DONE
            # s1 died holding `soon`: after the lease, another scheduler fires it again.
            assert [(t.id, t.attempts) for t in await tx.claim_due_timers(at(91), "s2", 10, 60)] == [(soon, 2)]
            with pytest.raises(NotFound):
                await tx.complete_timer(99999)
            with pytest.raises(InvalidValue):
                await tx.claim_due_timers(at(1), "s", 0, 60)
            assert await tx.get_timer(99999) is None

    async def test_timer_dedupe_and_cancel(self, store: Store) -> None:
        s = await seed(store)
        ticket = await create_ticket(store, s)
        async with store.transaction() as tx:
            first = await tx.schedule_timer("remind", at(10), ticket_id=ticket.id, dedupe_key="r:1:1")
            assert await tx.schedule_timer("remind", at(10), ticket_id=ticket.id, dedupe_key="r:1:1") is None
            await tx.schedule_timer("remind", at(20), ticket_id=ticket.id)
            sla = await tx.schedule_timer("sla_due", at(5), ticket_id=ticket.id)
            assert first is not None and sla is not None
            assert await tx.cancel_timers(ticket.id, "remind") == 2
            assert [t.id for t in await tx.claim_due_timers(at(60), "s", 10, 60)] == [sla]
            assert await tx.cancel_timers(ticket.id) == 1
            # A timer cancelled while firing is not turned into "done" by its worker.
            await tx.complete_timer(sla)
            cancelled = await tx.get_timer(sla)
            assert cancelled is not None and cancelled.status is TimerStatus.CANCELLED
            assert await tx.cancel_timers(ticket.id) == 0
            with pytest.raises(InvalidValue):
                await tx.schedule_timer("", at(1))

    async def test_prune_timers_keeps_live_ones(self, store: Store) -> None:
        s = await seed(store)
        ticket = await create_ticket(store, s)
        async with store.transaction() as tx:
            done = await tx.schedule_timer("remind", at(0))
            cancelled = await tx.schedule_timer("remind", at(1), ticket_id=ticket.id)
            pending = await tx.schedule_timer("remind", at(2))
            late_done = await tx.schedule_timer("remind", at(200))
            assert done is not None and cancelled is not None and pending is not None and late_done is not None
            assert [t.id for t in await tx.claim_due_timers(at(0), "s", 1, 60)] == [done]
            await tx.complete_timer(done)
            assert await tx.cancel_timers(ticket.id) == 1
            await tx.complete_timer(late_done)
            assert await tx.prune_timers(at(100)) == 2
            assert await tx.get_timer(done) is None and await tx.get_timer(cancelled) is None
            assert await tx.get_timer(pending) is not None and await tx.get_timer(late_done) is not None

    async def test_concurrent_timer_claims_are_disjoint(
        self, store: Store, store_factory: StoreFactory, box: SecretBox
    ) -> None:
        other = await store_factory(box)
        async with store.transaction() as tx:
            for i in range(20):
                await tx.schedule_timer("remind", at(i))

        async def claim(target: Store, worker: str) -> list[int]:
            async with target.transaction() as tx:
                return [t.id for t in await tx.claim_due_timers(at(60), worker, 6, 60)]

        batches = await asyncio.gather(*(claim(store if i % 2 else other, f"s{i}") for i in range(5)))
        claimed = [i for batch in batches for i in batch]
        assert len(claimed) == len(set(claimed)) == 20
