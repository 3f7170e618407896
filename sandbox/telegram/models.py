"""The stand-in's records: users, messages, files, callback queries, violations, and their API shapes."""

from __future__ import annotations

import json
import secrets
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]


@dataclass
class User:
    """A person playing the client; their private chat with the bot has the same id."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str = "es"
    phone: str | None = None
    blocked: bool = False
    started: bool = False

    def to_api(self) -> JSON:
        """The Bot API `User` object."""
        data: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        data["language_code"] = self.language_code
        return data

    def chat_api(self) -> JSON:
        """The Bot API `Chat` object of the private chat with this user."""
        data: JSON = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        return data


@dataclass
class StoredMessage:
    """One message of a chat, as both sides see it now, plus what happened to it."""

    chat_id: int
    message_id: int
    from_bot: bool
    payload: JSON
    deleted: bool = False
    edited: bool = False
    versions: list[JSON] = field(default_factory=list)

    @property
    def inline_keyboard(self) -> list[list[JSON]]:
        """The inline buttons under the message (empty when none)."""
        markup = self.payload.get("reply_markup") or {}
        rows: list[list[JSON]] = markup.get("inline_keyboard", [])
        return rows

    def callback_data(self) -> list[str]:
        """Every callback_data carried by the message's buttons."""
        return [b["callback_data"] for row in self.inline_keyboard for b in row if "callback_data" in b]


@dataclass
class StoredFile:
    """A file known to the stand-in; `content` is None for virtual (e.g. huge) files."""

    file_id: str
    file_unique_id: str
    kind: str
    size: int
    file_path: str
    content: bytes | None = None
    mime_type: str | None = None
    file_name: str | None = None

    def read(self) -> bytes:
        """The bytes to download; virtual files get deterministic filler of their declared size."""
        if self.content is not None:
            return self.content
        pattern = self.file_unique_id.encode()
        return (pattern * (self.size // len(pattern) + 1))[: self.size]


@dataclass
class CallbackQuery:
    """A button tap waiting for answerCallbackQuery."""

    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    created: float
    answered: bool = False
    answer: JSON | None = None
    violation_recorded: bool = False


@dataclass(frozen=True)
class Violation:
    """A rejected request (kind "rejected") or a rule the bot broke silently (any other kind)."""

    kind: str
    method: str
    description: str
    params: JSON
    at: float
    error_code: int | None = None

    def to_json(self) -> JSON:
        """Shape used by the HTTP control API and the event stream."""
        return {
            "kind": self.kind,
            "method": self.method,
            "description": self.description,
            "error_code": self.error_code,
            "params": self.params,
            "at": self.at,
        }


def new_file_ids(kind: str) -> tuple[str, str]:
    """A fresh (file_id, file_unique_id) pair; the prefix tells the kind, like real ids do."""
    prefix = {"photo": "AgAC", "document": "BQAC", "voice": "AwAC", "sticker": "CAAC"}.get(kind, "BAAC")
    return prefix + secrets.token_urlsafe(40), "AQAD" + secrets.token_urlsafe(9)


def tiny_png(width: int = 2, height: int = 2, rgb: tuple[int, int, int] = (30, 120, 200)) -> bytes:
    """A valid PNG of one colour, so "photos" sent by the fake client are real images."""
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG, GIF, JPEG or WebP; None when Telegram could not process the image."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        w, h = struct.unpack(">II", data[16:24])
        return int(w), int(h)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        w, h = struct.unpack("<HH", data[6:10])
        return int(w), int(h)
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return 512, 512
    if data.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            length = struct.unpack(">H", data[i + 2 : i + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2):
                h, w = struct.unpack(">HH", data[i + 5 : i + 9])
                return int(w), int(h)
            i += 2 + length
    return None


def photo_sizes(width: int, height: int, make: Any) -> list[JSON]:
    """The PhotoSize array Telegram builds: thumbnails up to 1280 px plus the largest size."""
    sizes: list[JSON] = []
    longest = max(width, height, 1)
    for box in (90, 320, 800, 1280):
        scale = min(1.0, box / longest)
        w, h = max(1, round(width * scale)), max(1, round(height * scale))
        if sizes and (sizes[-1]["width"], sizes[-1]["height"]) == (w, h):
            break
        sizes.append(make(w, h))
        if scale == 1.0:
            break
    return sizes


def summarize(params: JSON) -> JSON:
    """Parameters short enough for a log line: long text cut, uploads named by size."""
    out: JSON = {}
    for key, value in params.items():
        if isinstance(value, bytes | bytearray):
            out[key] = f"<{len(value)} bytes>"
        elif isinstance(value, str) and len(value) > 120:
            out[key] = value[:117] + "..."
        elif isinstance(value, dict | list):
            text = json.dumps(value, ensure_ascii=False)
            out[key] = text if len(text) <= 200 else text[:197] + "..."
        else:
            out[key] = value
    return out
