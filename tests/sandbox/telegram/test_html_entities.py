"""Parse modes as pure functions: tdlib's own test vectors, offsets in UTF-16, and escaping properties."""

from __future__ import annotations

import html

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.telegram.html_entities import (
    EntityParseError,
    checked_link,
    find_bot_commands,
    html_unescaped_ampersands,
    parse_html,
    render_html,
    strip_text,
    utf16_len,
)
from sandbox.telegram.markdown import parse_markdown_legacy, parse_markdown_v2

MD2_SPECIAL = "_*[]()~`>#+-=|{}.!"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("🏟 🏟&lt;<abacaba", "Unclosed start tag at byte offset 13"),
        ("🏟 🏟&lt;<abac aba>", 'Unsupported start tag "abac" at byte offset 13'),
        ("🏟 🏟&lt;<i   =aba>", 'Empty attribute name in the tag "i" at byte offset 13'),
        ("🏟 🏟&lt;<i    aba>", 'Expected equal sign in declaration of an attribute of the tag "i" at byte offset 13'),
        ("🏟 🏟&lt;<i    aba  =  ", 'Unclosed start tag "i" at byte offset 13'),
        ("🏟 🏟&lt;<i    aba  =  190azAz-.,", "Unexpected end of name token at byte offset 27"),
        ('🏟 🏟&lt;<i    aba  =  "&lt;&gt;&quot;>', "Unclosed start tag at byte offset 13"),
        ("🏟 🏟&lt;</", "Unexpected end tag at byte offset 13"),
        ("🏟 🏟&lt;<b></b></", "Unexpected end tag at byte offset 20"),
        ("🏟 🏟&lt;<i>a</i   ", "Unclosed end tag at byte offset 17"),
        ("🏟 🏟&lt;<i>a</em   >", 'Unmatched end tag at byte offset 17, expected "</i>", found "</em>"'),
        ("<a href=x/>y</a>", "Unexpected end of name token at byte offset 8"),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        (
            "&#57311;",
            "Text contains invalid Unicode characters after decoding HTML entities, "
            "check for unmatched surrogate code units",
        ),
    ],
)
def test_tdlib_html_error_vectors(text: str, error: str) -> None:
    with pytest.raises(EntityParseError) as info:
        parse_html(text)
    assert str(info.value) == error


