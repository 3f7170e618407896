"""Files: multipart uploads, file_id re-sends, getFile and the download route, through the real PTB client."""

from __future__ import annotations

import aiohttp
import pytest
from telegram import Bot
from telegram.error import BadRequest

from sandbox.telegram import StandIn, User
from sandbox.telegram.models import image_size, tiny_png


async def test_photo_upload_and_download_round_trip(bot: Bot, user: User) -> None:
    png = tiny_png(640, 480)
    message = await bot.send_photo(user.id, png, caption="<i>captura</i>", parse_mode="HTML")
    assert message.caption == "captura" and message.caption_entities[0].type == "italic"
    largest = message.photo[-1]
    assert (largest.width, largest.height) == (640, 480)
    assert [p.width for p in message.photo] == [90, 320, 640]
    file = await bot.get_file(largest.file_id)
    assert file.file_path and file.file_size == len(png)
    data = await file.download_as_bytearray()
    assert bytes(data) == png


async def test_photo_file_id_can_be_sent_again(bot: Bot, user: User) -> None:
    first = await bot.send_photo(user.id, tiny_png())
    again = await bot.send_photo(user.id, first.photo[-1].file_id)
    assert again.photo[-1].file_id == first.photo[-1].file_id


async def test_not_an_image_cannot_be_sent_as_photo(standin: StandIn, bot: Bot, user: User) -> None:
    with pytest.raises(BadRequest):
        await bot.send_photo(user.id, b"%PDF-1.4 not an image")
    assert standin.violations[-1].description == "Bad Request: IMAGE_PROCESS_FAILED"


async def test_unknown_file_id_is_refused(standin: StandIn, bot: Bot, user: User) -> None:
    with pytest.raises(BadRequest):
        await bot.send_photo(user.id, "AgACnotreal")
    assert standin.violations[-1].description == "Bad Request: wrong file identifier/HTTP URL specified"
    with pytest.raises(BadRequest):
        await bot.get_file("nope")
    assert standin.violations[-1].description == "Bad Request: invalid file_id"


async def test_document_upload_round_trip_and_type_mismatch(standin: StandIn, bot: Bot, user: User) -> None:
    content = b"col1,col2\n1,2\n"
    message = await bot.send_document(user.id, content, filename="datos.csv", caption="reporte")
    assert message.document is not None
    assert message.document.file_name == "datos.csv" and message.document.file_size == len(content)
    file = await bot.get_file(message.document.file_id)
    assert bytes(await file.download_as_bytearray()) == content
    with pytest.raises(BadRequest):
        await bot.send_photo(user.id, message.document.file_id)
    assert standin.violations[-1].description == "Bad Request: type of file mismatch"


async def test_photo_sent_by_the_user_has_sizes_and_downloads(standin: StandIn, bot: Bot, user: User) -> None:
    sent = await standin.send_photo(user, caption="pantalla", width=1600, height=1200)
    updates = await bot.get_updates(offset=-1, timeout=0)
    message = updates[0].message
    assert message is not None and message.caption == "pantalla"
    assert [(p.width, p.height) for p in message.photo] == [(90, 68), (320, 240), (800, 600), (1280, 960)]
    data = await (await bot.get_file(message.photo[-1].file_id)).download_as_bytearray()
    assert image_size(bytes(data)) is not None
    assert sent.message is not None


async def test_virtual_document_downloads_its_declared_size(standin: StandIn, bot: Bot, user: User) -> None:
    sent = await standin.send_document(user, "bitacora.log", 5000, mime_type="text/plain")
    assert sent.message is not None
    file = await bot.get_file(sent.message.payload["document"]["file_id"])
    assert len(await file.download_as_bytearray()) == 5000


async def test_download_needs_the_right_token_and_path(standin: StandIn, bot: Bot, user: User) -> None:
    message = await bot.send_document(user.id, b"abc", filename="a.txt")
    assert message.document is not None and standin.urls is not None
    path = (await bot.get_file(message.document.file_id)).file_path
    assert path is not None
    relative = path.rsplit("/", 2)[-2] + "/" + path.rsplit("/", 1)[-1]
    async with aiohttp.ClientSession() as http:
        ok = await http.get(f"{standin.urls.base_file_url}{standin.token}/{relative}")
        assert ok.status == 200 and await ok.read() == b"abc"
        wrong = await http.get(f"{standin.urls.base_file_url}1:{'B' * 35}/{relative}")
        assert wrong.status == 401
        missing = await http.get(f"{standin.urls.base_file_url}{standin.token}/documents/nothing.txt")
        assert missing.status == 404


def test_image_size_reads_png_gif_and_jpeg_headers() -> None:
    assert image_size(tiny_png(7, 5)) == (7, 5)
    assert image_size(b"GIF89a\x10\x00\x20\x00rest") == (16, 32)
    jpeg = b"\xff\xd8\xff\xe0\x00\x04ab\xff\xc0\x00\x11\x08\x00\x30\x00\x40rest..."
    assert image_size(jpeg) == (64, 48)
    assert image_size(b"plain text") is None
