"""Mrkdwn safety: pings, foreign mentions and disguised links are recorded; escaped user text is harmless."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.slack.harness import Running
from sandbox.slack.mrkdwn import find_unsafe, iter_mrkdwn, render


def escape(text: str) -> str:
    """What the bot must do to user text before putting it in mrkdwn (LIMITS: & < >)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def members(user_id: str) -> bool:
    return user_id in {"U0AGENT"}


def kinds(text: str) -> list[str]:
    return [u.kind for u in find_unsafe(text, members)]


def test_broadcasts_are_unsafe() -> None:
    assert kinds("hola <!channel> <!here> <!everyone> <!here|aquí>") == ["broadcast"] * 4


def test_mentions_of_members_are_fine_strangers_are_not() -> None:
    assert kinds("asignado a <@U0AGENT>") == []
    assert kinds("hola <@U0STRANGER>") == ["unknown_mention"]


def test_disguised_links() -> None:
    assert kinds("<http://evil.example|bank.com>") == ["disguised_link"]
    assert kinds("<https://evil.example/x|https://www.bank.com/login>") == ["disguised_link"]
    assert kinds("<https://bank.com/login|bank.com>") == []
    assert kinds("<https://bank.com/login|Abrir el portal>") == []  # a label that is not an address


def test_plain_words_and_escaped_user_text_are_fine() -> None:
    assert kinds(escape("<!channel> & <@U0STRANGER> <http://evil|bank.com>")) == []


@settings(max_examples=200)
@given(st.text())
def test_escaped_text_is_never_unsafe_and_renders_back_unchanged(text: str) -> None:
    assert find_unsafe(escape(text), members) == []
    assert render(escape(text), lambda _: None) == text


def test_render_shows_pings_loudly_and_links_as_slack_shows_them() -> None:
    names = {"U0AGENT": "ana"}.get
    assert render("<!here> ven", names) == "📣@here ven"
    assert render("para <@U0AGENT>", names) == "para @ana"
    assert render("<http://evil.example|bank.com> &amp; &lt;b&gt;", names) == "bank.com & <b>"


def test_iter_mrkdwn_skips_plain_text() -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "<!channel>"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "a"}, "fields": [{"type": "mrkdwn", "text": "b"}]},
    ]
    assert list(iter_mrkdwn(blocks, "/blocks")) == [("/blocks/1/text/text", "a"), ("/blocks/1/fields/0/text", "b")]


async def test_unsafe_post_is_accepted_but_recorded(slack: Running) -> None:
    """Slack would accept it and ping the channel: the stand-in accepts it too and logs the violation."""
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "Cliente dice: <!channel> urgente"}}]
    resp = await slack.client.chat_postMessage(
        channel="C0SUPPORT", text="<http://evil.example|bank.com>", blocks=blocks
    )
    found = [(v.kind, v.error, v.details["pointer"]) for v in slack.standin.violations]
    assert found == [
        ("unsafe_mrkdwn", "disguised_link", "/text"),
        ("unsafe_mrkdwn", "broadcast", "/blocks/0/text/text"),
    ]
    assert "📣@channel" in slack.standin.messages[("C0SUPPORT", resp["ts"])].rendered


async def test_escaped_post_records_nothing(slack: Running) -> None:
    text = escape("Cliente dice: <!channel> & <@U0X>")
    await slack.client.chat_postMessage(channel="C0SUPPORT", text=text)
    assert slack.standin.violations == []


async def test_unsafe_text_in_modals_and_ephemerals_is_recorded(slack: Running) -> None:
    slack.standin.add_user("U0AGENT", "ana")
    await slack.client.chat_postEphemeral(channel="C0SUPPORT", user="U0AGENT", text="<!everyone>")
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "T"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "<@U0NOBODY>"}}],
    }
    await slack.client.views_open(trigger_id=slack.standin.new_trigger("U0AGENT"), view=view)
    assert [(v.method, v.error) for v in slack.standin.violations] == [
        ("chat.postEphemeral", "broadcast"),
        ("views.open", "unknown_mention"),
    ]


async def test_rich_text_broadcast_mention_and_link_are_recorded(slack: Running) -> None:
    section = {
        "type": "rich_text_section",
        "elements": [
            {"type": "broadcast", "range": "here"},
            {"type": "user", "user_id": "U0NOBODY"},
            {"type": "link", "url": "http://evil.example", "text": "bank.com"},
            {"type": "link", "url": "https://bank.com", "text": "bank.com"},
            {"type": "user", "user_id": "U0SUPPORTBOT"},
        ],
    }
    await slack.client.chat_postMessage(
        channel="C0SUPPORT", text="t", blocks=[{"type": "rich_text", "elements": [section]}]
    )
    found = [(v.error, v.details["pointer"]) for v in slack.standin.violations]
    assert found == [
        ("broadcast", "/blocks/0/elements/0/elements/0"),
        ("unknown_mention", "/blocks/0/elements/0/elements/1"),
        ("disguised_link", "/blocks/0/elements/0/elements/2"),
    ]
