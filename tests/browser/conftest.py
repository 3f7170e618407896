"""Fixtures of the browser tests: the whole sandbox in-process on a free port, and Debian's chromium."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

from bot.settings import Settings
from sandbox.run import SandboxApp, sandbox_running
from sandbox.testing import DEFAULT_NOW, FakeClock
from storage import generate_key

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing: install Debian's chromium (scripts/install-browser.sh, as root) to run this"
    if os.environ.get("CI"):
        pytest.fail(f"CI is set, so the browser test must run, but {reason}")
    print(f"skipping the browser test: {reason}")
    pytest.skip(reason)


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[SandboxApp]:
    """Stand-ins, page and the real bot on a free port, a fresh database, the clock on a business morning."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_path=tmp_path / "supportbot.db",
        secrets_keys=[generate_key()],
        http_host="127.0.0.1",
        http_port=0,
    )
    async with sandbox_running(settings, clock=FakeClock(DEFAULT_NOW), poll_timeout=1) as app:
        yield app


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    _require_chromium()
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def page(browser: Browser, sandbox: SandboxApp) -> AsyncIterator[Page]:
    """The sandbox page, loaded and connected to both stand-ins' live streams."""
    context = await browser.new_context(viewport={"width": 1500, "height": 1000}, locale="es-MX")
    opened = await context.new_page()
    script_errors: list[str] = []
    opened.on("pageerror", lambda error: script_errors.append(str(error)))
    opened.set_default_timeout(5000)
    await opened.goto(sandbox.url)
    await opened.wait_for_selector("body[data-ready='true']")
    await opened.wait_for_selector("#live[data-state='live']")
    try:
        yield opened
    finally:
        await context.close()
    # A page that threw is broken even when the test's checks happened to pass.
    assert not script_errors, f"the page raised JavaScript errors: {script_errors}"


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go (printed by the tests that save one)."""
    folder = tmp_path / "screenshots"
    folder.mkdir()
    return folder
