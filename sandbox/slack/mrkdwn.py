"""Slack mrkdwn as Slack reads it: finds what would ping, mention or deceive, and renders text for the page."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

# Slack parses every `<...>` span in mrkdwn as a control sequence; a bot that forgets to escape
# user text (`& < >`) lets a client write these.
_ANGLE = re.compile(r"<([^<>]*)>")
_BROADCASTS = {"channel", "here", "everyone"}
# A label that reads like a web address: "bank.com", "www.bank.com/login", "https://bank.com".
_URLISH = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*://)?((?:[a-z0-9-]+\.)+[a-z]{2,})(?:[:/?#]\S*)?\s*$", re.I)


@dataclass(frozen=True)
class Unsafe:
    """One control sequence in bot-posted text that the real Slack would act on."""

    kind: str  # "broadcast", "unknown_mention", "disguised_link"
    token: str
    detail: str


def _host(url: str) -> str:
    host = urlsplit(url if "://" in url else f"//{url}").hostname or ""
    return host.lower().removeprefix("www.")


def find_unsafe(text: str, is_member: Callable[[str], bool]) -> list[Unsafe]:
    """List the pings, foreign mentions and disguised links Slack would honour in `text`."""
    found: list[Unsafe] = []
    for match in _ANGLE.finditer(text):
        inner = match.group(1)
        target, _, label = inner.partition("|")
        if target.startswith("!"):
            name = target[1:].split("^", 1)[0]
            if name in _BROADCASTS:
                found.append(Unsafe("broadcast", match.group(0), f"@{name} would notify everyone"))
        elif target.startswith(("@U", "@W")):
            user_id = target[1:]
            if not is_member(user_id):
                found.append(Unsafe("unknown_mention", match.group(0), f"mentions {user_id}, not a workspace member"))
        elif label and ("://" in target or target.startswith("mailto:")):
            shown = _URLISH.match(label)
            if shown and _host(shown.group(0)) != _host(target):
                found.append(Unsafe("disguised_link", match.group(0), f"shows {label.strip()!r} but opens {target}"))
    return found


def escape(text: str) -> str:
    """What the Slack client does to what a person types (and what a bot must do to user text)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """Back from Slack's escaped form to what the person typed."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def render(text: str, user_name: Callable[[str], str | None]) -> str:
    """Plain text as a Slack reader would see it; pings are made loud so the page shows the harm."""

    def one(match: re.Match[str]) -> str:
        target, _, label = match.group(1).partition("|")
        if target.startswith("!"):
            name = target[1:].split("^", 1)[0]
            if name in _BROADCASTS:
                return f"📣@{name}"
            return f"@{label or name}"
        if target.startswith(("@U", "@W")):
            shown = user_name(target[1:])
            return f"@{shown}" if shown else f"@{target[1:]}"
        if target.startswith("#C"):
            return f"#{label or target[1:]}"
        return unescape(label) if label else unescape(target)

    return unescape(_ANGLE.sub(one, text))


def iter_mrkdwn(blocks: Any, pointer: str = "") -> Iterator[tuple[str, str]]:
    """Yield (json-pointer, text) for every mrkdwn text object inside a block tree."""
    if isinstance(blocks, dict):
        if blocks.get("type") == "mrkdwn" and isinstance(blocks.get("text"), str):
            yield f"{pointer}/text", blocks["text"]
            return
        for key, value in blocks.items():
            yield from iter_mrkdwn(value, f"{pointer}/{key}")
    elif isinstance(blocks, list):
        for index, item in enumerate(blocks):
            yield from iter_mrkdwn(item, f"{pointer}/{index}")


def find_unsafe_rich_text(
    blocks: Any, is_member: Callable[[str], bool], pointer: str = ""
) -> Iterator[tuple[str, Unsafe]]:
    """The same dangers expressed as rich_text elements (broadcast, user, link) instead of mrkdwn."""
    if isinstance(blocks, list):
        for index, item in enumerate(blocks):
            yield from find_unsafe_rich_text(item, is_member, f"{pointer}/{index}")
        return
    if not isinstance(blocks, dict):
        return
    kind = blocks.get("type")
    if kind == "broadcast":
        name = str(blocks.get("range", ""))
        yield pointer, Unsafe("broadcast", f"<!{name}>", f"@{name} would notify everyone")
    elif kind == "user" and not is_member(str(blocks.get("user_id", ""))):
        user_id = blocks.get("user_id")
        yield pointer, Unsafe("unknown_mention", f"<@{user_id}>", f"mentions {user_id}, not a workspace member")
    elif kind == "link" and isinstance(blocks.get("text"), str):
        shown = _URLISH.match(blocks["text"])
        url = str(blocks.get("url", ""))
        if shown and _host(shown.group(0)) != _host(url):
            yield pointer, Unsafe("disguised_link", url, f"shows {blocks['text']!r} but opens {url}")
    for key, value in blocks.items():
        if isinstance(value, list | dict):
            yield from find_unsafe_rich_text(value, is_member, f"{pointer}/{key}")
