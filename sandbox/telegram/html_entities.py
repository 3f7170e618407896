"""Telegram text formatting: HTML / MarkdownV2 / Markdown parsed into Bot API entities, with tdlib's errors."""

from __future__ import annotations

import html
from typing import Any

Entity = dict[str, Any]

# tdlib's is_space(): the NUL terminator counts as space, which is how its loops stop at the end.
_SPACE = frozenset(b" \t\r\n\0\v")
_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_SIMPLE_TAG_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}


class EntityParseError(ValueError):
    """The text does not parse in its parse mode; the message is tdlib's own wording."""


def checked_link(url: str) -> str | None:
    """A simplified tdlib LinkManager::get_checked_link: None when Telegram would drop the link."""
    url = url.strip()
    if not url or any(c.isspace() for c in url):
        return None
    scheme, sep, rest = url.partition("://")
    if not sep:
        if url.startswith(("tg:", "ton:")):
            return url
        scheme, rest = "http", url
    scheme = scheme.lower()
    if scheme not in ("http", "https", "tg", "ton", "tonsite"):
        return None
    host, slash, path = rest.partition("/")
    if scheme in ("http", "https"):
        bare_host = host.split("?")[0].split("#")[0].split(":")[0]
        if "." not in bare_host or bare_host.startswith(".") or bare_host.endswith("."):
            return None
        if not slash:
            tail = host[len(host.split("?")[0].split("#")[0]) :]
            return f"{scheme}://{host[: len(host) - len(tail)]}/{tail}"
    return f"{scheme}://{host}{slash}{path}"


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of every Bot API entity offset."""
    return len(text.encode("utf-16-le")) // 2


def _utf16_step(first_byte: int) -> int:
    """UTF-16 units a UTF-8 character starting with this byte adds (0 for continuation bytes)."""
    if first_byte & 0xC0 == 0x80:
        return 0
    return 2 if first_byte >= 0xF0 else 1


def _decode_html_entity(b: bytes, pos: int) -> tuple[int, int]:
    """Port of tdlib decode_html_entity: (code point or 0, position after the entity)."""

    def at(k: int) -> int:
        return b[k] if k < len(b) else 0

    end = pos + 1
    res = 0
    if at(pos + 1) == ord("#"):
        end += 1
        if at(pos + 2) == ord("x"):
            end += 1
            while chr(at(end)) in "0123456789abcdefABCDEF" and at(end):
                res = res * 16 + int(chr(at(end)), 16)
                end += 1
        else:
            while ord("0") <= at(end) <= ord("9"):
                res = res * 10 + at(end) - ord("0")
                end += 1
        if res == 0 or res >= 0x10FFFF or end - pos >= 10:
            return 0, pos
    else:
        while chr(at(end)).isascii() and chr(at(end)).isalpha():
            end += 1
        name = b[pos + 1 : end]
        res = {b"lt": 0x3C, b"gt": 0x3E, b"amp": 0x26, b"quot": 0x22}.get(name, 0)
        if res == 0:
            return 0, pos
    return res, end + 1 if at(end) == ord(";") else end


def html_unescaped_ampersands(text: str) -> list[int]:
    """Byte offsets of `&` that Telegram keeps literally (accepted, but a sign of unescaped user text)."""
    b = text.encode("utf-8")
    return [i for i, c in enumerate(b) if c == 0x26 and _decode_html_entity(b, i)[0] == 0]


def parse_html(text: str) -> tuple[str, list[Entity]]:
    """Parse Telegram HTML (a port of tdlib parse_html); raise EntityParseError with tdlib's message."""
    b = text.encode("utf-8")
    n = len(b)

    def at(k: int) -> int:
        return b[k] if k < n else 0

    out = bytearray()
    entities: list[Entity] = []
    nested: list[tuple[str, str, int, int]] = []  # tag, argument, utf16 offset, output byte offset
    utf16 = 0
    i = 0
    while i < n:
        c = b[i]
        if c == 0x26:
            code, after = _decode_html_entity(b, i)
            if code:
                if 0xD800 <= code <= 0xDFFF:
                    raise EntityParseError(
                        "Text contains invalid Unicode characters after decoding HTML entities, "
                        "check for unmatched surrogate code units"
                    )
                out += chr(code).encode("utf-8")
                utf16 += 2 if code > 0xFFFF else 1
                i = after
                continue
        if c != 0x3C:
            utf16 += _utf16_step(c)
            out.append(c)
            i += 1
            continue
        begin = i
        i += 1
        if at(i) != ord("/"):
            while at(i) not in _SPACE and at(i) != ord(">"):
                i += 1
            if at(i) == 0:
                raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
            tag = b[begin + 1 : i].decode("utf-8", "replace").lower()
            if tag not in _HTML_TAGS:
                raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {begin}')
            argument = ""
            while at(i) != ord(">"):
                while at(i) != 0 and at(i) in _SPACE:
                    i += 1
                if at(i) == ord(">"):
                    break
                attr_begin = i
                # Stopping at ">" too lets a bare `expandable` end the tag; other errors read the same.
                while at(i) not in _SPACE and at(i) not in (ord("="), ord(">")):
                    i += 1
                attr = b[attr_begin:i].decode("utf-8", "replace")
                if not attr:
                    raise EntityParseError(f'Empty attribute name in the tag "{tag}" at byte offset {begin}')
                while at(i) != 0 and at(i) in _SPACE:
                    i += 1
                if at(i) != ord("="):
                    if tag == "blockquote" and attr == "expandable" and at(i) in (ord(">"), *_SPACE):
                        # Newer Bot API versions accept the bare `expandable` attribute.
                        argument = "expandable"
                        if at(i) == 0:
                            raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                        continue
                    raise EntityParseError(
                        f'Expected equal sign in declaration of an attribute of the tag "{tag}" at byte offset {begin}'
                    )
                i += 1
                while at(i) != 0 and at(i) in _SPACE:
                    i += 1
                if at(i) == 0:
                    raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                value = bytearray()
                if at(i) not in (ord("'"), ord('"')):
                    token_begin = i
                    while chr(at(i)).isascii() and (chr(at(i)).isalnum() or at(i) in b".-") and at(i):
                        i += 1
                    value += b[token_begin:i].lower()
                    if at(i) not in _SPACE and at(i) != ord(">"):
                        raise EntityParseError(f"Unexpected end of name token at byte offset {token_begin}")
                else:
                    quote = at(i)
                    i += 1
                    while at(i) != quote and at(i) != 0:
                        if at(i) == 0x26:
                            code, after = _decode_html_entity(b, i)
                            if code:
                                value += chr(code).encode("utf-8")
                                i = after
                                continue
                        value.append(at(i))
                        i += 1
                    if at(i) == quote:
                        i += 1
                if at(i) == 0:
                    raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
                val = value.decode("utf-8", "replace")
                if tag == "a" and attr == "href":
                    argument = val
                elif tag == "code" and attr == "class" and val.startswith("language-"):
                    argument = val[9:]
                elif tag == "span" and attr == "class" and val.startswith("tg-"):
                    argument = val[3:]
                elif tag == "tg-emoji" and attr == "emoji-id":
                    argument = val
            if tag == "span" and argument != "spoiler":
                raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
            nested.append((tag, argument, utf16, len(out)))
            i += 1
        else:
            if not nested:
                raise EntityParseError(f"Unexpected end tag at byte offset {begin}")
            while at(i) not in _SPACE and at(i) != ord(">"):
                i += 1
            end_tag = b[begin + 2 : i].decode("utf-8", "replace").lower()
            while at(i) in _SPACE and at(i) != 0:
                i += 1
            if at(i) != ord(">"):
                raise EntityParseError(f"Unclosed end tag at byte offset {begin}")
            i += 1
            tag, argument, offset, out_pos = nested.pop()
            if end_tag and end_tag != tag:
                raise EntityParseError(
                    f'Unmatched end tag at byte offset {begin}, expected "</{tag}>", found "</{end_tag}>"'
                )
            length = utf16 - offset
            if length > 0:
                _close_html_entity(entities, tag, argument, offset, length, out[out_pos:])
    if nested:
        raise EntityParseError(f"Can't find end tag corresponding to start tag {nested[-1][0]}")
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return out.decode("utf-8"), entities


