"""The sandbox page's mail pane in a real browser (P-IN-6): a newcomer writes to support as a client, sees the
automatic reply with the ticket number, the card on the Slack side, and answers the severity question."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from sandbox.run import SandboxApp

pytestmark = pytest.mark.browser


async def test_a_client_writes_an_email_and_reads_the_replies(page: Page, sandbox: SandboxApp, shots: Path) -> None:
    await page.wait_for_selector("body[data-mail-ready='true']")
    await page.select_option("#mail-person", "laura.perez@comercializadora.test")
    await page.fill("#mail-subject", "No hay internet en la oficina")
    await page.fill("#mail-text", "Desde las 9 no hay internet en toda la oficina; el firewall tiene una luz roja.")
    await page.click("#mail-send")
    replies = page.locator("#mail-messages .mail-item.out")
    await expect(replies.first).to_contain_text("SOP-2026-000001", timeout=15000)
    await expect(replies.first).to_contain_text("1. No funciona nada")
    await expect(page.locator("#slack-channel")).to_contain_text("Severidad por confirmar", timeout=10000)

    await replies.first.locator(".mail-reply").click()
    await page.fill("#mail-text", "2")
    await page.click("#mail-send")
    await expect(page.locator("#mail-messages .mail-item.out").last).to_contain_text(
        "severidad 2 (alta)", timeout=15000
    )
    await expect(page.locator("#slack-channel")).to_contain_text("Severidad 2", timeout=10000)
    assert sandbox.mail is not None and len(sandbox.mail.imap.messages) == 2
    path = shots / "mail-pane.png"
    await page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
