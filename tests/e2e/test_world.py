"""The harness itself: the bot starts against both stand-ins, serves /healthz, survives a restart."""

from __future__ import annotations

import aiohttp

from sandbox.demo import AGENT_MARCO, LAURA_ID
from sandbox.testing import World


async def test_bot_serves_health_and_polls_telegram(world: World) -> None:
    async with aiohttp.ClientSession() as http, http.get(f"{world.bot.http_url}/healthz") as resp:
        assert resp.status == 200 and (await resp.json()) == {"ok": True}
    # python-telegram-bot asked the stand-in who it is and started long polling.
    methods = [method for method, _ in world.telegram.requests]
    assert "getMe" in methods and "getUpdates" in methods


async def test_demo_company_is_seeded_once(world: World) -> None:
    assert world.demo.contract_number == "POL-2026-0042"
    await world.restart_bot()
    assert world.bot.store is not None
    async with world.bot.store.transaction() as tx:
        clients = await tx.list_clients()
        agent = await tx.get_agent_by_slack(AGENT_MARCO)
        contact = await tx.get_contact_by_telegram_user(LAURA_ID)
    assert len([c for c in clients if c.name == "Comercializadora del Valle"]) == 1
    assert agent is not None and contact is not None