@pytest.mark.parametrize(
    ("source", "text", "entities"),
    [
        ("&lt;&gt;&amp;&quot;&laquo;&raquo;&#12345678;", '<>&"&laquo;&raquo;&#12345678;', []),
        ("➡️ ➡️<i>➡️ ➡️</i>", "➡️ ➡️➡️ ➡️", [("italic", 5, 5)]),
        ("🏟 🏟<i>🏟 &lt🏟</i>", "🏟 🏟🏟 <🏟", [("italic", 5, 6)]),
        ("🏟 🏟<i>🏟 &gt;<b aba   =   caba>&lt🏟</b></i>", "🏟 🏟🏟 ><🏟", [("italic", 5, 7), ("bold", 9, 3)]),
        ("🏟 🏟&lt;<i    aba  =  190azAz-.>a</i>", "🏟 🏟<a", [("italic", 6, 1)]),
        ("🏟 🏟&lt;<i    aba  =  '&lt;&gt;&quot;'>a</>", "🏟 🏟<a", [("italic", 6, 1)]),
        ("🏟 🏟&lt;<i>a</    >", "🏟 🏟<a", [("italic", 6, 1)]),
        ("🏟 🏟&lt;<b></b>", "🏟 🏟<", []),
        ("<i><b> </b> <code> </code></i>", "   ", [("italic", 0, 3), ("bold", 0, 1), ("code", 2, 1)]),
        ("<a> </a>", " ", []),
        ('🏟 🏟&lt;<pre><code class="language-fift">🏟 🏟&lt;</></>', "🏟 🏟<🏟 🏟<", [("pre", 6, 6)]),
    ],
)
def test_tdlib_html_success_vectors(source: str, text: str, entities: list[tuple[str, int, int]]) -> None:
    parsed, found = parse_html(source)
    assert parsed == text
    assert sorted((e["type"], e["offset"], e["length"]) for e in found) == sorted(entities)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("🏟 🏟_abacaba", "Can't find end of Italic entity at byte offset 9"),
        ("🏟 🏟_abac * asd ", "Can't find end of Bold entity at byte offset 15"),
        ("🏟 🏟_abac * asd _", "Can't find end of Italic entity at byte offset 21"),
        ("🏟 🏟`", "Can't find end of Code entity at byte offset 9"),
        ("🏟 🏟```", "Can't find end of Pre entity at byte offset 9"),
        ("🏟 🏟```a", "Can't find end of Pre entity at byte offset 9"),
        ("🏟 🏟```a ", "Can't find end of PreCode entity at byte offset 9"),
        ("🏟 🏟__🏟 🏟_", "Can't find end of Italic entity at byte offset 20"),
        ("🏟 🏟_🏟 🏟__", "Can't find end of Underline entity at byte offset 19"),
        ("🏟 🏟```🏟 🏟`", "Can't find end of Code entity at byte offset 21"),
        ("🏟 🏟```🏟 🏟_", "Can't find end of PreCode entity at byte offset 9"),
        ("[telegram\\.org](asd\\)", "Can't find end of a URL at byte offset 16"),
        ("[telegram\\.org](", "Can't find end of a URL at byte offset 16"),
        ("🏟 🏟__🏟 _🏟___", "Can't find end of Italic entity at byte offset 23"),
        ("🏟 🏟__", "Can't find end of Underline entity at byte offset 9"),
    ],
)
def test_tdlib_markdown_v2_error_vectors(text: str, error: str) -> None:
    with pytest.raises(EntityParseError) as info:
        parse_markdown_v2(text)
    assert str(info.value) == error


@pytest.mark.parametrize(
    ("source", "text", "entities"),
    [
        ("\\\\", "\\", []),
        ("🏟 🏟_abac \\* asd _", "🏟 🏟abac * asd ", [("italic", 5, 11)]),
        ("🏟 🏟_🏟 __🏟___", "🏟 🏟🏟 🏟", [("italic", 5, 5), ("underline", 8, 2)]),
        ("🏟 🏟```🏟\n🏟```", "🏟 🏟🏟", [("pre", 5, 2)]),
        ("🏟 🏟**", "🏟 🏟", []),
        ("`_* *_`__*` `*__", "_* *_ ", [("code", 0, 5), ("code", 5, 1), ("bold", 5, 1), ("underline", 5, 1)]),
        ("[telegram\\.org]a", "telegram.orga", [("text_link", 0, 12)]),
    ],
)
def test_tdlib_markdown_v2_success_vectors(source: str, text: str, entities: list[tuple[str, int, int]]) -> None:
    parsed, found = parse_markdown_v2(source)
    assert parsed == text
    assert sorted((e["type"], e["offset"], e["length"]) for e in found) == sorted(entities)


def test_entity_offsets_are_utf16_units() -> None:
    text, entities = parse_html("🏟 <b>x</b>")
    assert text == "🏟 x"
    assert entities == [{"type": "bold", "offset": 3, "length": 1}]
    assert utf16_len("🏟") == 2


def test_html_entities_and_nested_tags() -> None:
    text, entities = parse_html("<b>a <i>&quot;b&quot;</i></b> &#65;&#x42; &amp;")
    assert text == 'a "b" AB &'
    assert {e["type"] for e in entities} == {"bold", "italic"}


def test_pre_with_language_and_expandable_quote() -> None:
    _, entities = parse_html('<pre><code class="language-python">x</code></pre>')
    assert entities == [{"type": "pre", "offset": 0, "length": 1, "language": "python"}]
    _, quote = parse_html("<blockquote expandable>x</blockquote>")
    assert quote[0]["type"] == "expandable_blockquote"


