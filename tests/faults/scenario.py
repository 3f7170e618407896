"""The work the fault tests put the bot through: clients of the demo company, one consultant each, and one
ticket's whole life (intake, claim, a reply, the client's answer, resolved)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.clock import utcnow
from bot.domain.types import Role
from sandbox.demo import Demo
from storage import Tx
from tests.faults.people import Client, Consultant, intake, ticket_number
from tests.faults.process import Outside

FIRST_CLIENT_ID = 5560001


def client_ids(n: int) -> list[int]:
    return [FIRST_CLIENT_ID + i for i in range(n)]


def consultant_ids(n: int) -> list[tuple[str, str]]:
    return [(f"U0FAULT{i + 1:02d}", f"Consultor {i + 1}") for i in range(n)]


def seeding(n: int) -> Callable[[Tx, Demo], Awaitable[None]]:
    """Seed n clients (contacts of the demo company, on its Empresarial contract) and one consultant each."""

    async def seed(tx: Tx, demo: Demo) -> None:
        now = utcnow()
        for i, user_id in enumerate(client_ids(n)):
            await tx.add_contact(demo.client_id, f"Cliente {i + 1}", telegram_user_id=user_id, at=now)
        for slack_id, name in consultant_ids(n):
            await tx.add_agent(name, slack_id, Role.AGENT)

    return seed


def cast(outside: Outside, n: int, patience: float) -> tuple[list[Client], list[Consultant]]:
    """The n clients in the Telegram stand-in and the n consultants in the Slack one."""
    clients = [
        Client(outside.telegram, outside.telegram.create_user(f"Cliente {i + 1}", user_id=uid), patience)
        for i, uid in enumerate(client_ids(n))
    ]
    consultants = []
    for slack_id, name in consultant_ids(n):
        outside.slack.add_user(slack_id, name)
        consultants.append(Consultant(outside.slack, slack_id, name, patience))
    return clients, consultants


async def journey(outside: Outside, client: Client, consultant: Consultant, n: int) -> bool:
    """One ticket's life: intake, claim, reply, the client's answer, resolved. False when someone gave up
    waiting (what they waited for is written down and counted at the end)."""
    tag = f"{client.user.first_name} #{n}"
    *steps, confirm = intake(outside.demo.products["fortigate60"], tag)
    for step in steps:
        if await client.act(step) is None:
            return False
    client.confirmed += 1  # the tap below owes a ticket, whatever happens to the process
    created = await client.act(confirm)
    if created is None:
        return False
    number = ticket_number(created)
    card = await consultant.card(number)
    if card is None:
        return False
    after = client.newest_id()
    await consultant.press(card, "desk_claim")  # False only when an earlier press already changed the card
    if await client.sees(after, f"tomó tu ticket {number}") is None:
        return False
    # Slack delivers the reply on its own time (retrying while the bot is down): whether it reached the client
    # is counted at the end; the client goes on meanwhile.
    consultant.reply(card, client.chat, f"Hola, soy {consultant.name}: reviso el firewall de {number} ({tag}).")
    if await client.say(f"Gracias, ya reinicié el equipo ({tag}).", "Le envié tu respuesta") is None:
        return False
    after = client.newest_id()
    if not await consultant.resolve(card, f"Se reinició el firewall ({tag})."):
        return False
    return await client.sees(after, "quedó resuelto") is not None
