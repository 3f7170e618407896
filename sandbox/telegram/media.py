"""Bot API methods for files: sendPhoto, sendDocument (upload or file_id) and getFile."""

from __future__ import annotations

from sandbox.telegram import errors
from sandbox.telegram.errors import ApiError, bad_request
from sandbox.telegram.limits import MAX_DOWNLOAD_BYTES, check_reply_markup, require
from sandbox.telegram.methods import Params, Upload, apply_markup, formatted, method, rate_check, reply_fields
from sandbox.telegram.models import JSON, StoredFile, image_size, photo_sizes
from sandbox.telegram.state import StandInState

MAX_PHOTO_UPLOAD = 10 * 1024 * 1024
MAX_UPLOAD = 50 * 1024 * 1024


def resolve_input(p: Params, field: str) -> Upload | str:
    """The file a parameter names: an uploaded part (directly or via attach://) or a file_id text."""
    if field in p.uploads:
        return p.uploads[field]
    value = p.get(field)
    if value is None or value == "":
        raise bad_request(f"there is no {field} in the request")
    if not isinstance(value, str):
        raise bad_request(f"wrong type of the {field} parameter")
    if value.startswith("attach://"):
        name = value.removeprefix("attach://")
        if name not in p.uploads:
            raise bad_request(f"there is no {field} in the request")
        return p.uploads[name]
    return value


def known_file(st: StandInState, file_id: str, kind: str) -> StoredFile:
    """A file_id re-sent by the bot; URLs cannot be fetched here (no network)."""
    if file_id.startswith(("http://", "https://")):
        raise bad_request("failed to get HTTP URL content")
    stored = st.files.get(file_id)
    if stored is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    if stored.kind != kind:
        raise bad_request("type of file mismatch")
    return stored


def photo_entries(st: StandInState, width: int, height: int, data: bytes | None, size: int) -> list[JSON]:
    """PhotoSize objects, each its own downloadable file."""

    def make(w: int, h: int) -> JSON:
        scaled = size if (w, h) == (width, height) else max(1, size * w * h // max(1, width * height))
        f = st.add_file("photo", scaled, data)
        return {
            "file_id": f.file_id,
            "file_unique_id": f.file_unique_id,
            "file_size": f.size,
            "width": w,
            "height": h,
        }

    return photo_sizes(width, height, make)


@method("sendPhoto")
async def send_photo(st: StandInState, p: Params) -> JSON:
    """A photo, uploaded (must be a real image ≤ 10 MB) or re-sent by file_id, with a caption ≤ 1024."""
    user = st.chat_for_bot(require(p.values, "chat_id"))
    source = resolve_input(p, "photo")
    caption, entities = formatted(st, p, "sendPhoto", caption=True)
    markup = check_reply_markup(p.get("reply_markup"))
    content: JSON = {}
    if isinstance(source, Upload):
        if len(source.data) > MAX_PHOTO_UPLOAD:
            raise ApiError(413, "Request Entity Too Large")
        dims = image_size(source.data)
        if dims is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
        if dims[0] + dims[1] > 10000 or max(dims) / max(1, min(dims)) > 20:
            raise bad_request("PHOTO_INVALID_DIMENSIONS")
        content["photo"] = photo_entries(st, dims[0], dims[1], source.data, len(source.data))
    else:
        stored = known_file(st, source, "photo")
        same = [m for m in _photos_with(st, stored.file_id)]
        content["photo"] = same or [
            {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_size": stored.size,
                "width": 1280,
                "height": 960,
            }
        ]
    if caption:
        content["caption"] = caption
    if entities:
        content["caption_entities"] = entities
    content.update(reply_fields(st, p, user.id))
    rate_check(st, user.id)
    apply_markup(st, user.id, markup, content)
    return st.store_message(user.id, True, content).payload


def _photos_with(st: StandInState, file_id: str) -> list[JSON]:
    """The PhotoSize array of an earlier message that carried this file_id."""
    for stored in st.messages.values():
        sizes: list[JSON] = stored.payload.get("photo", [])
        if any(s["file_id"] == file_id for s in sizes):
            return sizes
    return []


@method("sendDocument")
async def send_document(st: StandInState, p: Params) -> JSON:
    """A general file, uploaded (≤ 50 MB) or re-sent by file_id."""
    user = st.chat_for_bot(require(p.values, "chat_id"))
    source = resolve_input(p, "document")
    caption, entities = formatted(st, p, "sendDocument", caption=True)
    markup = check_reply_markup(p.get("reply_markup"))
    if isinstance(source, Upload):
        if len(source.data) > MAX_UPLOAD:
            raise ApiError(413, "Request Entity Too Large")
        if not source.data:
            raise bad_request("file must be non-empty")
        stored = st.add_file(
            "document",
            len(source.data),
            source.data,
            mime_type=source.content_type or "application/octet-stream",
            file_name=source.filename or "document",
        )
    else:
        stored = known_file(st, source, "document")
    content: JSON = {"document": document_api(stored)}
    if caption:
        content["caption"] = caption
    if entities:
        content["caption_entities"] = entities
    content.update(reply_fields(st, p, user.id))
    rate_check(st, user.id)
    apply_markup(st, user.id, markup, content)
    return st.store_message(user.id, True, content).payload


def document_api(stored: StoredFile) -> JSON:
    """The Bot API `Document` object."""
    data: JSON = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.size,
    }
    if stored.file_name:
        data["file_name"] = stored.file_name
    if stored.mime_type:
        data["mime_type"] = stored.mime_type
    return data


@method("getFile")
async def get_file(st: StandInState, p: Params) -> JSON:
    """A download path for files up to 20 MB; bigger ones get "file is too big"."""
    file_id = str(require(p.values, "file_id", "invalid file_id"))
    stored = st.files.get(file_id)
    if stored is None:
        raise bad_request("invalid file_id")
    if stored.size > MAX_DOWNLOAD_BYTES:
        raise bad_request(errors.FILE_TOO_BIG)
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.size,
        "file_path": stored.file_path,
    }


def file_by_path(st: StandInState, file_path: str) -> StoredFile | None:
    """The file behind a download path (None → 404, like Telegram's file server)."""
    for stored in st.files.values():
        if stored.file_path == file_path and stored.size <= MAX_DOWNLOAD_BYTES:
            return stored
    return None
