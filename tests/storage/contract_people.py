"""Contract tests: transactions, clients, contacts, contracts and hours, products, agents, invites."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.types import HoursKind, Role, ServiceArea, Tier
from storage.base import DuplicateError, InvalidValue, NotFound, Store, StoreError
from storage.records import RedeemOutcome
from storage.secrets import SecretBox
from tests.storage.contract_support import T0, StoreFactory, at, seed


class _Boom(Exception):
    """Raised inside a transaction to prove it rolls back."""


class PeopleContract:
    """Transactions and the people/contract side of the store."""

    # --- transactions ---------------------------------------------------------------------------------
    async def test_rollback_on_exception_writes_nothing(self, store: Store) -> None:
        s = await seed(store)
        with pytest.raises(_Boom):
            async with store.transaction() as tx:
                await tx.add_client("Fantasma", at=T0)
                await tx.enqueue("telegram", "1", "text", {"t": "x"}, at=T0)
                await tx.mark_processed("telegram", "u1", T0)
                raise _Boom
        async with store.transaction() as tx:
            assert [c.name for c in await tx.list_clients()] == ["Acme SA de CV", "Beta SC"]
            assert await tx.claim_outbox(at(1), "w", 10, 30) == []
            assert await tx.mark_processed("telegram", "u1", T0) is True
            assert (await tx.get_client(s.client_id)) is not None

    async def test_commit_is_visible_to_another_store(
        self, store: Store, store_factory: StoreFactory, box: SecretBox
    ) -> None:
        other = await store_factory(box)
        async with store.transaction() as tx:
            client = await tx.add_client("Visible", at=T0)
        async with other.transaction() as tx:
            found = await tx.get_client(client.id)
        assert found is not None and found.name == "Visible"

    async def test_tx_refuses_use_after_exit(self, store: Store) -> None:
        async with store.transaction() as tx:
            pass
        with pytest.raises(StoreError):
            await tx.list_clients()

    # --- clients and contacts -------------------------------------------------------------------------
    async def test_client_round_trip_and_order(self, store: Store) -> None:
        async with store.transaction() as tx:
            b = await tx.add_client("Zeta", phone="1", tax_id=None, notes="n", at=T0)
            a = await tx.add_client("Alfa", at=at(1))
            assert await tx.get_client(b.id) == b
            assert b.notes == "n" and b.tax_id is None and b.created_at == T0
            assert [c.id for c in await tx.list_clients()] == [a.id, b.id]
            assert await tx.get_client(99999) is None

    async def test_client_needs_a_name(self, store: Store) -> None:
        async with store.transaction() as tx:
            with pytest.raises(InvalidValue):
                await tx.add_client("   ", at=T0)

    async def test_naive_datetime_is_refused(self, store: Store) -> None:
        async with store.transaction() as tx:
            with pytest.raises(InvalidValue):
                await tx.add_client("X", at=datetime(2026, 1, 1, 10, 0))

    async def test_times_come_back_as_aware_utc(self, store: Store) -> None:
        mexico = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("America/Mexico_City"))
        async with store.transaction() as tx:
            client = await tx.add_client("X", at=mexico)
            again = await tx.get_client(client.id)
        assert again is not None
        assert again.created_at == mexico
        assert again.created_at.utcoffset() == timedelta(0)
        assert again.created_at.hour == 16

    async def test_contact_round_trip_and_telegram_lookup(self, store: Store) -> None:
        s = await seed(store)
        async with store.transaction() as tx:
            contact = await tx.get_contact(s.contact_id)
            assert contact is not None and contact.name == "Ana" and contact.language == "es"
            assert await tx.get_contact_by_telegram_user(1001) == contact
            assert await tx.get_contact_by_telegram_user(4242) is None

    async def test_find_contact_by_phone_normalises_digits(self, store: Store) -> None:
        s = await seed(store)
        async with store.transaction() as tx:
            for typed in ("+52 1 55 1234 5678", "(55) 1234-5678", "5512345678"):
                found = await tx.find_contact_by_phone(typed)
                assert [c.id for c in found] == [s.contact_id], typed
            assert await tx.find_contact_by_phone("55 9999 0000") == []
            # Too few digits would match unrelated numbers.
            assert await tx.find_contact_by_phone("5678") == []
            assert await tx.find_contact_by_phone("sin número") == []

    async def test_link_telegram_user(self, store: Store) -> None:
        s = await seed(store)
        async with store.transaction() as tx:
            second = await tx.add_contact(s.client_id, "Beto", phone="33 1111 2222", at=T0)
            assert second.telegram_user_id is None
            linked = await tx.link_telegram_user(second.id, 2002)
            assert linked.telegram_user_id == 2002
            assert await tx.get_contact_by_telegram_user(2002) == linked
            with pytest.raises(NotFound):
                await tx.link_telegram_user(99999, 3003)

    async def test_telegram_user_links_to_one_contact_only(self, store: Store) -> None:
        s = await seed(store)
        with pytest.raises(DuplicateError):
            async with store.transaction() as tx:
                other = await tx.add_contact(s.client_id, "Beto", at=T0)
                await tx.link_telegram_user(other.id, 1001)
        with pytest.raises(DuplicateError):
            async with store.transaction() as tx:
                await tx.add_contact(s.client_id, "Carla", telegram_user_id=1001, at=T0)

    async def test_contact_of_unknown_client_is_refused(self, store: Store) -> None:
        with pytest.raises(NotFound):
            async with store.transaction() as tx:
                await tx.add_contact(99999, "Nadie", at=T0)

    # --- contracts and hours --------------------------------------------------------------------------
    async def test_contract_round_trip(self, store: Store) -> None:
        s = await seed(store)
        async with store.transaction() as tx:
            contract = await tx.get_contract(s.contract_id)
            assert contract is not None
            assert contract.tier is Tier.BUSINESS and contract.hours_total == Decimal(20)
            assert contract.starts_on == date(2026, 1, 1) and contract.ends_on == date(2026, 12, 31)
            assert contract.minutes_used == 0 and contract.version == 1
            assert await tx.get_contract_by_number("POL-0001") == contract
            assert await tx.get_contract_by_number("POL-404") is None
            assert await tx.get_contract(99999) is None

    async def test_contract_number_is_unique(self, store: Store) -> None:
        s = await seed(store)
        with pytest.raises(DuplicateError) as refused:
            async with store.transaction() as tx:
                await tx.add_contract(
                    number="POL-0001",
                    client_id=s.other_client_id,
                    tier=Tier.BASIC,
                    starts_on=date(2026, 1, 1),
                    ends_on=date(2026, 12, 31),
                    minutes_total=300,
                )
        # Both backends word it alike, so the command can say "ya existe una póliza con ese número" from either.
        assert str(refused.value).startswith("UNIQUE constraint failed: contracts.number")

    @pytest.mark.parametrize(
        ("starts", "ends", "minutes", "number"),
        [
            (date(2026, 2, 1), date(2026, 1, 1), 300, "P-1"),
            (date(2026, 1, 1), date(2026, 2, 1), -60, "P-2"),
            (date(2026, 1, 1), date(2026, 2, 1), 300, "  "),
            # A datetime is not a date: the contract's validity is in whole days.
            (datetime(2026, 1, 1, 12, tzinfo=UTC), date(2026, 2, 1), 300, "P-3"),
        ],
    )
    async def test_bad_contract_is_refused(
        self, store: Store, starts: date, ends: date, minutes: int, number: str
    ) -> None:
        s = await seed(store)
        async with store.transaction() as tx:
            with pytest.raises(InvalidValue):
                await tx.add_contract(
                    number=number,
                    client_id=s.client_id,
                    tier=Tier.BASIC,
                    starts_on=starts,
                    ends_on=ends,
                    minutes_total=minutes,
                )

    async def test_contracts_by_client_and_expiring(self, store: Store) -> None:
        s = await seed(store)
        async with store.transaction() as tx:
            early = await tx.add_contract(
                number="POL-0002",
                client_id=s.other_client_id,
                tier=Tier.PER_EVENT,
                starts_on=date(2026, 1, 1),
                ends_on=date(2026, 6, 30),
                minutes_total=60,
                purchase_order="OC-77",
            )
            assert early.purchase_order == "OC-77"
            assert [c.number for c in await tx.list_contracts()] == ["POL-0002", "POL-0001"]
            assert [c.number for c in await tx.contracts_for_client(s.client_id)] == ["POL-0001"]
            assert [c.number for c in await tx.list_contracts(s.other_client_id)] == ["POL-0002"]
            assert [c.number for c in await tx.list_expiring(date(2026, 12, 31))] == ["POL-0002"]
            assert [c.number for c in await tx.list_expiring(date(2027, 1, 1))] == ["POL-0002", "POL-0001"]
            assert [c.number for c in await tx.list_expiring(date(2027, 1, 1), on_or_after=date(2026, 7, 1))] == [
                "POL-0001"
            ]

    async def test_record_hours_updates_ledger_and_totals(self, store: Store) -> None:
        """P-POL-6, R-POOLS: on-site and in-office hours are two pools apart from remote hours; free hours only
        logged."""
        s = await seed(store)
        ticket_id = None
        async with store.transaction() as tx:
            await tx.record_hours(s.contract_id, ticket_id, 90, HoursKind.REMOTE, True, T0)
            await tx.record_hours(s.contract_id, ticket_id, 60, HoursKind.ON_SITE, True, at(1))
            await tx.record_hours(s.contract_id, ticket_id, 30, HoursKind.IN_OFFICE, True, at(2))
            last = await tx.record_hours(s.contract_id, ticket_id, 45, HoursKind.REMOTE, False, at(3))
            ledger = await tx.list_hours(s.contract_id)
        assert last.minutes_used == 90 and last.onsite_minutes_used == 60 and last.office_minutes_used == 30
        assert last.version == 5
        assert [(e.minutes, e.kind, e.charged) for e in ledger] == [
            (90, HoursKind.REMOTE, True),
            (60, HoursKind.ON_SITE, True),
            (30, HoursKind.IN_OFFICE, True),
            (45, HoursKind.REMOTE, False),
        ]
        assert ledger[3].at == at(3)

    async def test_r_pools_a_contract_keeps_two_advice_pools(self, store: Store) -> None:
        """R-POOLS: Corporativo includes 5 h of in-office and 5 h of on-site advice, each its own pool."""
        s = await seed(store)
        async with store.transaction() as tx:
            made = await tx.add_contract(
                number="POL-CORP",
                client_id=s.client_id,
                tier=Tier.CORPORATE,
                starts_on=date(2026, 1, 1),
                ends_on=date(2026, 12, 31),
                minutes_total=70 * 60,
                onsite_minutes_total=300,
                office_minutes_total=300,
            )
            used = await tx.record_hours(made.id, None, 300, HoursKind.IN_OFFICE, True, T0)
            read = await tx.get_contract(made.id)
        assert (made.office_minutes_total, made.onsite_minutes_total) == (300, 300)
        assert (used.office_minutes_used, used.onsite_minutes_used) == (300, 0)
        assert read == used

    async def test_thirds_of_an_hour_add_up_exactly(self, store: Store) -> None:
        s = await seed(store)
        async with store.transaction() as tx:
            for _ in range(3):
                contract = await tx.record_hours(s.contract_id, None, 20, HoursKind.REMOTE, True, T0)
        assert contract.hours_used == Decimal(1)

    @pytest.mark.parametrize("minutes", [0, -5, 1.5, True])
    async def test_record_hours_refuses_bad_amounts(self, store: Store, minutes: object) -> None:
        s = await seed(store)
        async with store.transaction() as tx:
            with pytest.raises(InvalidValue):
                await tx.record_hours(s.contract_id, None, minutes, HoursKind.REMOTE, True, T0)  # type: ignore[arg-type]

    async def test_record_hours_on_unknown_contract(self, store: Store) -> None:
        async with store.transaction() as tx:
            with pytest.raises(NotFound):
                await tx.record_hours(99999, None, 10, HoursKind.REMOTE, True, T0)

    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(st.tuples(st.integers(1, 600), st.sampled_from(list(HoursKind)), st.booleans()), max_size=8))
    async def test_totals_equal_the_ledger(self, store: Store, entries: list[tuple[int, HoursKind, bool]]) -> None:
        async with store.transaction() as tx:
            client = await tx.add_client("H", at=T0)
            contract = await tx.add_contract(
                number=f"H-{client.id}",
                client_id=client.id,
                tier=Tier.CORPORATE,
                starts_on=date(2026, 1, 1),
                ends_on=date(2026, 12, 31),
                minutes_total=70 * 60,
            )
            for minutes, kind, charged in entries:
                contract = await tx.record_hours(contract.id, None, minutes, kind, charged, T0)
            ledger = await tx.list_hours(contract.id)
        remote = sum(e.minutes for e in ledger if e.charged and e.kind is HoursKind.REMOTE)
        onsite = sum(e.minutes for e in ledger if e.charged and e.kind is HoursKind.ON_SITE)
        office = sum(e.minutes for e in ledger if e.charged and e.kind is HoursKind.IN_OFFICE)  # R-POOLS
        assert (contract.minutes_used, contract.onsite_minutes_used, contract.office_minutes_used) == (
            remote,
            onsite,
            office,
        )
        assert len(ledger) == len(entries)

    # --- products -------------------------------------------------------------------------------------
    async def test_products(self, store: Store) -> None:
        """P-POL-4 warranty and P-POL-7 end-of-life flags are recorded as given."""
        s = await seed(store)
        async with store.transaction() as tx:
            switch = await tx.add_product(
                s.client_id, "Aruba 2930", ServiceArea.SWITCHING, warranty_until=date(2027, 3, 1)
            )
            assert switch.contract_id is None and switch.warranty_until == date(2027, 3, 1)
            off = await tx.set_product_discontinued(switch.id, True)
            assert off.discontinued is True
            moved = await tx.set_product_warranty(switch.id, None)
            assert moved.warranty_until is None and moved.discontinued is True
            assert await tx.get_product(switch.id) == moved
            assert [p.name for p in await tx.list_products(s.client_id)] == ["Aruba 2930", "Firewall FG-60"]
            assert await tx.list_products(s.other_client_id) == []
            with pytest.raises(NotFound):
                await tx.set_product_discontinued(99999, True)
            with pytest.raises(NotFound):
                await tx.set_product_warranty(99999, date(2027, 1, 1))
            with pytest.raises(ValueError, match="ServiceArea"):
                await tx.add_product(s.client_id, "X", "plumbing")  # type: ignore[arg-type]

    # --- agents ---------------------------------------------------------------------------------------
    async def test_agents(self, store: Store) -> None:
        s = await seed(store)
        async with store.transaction() as tx:
            agent = await tx.get_agent_by_slack("U0AGENT")
            assert agent is not None and agent.id == s.agent_id and agent.role is Role.AGENT and agent.active
            assert await tx.get_agent(s.manager_id) == await tx.get_agent_by_slack("U0QUALITY")
            assert await tx.get_agent_by_slack("U0NOBODY") is None
            off = await tx.set_agent_active(s.agent_id, False)
            assert off.active is False
            assert [a.name for a in await tx.list_agents()] == ["Luis", "Marta"]
            assert [a.name for a in await tx.list_agents(Role.QUALITY_MANAGER)] == ["Marta"]
            assert [a.name for a in await tx.list_agents(active_only=True)] == ["Marta"]
            assert await tx.list_agents(Role.OPERATIONS_MANAGER) == []
            with pytest.raises(NotFound):
                await tx.set_agent_active(99999, True)
            with pytest.raises(InvalidValue):
                await tx.add_agent("Sin Slack", " ", Role.AGENT)
        with pytest.raises(DuplicateError):
            async with store.transaction() as tx:
                await tx.add_agent("Otro Luis", "U0AGENT", Role.AGENT)

    # --- invites --------------------------------------------------------------------------------------
    async def test_invite_is_one_time_with_distinct_reasons(self, store: Store) -> None:
        s = await seed(store)
        async with store.transaction() as tx:
            created = await tx.create_invite("ABC123", s.client_id, "Ana", expires_at=at(60), at=T0)
            await tx.create_invite("OLD1", s.client_id, "Beto", expires_at=at(10), at=T0)
            first = await tx.redeem_invite("ABC123", 1001, at(5))
            second = await tx.redeem_invite("ABC123", 2002, at(6))
            expired = await tx.redeem_invite("OLD1", 3003, at(10))
            unknown = await tx.redeem_invite("NOPE", 3003, at(5))
            listed = await tx.list_invites(s.client_id)
        assert created.used_at is None
        assert first.ok and first.invite is not None and first.invite.used_by == 1001
        assert first.invite.used_at == at(5)
        assert second.outcome is RedeemOutcome.ALREADY_USED and not second.ok
        assert second.invite is not None and second.invite.used_by == 1001
        assert expired.outcome is RedeemOutcome.EXPIRED
        assert unknown.outcome is RedeemOutcome.UNKNOWN and unknown.invite is None
        assert [i.code for i in listed] == ["ABC123", "OLD1"]

    async def test_invite_code_is_unique(self, store: Store) -> None:
        s = await seed(store)
        async with store.transaction() as tx:
            await tx.create_invite("DUP", s.client_id, "Ana", expires_at=at(60), at=T0)
            with pytest.raises(InvalidValue):
                await tx.create_invite(" ", s.client_id, "Ana", expires_at=at(60), at=T0)
        with pytest.raises(DuplicateError):
            async with store.transaction() as tx:
                await tx.create_invite("DUP", s.other_client_id, "Beto", expires_at=at(60), at=T0)

    async def test_concurrent_redeem_has_one_winner(
        self, store: Store, store_factory: StoreFactory, box: SecretBox
    ) -> None:
        """Two stores (two processes) and many tasks redeem one code: exactly one succeeds."""
        s = await seed(store)
        other = await store_factory(box)
        async with store.transaction() as tx:
            await tx.create_invite("RACE", s.client_id, "Ana", expires_at=at(60), at=T0)

        async def redeem(target: Store, user: int) -> RedeemOutcome:
            async with target.transaction() as tx:
                return (await tx.redeem_invite("RACE", user, at(1))).outcome

        outcomes = await asyncio.gather(*(redeem(store if i % 2 else other, 5000 + i) for i in range(12)))
        assert outcomes.count(RedeemOutcome.OK) == 1
        assert outcomes.count(RedeemOutcome.ALREADY_USED) == 11
