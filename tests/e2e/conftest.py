"""Fixtures of the end-to-end tests: the whole bot between the Telegram and Slack stand-ins."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sandbox.testing import World, running_world


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    """Both stand-ins, the demo company and the real SupportBot; fails the test on any stand-in violation."""
    async with running_world(tmp_path) as w:
        yield w
        w.assert_no_violations()
