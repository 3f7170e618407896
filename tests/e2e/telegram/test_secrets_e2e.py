"""No secret ever leaked: a TeamViewer password goes from the client's message to an encrypted row and to the
assignee's ephemeral message, and nowhere else — not the chat, the database file, the outbox, or the logs."""

from __future__ import annotations

import logging

import pytest

from sandbox.demo import AGENT_MARCO, LAURA_ID
from sandbox.slack.mrkdwn import escape
from sandbox.testing import World
from tests.e2e.telegram.helpers import TV_PASSWORD, tap, tickets, to_summary_remote


async def test_the_password_reaches_only_the_assignee(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)  # the production default (LOG_LEVEL=INFO)
    laura = world.client(LAURA_ID)
    await to_summary_remote(laura, world)
    await tap(laura, "ok")
    [ticket] = await tickets(world)
    card = await world.team.card_for(ticket.number)
    await world.team.click(card, "desk_claim", as_user=AGENT_MARCO)
    await world.team.click(card, "desk_reveal", as_user=AGENT_MARCO)

    # P-IN-3: the message that carried it was deleted from the client's chat once stored.
    carrying = [m for m in world.telegram.history(LAURA_ID, include_deleted=True) if m.get("text") == TV_PASSWORD]
    assert carrying and all(m.get("deleted") for m in carrying)
    assert all(m.get("text") != TV_PASSWORD for m in laura.messages())
    # Shown once, to the assignee only, in an ephemeral message.
    # (escaped for mrkdwn, so Slack shows exactly what the client typed, "<b>&" included)
    shown = [e for e in world.slack.ephemerals if escape(TV_PASSWORD) in e.text]
    assert [e.user for e in shown] == [AGENT_MARCO]
    assert all("k9#Lm2" not in m.text for m in world.slack.messages.values())
    # Encrypted at rest: not in the database or its WAL, in any form a reader could grep.
    for path in world.settings.database_path.parent.glob(world.settings.database_path.name + "*"):
        raw = path.read_bytes()
        assert TV_PASSWORD.encode() not in raw and b"k9#Lm2" not in raw, path
    # Never logged, whatever happened on the way.
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "")
        assert "k9#Lm2" not in text, record