def test_text_mention_and_link_without_scheme() -> None:
    _, entities = parse_html('<a href="tg://user?id=42">Ana</a> <a href="intecnia.mx">web</a>')
    assert entities[0]["type"] == "text_mention" and entities[0]["user"]["id"] == 42
    assert entities[1]["url"] == "http://intecnia.mx/"


@pytest.mark.parametrize(
    ("url", "checked"),
    [
        ("telegram.org", "http://telegram.org/"),
        ("https://telegram.dog?", "https://telegram.dog/?"),
        ("https://telegram.org/asdsa?asdasdwe#12e3we", "https://telegram.org/asdsa?asdasdwe#12e3we"),
        ("as", None),
        (" ", None),
        ("", None),
        ("javascript:alert(1)", None),
        ("ftp://x.org", None),
    ],
)
def test_links_are_checked_like_tdlib(url: str, checked: str | None) -> None:
    assert checked_link(url) == checked


def test_unescaped_ampersands_are_found() -> None:
    assert html_unescaped_ampersands("a &amp; b & c &lt;") == [10]
    assert html_unescaped_ampersands(html.escape("Tom & Jerry <3")) == []


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=60))
def test_html_escaped_user_text_always_parses_back(typed: str) -> None:
    """The fix for PTB #1967/#2744: html.escape() makes any user text safe in HTML mode."""
    text, entities = parse_html(f"<b>{html.escape(typed)}</b>")
    assert text == typed
    assert all(e["type"] == "bold" for e in entities)


def _md2_escape(text: str) -> str:
    return "".join("\\" + c if c in MD2_SPECIAL or c == "\\" else c for c in text)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\n"), max_size=60))
def test_markdown_v2_escaped_text_always_parses_back(typed: str) -> None:
    text, _ = parse_markdown_v2("*" + _md2_escape(typed) + "*")
    assert text == typed


@pytest.mark.parametrize("char", [*list(MD2_SPECIAL.replace("|", "").replace("!", "")), "!", "|"])
def test_every_markdown_v2_reserved_character_needs_escaping(char: str) -> None:
    text = f"a{char}"
    if char in "_*~`[":
        with pytest.raises(EntityParseError, match="Can't find end of"):
            parse_markdown_v2(text)
    else:
        with pytest.raises(EntityParseError) as info:
            parse_markdown_v2(text)
        assert str(info.value) == f"Character '{char}' is reserved and must be escaped with the preceding '\\'"


def test_markdown_v2_entities() -> None:
    text, entities = parse_markdown_v2(r"*b* _i_ __u__ ~s~ ||p|| `c` [l](https://a.mx) \.")
    assert text == "b i u s p c l ."
    assert [e["type"] for e in entities] == [
        "bold", "italic", "underline", "strikethrough", "spoiler", "code", "text_link",
    ]  # fmt: skip
    with pytest.raises(EntityParseError, match=r"Can't find end of Italic entity at byte offset 0"):
        parse_markdown_v2("_abierto")


def test_legacy_markdown() -> None:
    text, entities = parse_markdown_legacy("*neg* _cur_ `c` [l](https://a.mx)")
    assert text == "neg cur c l"
    assert [e["type"] for e in entities] == ["bold", "italic", "code", "text_link"]
    with pytest.raises(EntityParseError, match="Can't find end of the entity starting at byte offset 0"):
        parse_markdown_legacy("*abierto")


def test_bot_commands_found_like_the_app_does() -> None:
    assert find_bot_commands("/start ABC123") == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert find_bot_commands("usa /help@sandbox_bot ya") == [{"type": "bot_command", "offset": 4, "length": 17}]
    assert find_bot_commands("a/b y http://x/y") == []


def test_strip_moves_entities() -> None:
    text, entities = strip_text("  hola  ", [{"type": "bold", "offset": 0, "length": 6}])
    assert text == "hola"
    assert entities == [{"type": "bold", "offset": 0, "length": 4}]


def test_render_html_escapes_and_tags() -> None:
    assert render_html(*parse_html("<b>1 &lt; 2</b> <a href='https://a.mx'>x</a>")) == (
        '<b>1 &lt; 2</b> <a href="https://a.mx/">x</a>'
    )
