"""Stop the bot in the middle of the intake and start a new one on the same database: the client goes on.

Between them, the three walks restart the bot at every step of the intake (each step once), and the new bot
takes the answer with every earlier one kept. test_kill9_e2e.py does the same with a real SIGKILL of a bot
process; tests/services/test_intake_restart.py reopens the store at every step of the service."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sandbox.demo import CLINICA_ID, LAURA_ID
from sandbox.telegram.driver import TelegramClient
from sandbox.testing import World
from tests.e2e.telegram.helpers import DESCRIPTION, TV_PASSWORD, draft, tap, tickets

Action = Callable[[TelegramClient], Awaitable[object]]


def _tap(action: str) -> Action:
    async def run(client: TelegramClient) -> object:
        return await tap(client, action)

    return run


def _say(text: str) -> Action:
    async def run(client: TelegramClient) -> object:
        return await client.send(text)

    return run


async def _photo(client: TelegramClient) -> object:
    return await client.send_photo()


async def walk_with_restarts(
    world: World, user: int, steps: list[tuple[str, Action]], restart_at: set[str]
) -> TelegramClient:
    """Before each answer the step is checked in the store; at `restart_at` steps the bot is restarted first
    and the answer is taken by the new bot, with every earlier answer kept."""
    client = world.client(user)
    await client.send("/reportar")
    for expected_step, action in steps:
        saved = await draft(world, user)
        assert saved is not None and saved.step == expected_step, (expected_step, saved)
        if expected_step not in restart_at:
            await action(client)
            continue
        restart_at.discard(expected_step)
        answers_before = dict(saved.data["intake"])
        await world.restart_bot()
        after = await draft(world, user)
        assert after is not None and dict(after.data["intake"]) == answers_before  # every earlier answer kept
        await action(client)
    return client


async def test_remote_intake_survives_restarts(world: World) -> None:
    billing = world.demo.products["facturacion"]  # in warranty: the cause question is asked too (R-WARRANTY)
    laura = await walk_with_restarts(
        world,
        LAURA_ID,
        [
            ("area", _tap("a.software")),
            ("product", _tap(f"p.{billing}")),
            ("triage_down", _tap("t.down")),
            ("triage_reach", _tap("t.only_me")),
            ("triage_business", _tap("y")),
            ("triage_cause", _tap("c.product")),
            ("description", _say(DESCRIPTION)),
            ("since", _say("ayer a las 5")),
            ("attachments", _photo),
            ("attachments", _tap("ok")),
            ("access", _tap("acc.remote")),
            ("tv_id", _say("123456789")),
            ("tv_password", _say(TV_PASSWORD)),
            ("equipment_question", _tap("n")),
            ("summary", _tap("ok")),
        ],
        # Every step this walk passes through (the other walks below cover the remaining ones).
        {
            "area", "product", "triage_down", "triage_reach", "triage_business", "triage_cause", "description",
            "since", "attachments", "access", "tv_id", "tv_password", "equipment_question", "summary",
        },
    )  # fmt: skip
    assert "Tu ticket es SOP-2026-000001" in laura.last_text()
    [ticket] = await tickets(world)
    assert ticket.severity == 1 and ticket.since_text == "ayer a las 5"
    assert await draft(world, LAURA_ID) is None


async def test_onsite_and_purchase_order_steps_survive_a_restart(world: World) -> None:
    paty = await walk_with_restarts(
        world,
        CLINICA_ID,
        [
            ("purchase_order", _say("OC-2026-0099")),
            ("area", _tap("a.wireless")),
            ("product", _tap("p.other")),
            ("product_other", _say("Access point del consultorio 3")),
            ("triage_down", _tap("t.question")),
            ("triage_kind", _tap("t.documentation")),
            ("description", _say("No entiendo la guía de configuración del access point, la página 4.")),
            ("since", _tap("dk")),
            ("attachments", _tap("ok")),
            ("access", _tap("acc.onsite")),
            ("onsite_address", _say("Av. Juárez 2915, Puebla")),
            ("onsite_contact", _say("Dra. Gómez 222 300 4000")),
            ("onsite_rules", _say("Identificación oficial")),
            ("summary", _tap("ok")),
        ],
        {"purchase_order", "product_other", "triage_kind", "onsite_address", "onsite_contact", "onsite_rules"},
    )
    assert "Tu ticket es SOP-2026-000001" in paty.last_text()
    [ticket] = await tickets(world)
    assert ticket.onsite_details is not None and "Av. Juárez 2915" in ticket.onsite_details
    assert ticket.severity == 4


async def test_excluded_topic_documented_triage_and_equipment_password_survive_a_restart(world: World) -> None:
    """The last four steps no other walk restarts at: the excluded topic (P-SCOPE-2) left with "back", the
    impact question and the "not as documented" one (P-SLA-2/3) and the equipment password (P-IN-3). With the
    walks above, the bot is restarted at every step of the intake."""
    switch = world.demo.products["switch"]
    laura = await walk_with_restarts(
        world,
        LAURA_ID,
        [
            ("area", _tap("a.other")),
            ("excluded", _tap("back")),
            ("area", _tap("a.switching")),
            ("product", _tap(f"p.{switch}")),
            ("triage_down", _tap("t.wrong")),
            ("triage_impact", _tap("t.medium")),
            ("triage_documented", _tap("y")),
            ("description", _say("El switch no aplica las VLAN como dice el manual de configuración.")),
            ("since", _say("desde el lunes")),
            ("attachments", _tap("ok")),  # no images: one gentle nudge first (P-IN-2)
            ("attachments", _tap("ok")),
            ("access", _tap("acc.remote")),
            ("tv_id", _say("987654321")),
            ("tv_password", _say(TV_PASSWORD)),
            ("equipment_question", _tap("y")),
            ("equipment_password", _say("equipo-Segura-1")),
            ("summary", _tap("ok")),
        ],
        {"excluded", "triage_impact", "triage_documented", "equipment_password"},
    )
    assert "Tu ticket es SOP-2026-000001" in laura.last_text()
    [ticket] = await tickets(world)
    assert ticket.severity == 3
    assert world.bot.store is not None
    async with world.bot.store.transaction() as tx:
        secrets = {c.label: c.secret for c in await tx.get_credentials(ticket.id)}
    assert "equipo-Segura-1" in secrets.values() and TV_PASSWORD in secrets.values()