def _close_html_entity(
    entities: list[Entity], tag: str, argument: str, offset: int, length: int, inner: bytes | bytearray
) -> None:
    """Turn a closed HTML tag into its Bot API entity (pre + code pairs become pre with a language)."""
    if tag in _SIMPLE_TAG_TYPES:
        entities.append({"type": _SIMPLE_TAG_TYPES[tag], "offset": offset, "length": length})
    elif tag == "tg-emoji":
        if not argument.isdigit() or int(argument) == 0:
            raise EntityParseError("Invalid custom emoji identifier specified")
        entities.append({"type": "custom_emoji", "offset": offset, "length": length, "custom_emoji_id": argument})
    elif tag == "a":
        url = argument or inner.decode("utf-8", "replace")
        if url.startswith("tg://user?id="):
            user_id = url.removeprefix("tg://user?id=")
            if user_id.isdigit():
                entities.append(
                    {
                        "type": "text_mention",
                        "offset": offset,
                        "length": length,
                        "user": {"id": int(user_id), "is_bot": False, "first_name": ""},
                    }
                )
            return
        link = checked_link(url)
        if link:
            entities.append({"type": "text_link", "offset": offset, "length": length, "url": link})
    elif tag == "pre":
        last = entities[-1] if entities else None
        if (
            last
            and last["type"] == "code"
            and (last["offset"], last["length"]) == (offset, length)
            and last.get("language")
        ):
            last["type"] = "pre"
        else:
            entities.append({"type": "pre", "offset": offset, "length": length})
    elif tag == "code":
        last = entities[-1] if entities else None
        if last and last["type"] == "pre" and (last["offset"], last["length"]) == (offset, length) and argument:
            last["language"] = argument
        else:
            entity: Entity = {"type": "code", "offset": offset, "length": length}
            if argument:
                entity["language"] = argument  # dropped below unless a <pre> wraps it
            entities.append(entity)
    elif tag == "blockquote":
        kind = "expandable_blockquote" if argument == "expandable" else "blockquote"
        entities.append({"type": kind, "offset": offset, "length": length})


