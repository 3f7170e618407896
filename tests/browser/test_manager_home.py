"""A manager's App Home in a real browser (issue 12): Sofía's Home shows the live figures, the escalation she
decides with its buttons, the tickets near their deadline and the contracts running out. The picture is kept in
test-output/manager-home/ (git ignores it; MANAGER_HOME_SCREENSHOTS names another folder) and printed."""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path
from typing import cast

import pytest
from playwright.async_api import Page, expect

from bot.domain.types import Tier
from bot.services import escalation
from sandbox.demo import LAURA_ID, QUALITY_SOFIA
from sandbox.run import SandboxApp
from sandbox.testing import FakeClock
from tests.browser.test_card_states import ROOT, open_ticket, settle

pytestmark = pytest.mark.browser


@pytest.fixture
def home_shots() -> Path:
    """Where the picture goes."""
    folder = Path(os.environ.get("MANAGER_HOME_SCREENSHOTS") or ROOT / "test-output" / "manager-home")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def test_the_managers_app_home(page: Page, sandbox: SandboxApp, home_shots: Path) -> None:
    folder = home_shots
    page.set_default_timeout(8000)
    await sandbox.telegram.send_text(LAURA_ID, "/start")
    await settle(sandbox)
    await open_ticket(sandbox, description="No hay internet en toda la oficina, la alarma está en rojo.")
    second = await open_ticket(sandbox, description="El switch del segundo piso no enciende desde la mañana.")
    store, services = sandbox.bot.store, sandbox.bot.services
    assert store is not None and services is not None
    now = services.clock()
    async with store.transaction() as tx:
        found = await tx.get_ticket_by_number(second)
        assert found is not None
        await escalation.request_in_tx(
            tx, services, ticket_id=found.id, requested_by_kind="system", requested_by_id="system",
            reason="Sin respuesta dentro del plazo", at=now,
        )  # fmt: skip
        await tx.add_contract(
            number="POL-2026-777", client_id=sandbox.demo.client_id, tier=Tier.BUSINESS, starts_on=date(2025, 12, 20),
            ends_on=now.date() + timedelta(days=20), minutes_total=40 * 60,
        )  # fmt: skip
    clock = cast(FakeClock, sandbox.bot.clock)
    clock.set(now + timedelta(hours=8, minutes=1))  # 10:15 -> 18:16: 6 h 01 min of business time, past 75 % of 8 h
    await settle(sandbox)

    await page.select_option("#slack-person", QUALITY_SOFIA)
    await page.click("[data-tab='home']")
    home = page.locator("#slack-home")
    await expect(home).to_contain_text("Cifras en vivo")
    for text in ("Escalaciones por decidir", second, "Vencidos o por vencer", "Pólizas por terminarse", "POL-2026-777"):
        await expect(home).to_contain_text(text)
    await expect(home.locator("button.bk-button", has_text="Aprobar")).to_have_count(1)
    shown = await home.inner_text()
    assert second in shown[shown.index("Vencidos o por vencer") : shown.index("Pólizas por terminarse")]
    path = folder / "inicio-gerente.png"
    await home.screenshot(path=str(path))
    print(f"screenshot: {path}")
    assert path.stat().st_size > 1000

    await home.locator("button.bk-button", has_text="Aprobar").click()
    await settle(sandbox)
    await page.click("[data-tab='home']")
    await expect(home.locator("button.bk-button", has_text="Aprobar")).to_have_count(0)
