"""MarkdownV2 and legacy Markdown parse modes, ported from tdlib with its exact error messages."""

from __future__ import annotations

from typing import Any

from sandbox.telegram.html_entities import Entity, EntityParseError, checked_link, utf16_len

_MD2_RESERVED = "_*[]()~`>#+-=|{}.!\n"
# tdlib prints entity types by their C++ names in "Can't find end of X entity" errors.
_TDLIB_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
    "blockquote": "BlockQuote",
}


def _unclosed(entity: dict[str, Any]) -> EntityParseError:
    """tdlib names the open entity by its C++ type (a pre with a language is a PreCode)."""
    name = "PreCode" if entity["type"] == "pre" and entity["argument"] else _TDLIB_NAMES[entity["type"]]
    return EntityParseError(f"Can't find end of {name} entity at byte offset {entity['byte']}")


def parse_markdown_v2(text: str) -> tuple[str, list[Entity]]:
    """Parse MarkdownV2 (a port of tdlib parse_markdown_v2); raise EntityParseError with tdlib's message."""
    out: list[str] = []
    entities: list[Entity] = []
    nested: list[dict[str, Any]] = []
    utf16 = 0
    have_quote = False
    n = len(text)

    def ch(k: int) -> str:
        return text[k] if k < n else "\0"

    def byte_offset(k: int) -> int:
        return len(text[:k].encode("utf-8"))

    def reserved(c: str) -> EntityParseError:
        return EntityParseError(f"Character '{c}' is reserved and must be escaped with the preceding '\\'")

    i = 0
    while i < n:
        c = text[i]
        if c == "\\" and 0 < ord(ch(i + 1)) <= 126:
            i += 1
            utf16 += 1
            out.append(text[i])
            i += 1
            continue
        reserved_set = _MD2_RESERVED
        if nested and nested[-1]["type"] in ("code", "pre"):
            reserved_set = "`"
        if c not in reserved_set:
            utf16 += utf16_len(c)
            out.append(c)
            i += 1
            continue
        is_end = False
        if nested:
            top = nested[-1]["type"]
            if have_quote and c == "\n" and (i + 1 == n or ch(i + 1) != ">"):
                is_end = True
            else:
                is_end = {
                    "bold": c == "*",
                    "italic": c == "_" and ch(i + 1) != "_",
                    "code": c == "`",
                    "pre": c == "`" and ch(i + 1) == "`" and ch(i + 2) == "`",
                    "text_link": c == "]",
                    "underline": c == "_" and ch(i + 1) == "_",
                    "strikethrough": c == "~",
                    "spoiler": c == "|" and ch(i + 1) == "|",
                    "custom_emoji": c == "]",
                    "blockquote": False,
                }[top]
        if not is_end:
            kind = ""
            argument = ""
            begin_byte = byte_offset(i)
            if c == "_":
                if ch(i + 1) == "_":
                    kind = "underline"
                    i += 1
                else:
                    kind = "italic"
            elif c == "*":
                kind = "bold"
            elif c == "~":
                kind = "strikethrough"
            elif c == "|":
                if ch(i + 1) != "|":
                    raise reserved(c)
                i += 1
                kind = "spoiler"
            elif c == "[":
                kind = "text_link"
            elif c == "`":
                if ch(i + 1) == "`" and ch(i + 2) == "`":
                    i += 3
                    kind = "pre"
                    lang_end = i
                    while ch(lang_end) not in " \t\r\n\0\v" and ch(lang_end) != "`":
                        lang_end += 1
                    if i != lang_end and lang_end < n and ch(lang_end) != "`":
                        argument = text[i:lang_end]
                        i = lang_end
                    if ch(i) in "\r\n" and i < n:
                        i += 2 if ch(i + 1) in "\r\n" and ch(i) != ch(i + 1) else 1
                    i -= 1
                else:
                    kind = "code"
            elif c == "!":
                if ch(i + 1) != "[":
                    raise reserved(c)
                i += 1
                kind = "custom_emoji"
            elif c == "\n":
                utf16 += 1
                out.append("\n")
                if i + 1 < n and ch(i + 1) == ">":
                    i += 1
                    if not have_quote:
                        kind = "blockquote"
                        have_quote = True
            elif c == ">":
                if i != 0:
                    raise reserved(c)
                kind = "blockquote"
                have_quote = True
            else:
                raise reserved(c)
            if kind:
                nested.append({"type": kind, "argument": argument, "offset": utf16, "byte": begin_byte})
                nested[-1]["text_start"] = len(out)
            i += 1
            continue
        top_e = nested[-1]
        kind = top_e["type"]
        if c == "\n" and kind != "blockquote":
            raise _unclosed(top_e)
        skip = utf16 == top_e["offset"]
        extra: Entity = {}
        if kind in ("underline", "spoiler"):
            i += 1
        elif kind == "pre":
            i += 2
            if top_e["argument"]:
                extra["language"] = top_e["argument"]
        elif kind == "text_link":
            if ch(i + 1) != "(":
                url = "".join(out[top_e["text_start"] :])
            else:
                i += 2
                url_begin = i
                url_chars: list[str] = []
                while i < n and text[i] != ")":
                    if text[i] == "\\" and 0 < ord(ch(i + 1)) <= 126:
                        url_chars.append(text[i + 1])
                        i += 2
                        continue
                    url_chars.append(text[i])
                    i += 1
                if ch(i) != ")":
                    raise EntityParseError(f"Can't find end of a URL at byte offset {byte_offset(url_begin)}")
                url = "".join(url_chars)
            link = checked_link(url)
            if not link:
                skip = True
            extra["url"] = link
        elif kind == "custom_emoji":
            if ch(i + 1) != "(":
                raise EntityParseError("Custom emoji entity must contain a tg://emoji URL")
            i += 2
            url_begin = i
            while i < n and text[i] != ")":
                i += 1
            if ch(i) != ")":
                raise EntityParseError(f"Can't find end of a custom emoji URL at byte offset {byte_offset(url_begin)}")
            extra["custom_emoji_id"] = text[url_begin:i].removeprefix("tg://emoji?id=")
        elif kind == "blockquote":
            have_quote = False
            out.append(c)
            utf16 += 1
        if not skip:
            entities.append({"type": kind, "offset": top_e["offset"], "length": utf16 - top_e["offset"], **extra})
        nested.pop()
        i += 1
    if have_quote and nested and nested[-1]["type"] == "blockquote":
        top_e = nested.pop()
        if utf16 - top_e["offset"]:
            entities.append({"type": "blockquote", "offset": top_e["offset"], "length": utf16 - top_e["offset"]})
    if nested:
        top_e = nested[-1]
        raise _unclosed(top_e)
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def parse_markdown_legacy(text: str) -> tuple[str, list[Entity]]:
    """Parse the legacy `Markdown` mode (*bold*, _italic_, `code`, ```pre```, [text](url))."""
    out: list[str] = []
    entities: list[Entity] = []
    utf16 = 0
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c not in "_*`[":
            out.append(c)
            utf16 += utf16_len(c)
            i += 1
            continue
        begin_byte = len(text[:i].encode("utf-8"))
        if c == "[":
            close = text.find("]", i + 1)
            if close < 0 or close + 1 >= n or text[close + 1] != "(" or text.find(")", close) < 0:
                raise EntityParseError(f"Can't find end of the entity starting at byte offset {begin_byte}")
            url_end = text.find(")", close)
            inner = text[i + 1 : close]
            entities.append(
                {
                    "type": "text_link",
                    "offset": utf16,
                    "length": utf16_len(inner),
                    "url": text[close + 2 : url_end],
                }
            )
            out.append(inner)
            utf16 += utf16_len(inner)
            i = url_end + 1
            continue
        marker = "```" if text.startswith("```", i) else c
        end = text.find(marker, i + len(marker))
        if end < 0:
            raise EntityParseError(f"Can't find end of the entity starting at byte offset {begin_byte}")
        inner = text[i + len(marker) : end]
        kind = {"*": "bold", "_": "italic", "`": "code", "```": "pre"}[marker]
        if inner:
            entities.append({"type": kind, "offset": utf16, "length": utf16_len(inner)})
        out.append(inner)
        utf16 += utf16_len(inner)
        i = end + len(marker)
    return "".join(out), entities