def finish_entities(entities: list[Entity]) -> list[Entity]:
    """Drop the transient language of plain code entities, as tdlib does after parsing."""
    for e in entities:
        if e["type"] == "code":
            e.pop("language", None)
    return entities


def find_bot_commands(text: str) -> list[Entity]:
    """Bot command entities the client adds to what a user types (tdlib's match_bot_commands, simplified)."""
    result: list[Entity] = []
    i = 0
    n = len(text)
    while i < n:
        if text[i] != "/" or (i > 0 and (text[i - 1].isalnum() or text[i - 1] in "_/<>")):
            i += 1
            continue
        j = i + 1
        while j < n and text[j].isascii() and (text[j].isalnum() or text[j] == "_"):
            j += 1
        if j < n and text[j] == "@":
            k = j + 1
            while k < n and text[k].isascii() and (text[k].isalnum() or text[k] == "_"):
                k += 1
            if 3 <= k - j - 1 <= 32:
                j = k
        name_len = j - i - 1
        nxt = text[j] if j < n else " "
        if 1 <= name_len and not (nxt.isalnum() or nxt in "_/<>"):
            result.append({"type": "bot_command", "offset": utf16_len(text[:i]), "length": utf16_len(text[i:j])})
        i = j
    return result


def strip_text(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Trim surrounding whitespace as Telegram does, moving and clipping entities with it."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    kept: list[Entity] = []
    for e in entities:
        start = max(e["offset"] - lead, 0)
        end = min(e["offset"] + e["length"] - lead, total)
        if end > start:
            kept.append({**e, "offset": start, "length": end - start})
    return stripped, kept


_RENDER_TAGS = {
    "bold": "b",
    "italic": "i",
    "underline": "u",
    "strikethrough": "s",
    "spoiler": "tg-spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "expandable_blockquote": "blockquote",
}


def render_html(text: str, entities: list[Entity]) -> str:
    """Render text + entities as safe HTML for the sandbox page (what the user's app would show)."""
    units = text.encode("utf-16-le")
    opens: dict[int, list[str]] = {}
    closes: dict[int, list[str]] = {}
    for e in entities:
        tag = _RENDER_TAGS.get(e["type"])
        if e["type"] == "text_link":
            open_tag, close_tag = f'<a href="{html.escape(e["url"], quote=True)}">', "</a>"
        elif tag:
            open_tag, close_tag = f"<{tag}>", f"</{tag}>"
        else:
            continue
        opens.setdefault(e["offset"], []).append(open_tag)
        closes.setdefault(e["offset"] + e["length"], []).insert(0, close_tag)
    parts: list[str] = []
    pos = 0
    for k in range(0, len(units) // 2 + 1):
        if k in closes or k in opens or k == len(units) // 2:
            parts.append(html.escape(units[pos * 2 : k * 2].decode("utf-16-le", "replace"), quote=False))
            pos = k
            parts.extend(closes.get(k, []))
            parts.extend(opens.get(k, []))
    return "".join(parts)
