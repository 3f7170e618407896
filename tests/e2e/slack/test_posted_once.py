"""A thread message or a file that reached Slack from a process that died before recording it is found, not posted
again (the card's own case is in test_card_and_claim.py; tests/faults kills the real process in this window)."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.services import outbox
from handlers.slack.senders import POST_EVENT
from sandbox.demo import LAURA_ID
from sandbox.slack.driver import Card
from sandbox.testing import World
from storage.records import AttachmentKind, OutboxMessage
from tests.e2e.slack.helpers import open_ticket, parts


async def _taken_by_a_dead_process(world: World) -> OutboxMessage:
    """The only due row, taken once by a process that died with it (its lease is given back at the next start)."""
    store, services = parts(world)
    async with store.transaction() as tx:
        [row] = await tx.claim_outbox(services.clock(), "dead-process", 10, 60)
        await tx.mark_retry(row.id, services.clock(), "killed", counted=False)
    return row


def _client(world: World) -> AsyncWebClient:
    return AsyncWebClient(token=world.settings.slack_bot_token, base_url=world.settings.slack_api_base_url)


async def test_a_thread_message_posted_but_not_recorded_is_found_not_posted_again(world: World) -> None:
    await world.client(LAURA_ID).send("/start")
    store, services = parts(world)
    t = await open_ticket(world)
    card = await world.team.card_for(t.number)
    async with store.transaction() as tx:
        fresh = await tx.get_ticket(t.id)
        assert fresh is not None
        await outbox.slack_thread(tx, fresh, "nota que llegó antes del kill", at=services.clock())
    row = await _taken_by_a_dead_process(world)
    # What the dead process got through to Slack before dying: the post, with its row in the metadata.
    await _client(world).chat_postMessage(
        channel=card.channel,
        thread_ts=card.ts,
        text="nota que llegó antes del kill",
        metadata={"event_type": POST_EVENT, "event_payload": {"outbox_id": row.id}},
    )
    services.wake_delivery()
    await world.settle()
    assert [m.text for m in world.team.thread(card)] == ["nota que llegó antes del kill"]
    assert "conversations.replies" in [c["method"] for c in world.slack.api_log]
    async with store.transaction() as tx:
        sent = await tx.get_outbox(row.id)
    assert sent is not None and sent.status == "sent"


async def test_a_file_uploaded_but_not_recorded_is_found_not_uploaded_again(world: World) -> None:
    await world.client(LAURA_ID).send("/start")
    store, services = parts(world)
    t = await open_ticket(world)
    card: Card = await world.team.card_for(t.number)
    photo = world.telegram.state.add_file("photo", 2048, b"\x89PNG fake photo bytes")
    async with store.transaction() as tx:
        fresh = await tx.get_ticket(t.id)
        assert fresh is not None
        attachment = await tx.add_attachment(
            t.id, AttachmentKind.PHOTO, photo.file_id, at=services.clock(), size=photo.size
        )
        await outbox.slack_thread_file(tx, fresh, attachment.id, at=services.clock())
    await _taken_by_a_dead_process(world)
    name = f"photo-{attachment.id}"
    uploaded = await _client(world).files_upload_v2(
        channel=card.channel, thread_ts=card.ts, content=b"\x89PNG fake photo bytes", filename=name, title=name
    )
    services.wake_delivery()
    await world.settle()
    files = [f["name"] for m in world.team.thread(card) for f in m.files]
    assert files == [name]
    async with store.transaction() as tx:
        [recorded] = await tx.list_attachments(t.id)
    assert recorded.slack_file_id == uploaded["file"]["id"]
