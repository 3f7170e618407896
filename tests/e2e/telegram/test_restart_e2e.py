"""Kill the bot in the middle of the intake and start a new one on the same database: the client goes on.

A restart costs over a second here (the stopped bot's long poll must expire first), so these end-to-end
tests restart at one step of each kind (buttons, free text, dates, files, passwords, the summary, the
purchase order, on-site details); tests/services/test_intake_restart.py restarts the store at every step."""

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
    fortigate = world.demo.products["fortigate60"]
    laura = await walk_with_restarts(
        world,
        LAURA_ID,
        [
            ("area", _tap("a.firewall")),
            ("product", _tap(f"p.{fortigate}")),
            ("triage_down", _tap("t.wrong")),
            ("triage_impact", _tap("t.high")),
            ("triage_reach", _tap("t.only_me")),
            ("triage_business", _tap("y")),
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
        {"product", "triage_reach", "since", "attachments", "tv_password", "summary"},
    )
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
        {"purchase_order", "product_other", "onsite_rules"},
    )
    assert "Tu ticket es SOP-2026-000001" in paty.last_text()
    [ticket] = await tickets(world)
    assert ticket.onsite_details is not None and "Av. Juárez 2915" in ticket.onsite_details
    assert ticket.severity == 4
