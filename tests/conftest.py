"""What every test shares."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _command_language(monkeypatch: pytest.MonkeyPatch) -> None:
    """The `supportbot` command speaks Spanish unless the locale says English: every test starts from a neutral
    locale, whatever the machine running the suite has, and a test that wants English sets LANG itself."""
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
