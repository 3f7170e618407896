"""Helpers of the intake end-to-end tests: tap a step's button by its action, walk the intake, read the store."""

from __future__ import annotations

from sandbox.telegram.actions import Sent
from sandbox.telegram.driver import TelegramClient
from sandbox.testing import World
from storage import Store
from storage.records import Draft, Ticket

DESCRIPTION = "No hay internet en toda la oficina, el firewall tiene la luz de alarma en rojo desde la mañana."
TV_PASSWORD = "k9#Lm2<b>&"  # a test secret with HTML characters in it


def store(world: World) -> Store:
    assert world.bot.store is not None
    return world.bot.store


def intake_data(client: TelegramClient, action: str) -> str:
    """callback_data of the newest intake button with this action ("i:<seq>:<action>")."""
    for message in reversed(client.bot_messages()):
        for row in message["buttons"]:
            for button in row:
                data = button.get("callback_data", "")
                if data.startswith("i:") and data.split(":", 2)[2] == action:
                    return str(data)
    raise AssertionError(f"no intake button {action!r}; last buttons: {client.last_buttons()}")


async def tap(client: TelegramClient, action: str) -> Sent:
    """Tap the intake button of the current step whose action is `action` (e.g. "a.firewall")."""
    return await client.tap(intake_data(client, action))


async def draft(world: World, chat_id: int) -> Draft | None:
    async with store(world).transaction() as tx:
        return await tx.get_draft(chat_id)


async def tickets(world: World) -> list[Ticket]:
    async with store(world).transaction() as tx:
        return await tx.list_tickets()


async def to_description(client: TelegramClient, world: World) -> None:
    """From nothing to the description question: firewall, FortiGate 60F, down for the whole company."""
    await client.send("/reportar")
    await tap(client, "a.firewall")
    await tap(client, f"p.{world.demo.products['fortigate60']}")
    await tap(client, "t.down")
    await tap(client, "t.whole_company")


async def to_summary_remote(client: TelegramClient, world: World) -> None:
    """The whole remote-access intake up to the summary (two photos, TeamViewer, no equipment password)."""
    await to_description(client, world)
    await client.send(DESCRIPTION)
    await client.send("desde hoy a las 9")
    await client.send_photo()
    await client.send_photo()
    await tap(client, "ok")
    await tap(client, "acc.remote")
    await client.send("1 234 567 890")
    await client.send(TV_PASSWORD)
    await tap(client, "n")
