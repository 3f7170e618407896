"""The external upload flow slack_sdk's files_upload_v2 uses, ending with the file in a ticket's thread."""

from __future__ import annotations

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError

from sandbox.slack.harness import Running


async def test_files_upload_v2_round_trip_into_a_thread(slack: Running) -> None:
    parent = (await slack.client.chat_postMessage(channel="C0SUPPORT", text="SOP-2026-000001"))["ts"]
    resp = await slack.client.files_upload_v2(
        channel="C0SUPPORT",
        thread_ts=parent,
        content=b"\x89PNG fake screenshot",
        filename="captura.png",
        title="Captura del cliente",
        initial_comment="Captura enviada por el cliente",
    )
    file_id = resp["file"]["id"]
    replies = slack.standin.replies("C0SUPPORT", parent)
    assert [r.text for r in replies] == ["Captura enviada por el cliente"]
    shared = replies[0].files[0]
    assert (shared["id"], shared["name"], shared["title"], shared["size"]) == (
        file_id,
        "captura.png",
        "Captura del cliente",
        len(b"\x89PNG fake screenshot"),
    )
    assert slack.standin.files[file_id].content == b"\x89PNG fake screenshot"
    thread = await slack.client.conversations_replies(channel="C0SUPPORT", ts=parent)
    assert thread["messages"][1]["files"][0]["id"] == file_id


async def test_complete_without_upload_is_refused(slack: Running) -> None:
    url = await slack.client.files_getUploadURLExternal(filename="a.txt", length=3)
    with pytest.raises(SlackApiError) as refused:
        await slack.client.files_completeUploadExternal(files=[{"id": url["file_id"]}], channel_id="C0SUPPORT")
    assert refused.value.response["error"] == "file_not_found"


async def test_upload_url_accepts_bytes_and_unknown_file_is_404(slack: Running) -> None:
    url = await slack.client.files_getUploadURLExternal(filename="a.txt", length=3)
    async with aiohttp.ClientSession() as http:
        async with http.post(url["upload_url"], data=b"abc") as resp:
            assert resp.status == 200
        async with http.post(url["upload_url"].rsplit("/", 1)[0] + "/F0NOPE", data=b"abc") as resp:
            assert resp.status == 404


async def test_upload_to_missing_thread_or_channel(slack: Running) -> None:
    with pytest.raises(SlackApiError) as refused:
        await slack.client.files_upload_v2(channel="C0SUPPORT", thread_ts="1.000001", content=b"x", filename="x")
    assert refused.value.response["error"] == "thread_not_found"
    with pytest.raises(SlackApiError) as refused:
        await slack.client.files_upload_v2(channel="C0NOPE", content=b"x", filename="x")
    assert refused.value.response["error"] == "channel_not_found"


async def test_get_upload_url_needs_a_length(slack: Running) -> None:
    with pytest.raises(SlackApiError) as refused:
        await slack.client.files_getUploadURLExternal(filename="a.txt", length=0)
    assert refused.value.response["error"] == "invalid_arguments"
