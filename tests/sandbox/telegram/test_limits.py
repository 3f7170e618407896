"""Every Telegram limit (LIMITS.md) rejected with the real error through the real PTB client, edge accepted."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter, TelegramError

from sandbox.telegram import StandIn, User


async def rejected(standin: StandIn, call: Awaitable[Any], exc_type: type[TelegramError]) -> str:
    """Run a Bot call that must fail; return the raw description Telegram would have sent."""
    before = len(standin.violations)
    with pytest.raises(exc_type):
        await call
    assert len(standin.violations) == before + 1, "a rejection must be logged as a violation"
    violation = standin.violations[-1]
    assert violation.kind == "rejected"
    return violation.description


def keyboard(rows: int, per_row: int, data: str = "x") -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(f"b{r}-{c}", callback_data=data) for c in range(per_row)] for r in range(rows)]
    )


async def test_text_of_4096_characters_is_accepted(bot: Bot, user: User) -> None:
    message = await bot.send_message(user.id, "a" * 4096)
    assert message.text == "a" * 4096


async def test_text_of_4097_characters_is_too_long(standin: StandIn, bot: Bot, user: User) -> None:
    description = await rejected(standin, bot.send_message(user.id, "a" * 4097), BadRequest)
    assert description == "Bad Request: message is too long"


async def test_length_counts_after_entity_parsing(bot: Bot, user: User) -> None:
    message = await bot.send_message(user.id, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
    assert message.text == "a" * 4096
    assert message.entities[0].type == "bold"


async def test_empty_text_is_rejected(standin: StandIn, bot: Bot, user: User) -> None:
    description = await rejected(standin, bot.send_message(user.id, ""), BadRequest)
    assert description == "Bad Request: message text is empty"


async def test_text_empty_after_parsing_is_rejected(standin: StandIn, bot: Bot, user: User) -> None:
    description = await rejected(standin, bot.send_message(user.id, "<b> </b>", parse_mode="HTML"), BadRequest)
    assert description == "Bad Request: message text is empty"


async def test_caption_of_1024_is_accepted_1025_rejected(standin: StandIn, bot: Bot, user: User) -> None:
    from sandbox.telegram.models import tiny_png

    ok = await bot.send_photo(user.id, tiny_png(), caption="c" * 1024)
    assert ok.caption == "c" * 1024
    description = await rejected(standin, bot.send_photo(user.id, tiny_png(), caption="c" * 1025), BadRequest)
    assert description == "Bad Request: message caption is too long"


async def test_callback_data_of_64_bytes_fits_ptb_528(bot: Bot, user: User) -> None:
    """python-telegram-bot #528: 32 × "ñ" is 64 UTF-8 bytes and fits."""
    message = await bot.send_message(user.id, "elige", reply_markup=keyboard(1, 1, "ñ" * 32))
    assert message.reply_markup is not None
    assert message.reply_markup.inline_keyboard[0][0].callback_data == "ñ" * 32


async def test_callback_data_of_65_bytes_is_invalid_ptb_528(standin: StandIn, bot: Bot, user: User) -> None:
    """python-telegram-bot #528: 33 × "ñ" is 66 bytes though only 33 characters."""
    call = bot.send_message(user.id, "elige", reply_markup=keyboard(1, 1, "ñ" * 33))
    assert await rejected(standin, call, BadRequest) == "Bad Request: BUTTON_DATA_INVALID"


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBUserWarning")
async def test_empty_callback_data_is_invalid(standin: StandIn, bot: Bot, user: User) -> None:
    markup = {"inline_keyboard": [[{"text": "x", "callback_data": ""}]]}
    call = bot.do_api_request("sendMessage", {"chat_id": user.id, "text": "t", "reply_markup": markup})
    assert await rejected(standin, call, BadRequest) == "Bad Request: BUTTON_DATA_INVALID"


async def test_eight_buttons_a_row_fit_nine_do_not(standin: StandIn, bot: Bot, user: User) -> None:
    await bot.send_message(user.id, "ocho", reply_markup=keyboard(1, 8))
    call = bot.send_message(user.id, "nueve", reply_markup=keyboard(1, 9))
    assert await rejected(standin, call, BadRequest) == "Bad Request: BUTTONS_TOO_MUCH"


async def test_hundred_buttons_fit_hundred_and_one_do_not(standin: StandIn, bot: Bot, user: User) -> None:
    await bot.send_message(user.id, "cien", reply_markup=keyboard(25, 4))
    many = InlineKeyboardMarkup((*keyboard(25, 4).inline_keyboard, (InlineKeyboardButton("x", callback_data="y"),)))
    call = bot.send_message(user.id, "ciento uno", reply_markup=many)
    assert await rejected(standin, call, BadRequest) == "Bad Request: BUTTONS_TOO_MUCH"


@pytest.mark.parametrize(
    ("html", "entity_type"),
    [
        ("<b>x</b>", "bold"),
        ("<strong>x</strong>", "bold"),
        ("<i>x</i>", "italic"),
        ("<em>x</em>", "italic"),
        ("<u>x</u>", "underline"),
        ("<ins>x</ins>", "underline"),
        ("<s>x</s>", "strikethrough"),
        ("<strike>x</strike>", "strikethrough"),
        ("<del>x</del>", "strikethrough"),
        ('<span class="tg-spoiler">x</span>', "spoiler"),
        ("<tg-spoiler>x</tg-spoiler>", "spoiler"),
        ('<a href="https://intecnia.mx">x</a>', "text_link"),
        ("<code>x</code>", "code"),
        ("<pre>x</pre>", "pre"),
        ("<blockquote>x</blockquote>", "blockquote"),
    ],
)
async def test_every_allowed_html_tag_is_accepted(bot: Bot, user: User, html: str, entity_type: str) -> None:
    message = await bot.send_message(user.id, html, parse_mode="HTML")
    assert message.text == "x"
    assert [e.type for e in message.entities] == [entity_type]


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("<foo>x</foo>", 'Unsupported start tag "foo" at byte offset 0'),
        ("<br>", 'Unsupported start tag "br" at byte offset 0'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("x <b", "Unclosed start tag at byte offset 2"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b>x", "Can't find end tag corresponding to start tag b"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("🏟 🏟&lt;<abac>", 'Unsupported start tag "abac" at byte offset 13'),
    ],
)
async def test_bad_html_is_rejected_with_tdlib_wording_ptb_1967(
    standin: StandIn, bot: Bot, user: User, html: str, error: str
) -> None:
    """python-telegram-bot #1967 / #2744: unescaped user text in HTML mode."""
    description = await rejected(standin, bot.send_message(user.id, html, parse_mode="HTML"), BadRequest)
    assert description == f"Bad Request: can't parse entities: {error}"


async def test_escaped_user_text_is_accepted_in_html(bot: Bot, user: User) -> None:
    import html

    typed = "1 < 2 & <script>"
    message = await bot.send_message(user.id, f"<b>{html.escape(typed)}</b>", parse_mode="HTML")
    assert message.text == typed


async def test_literal_ampersand_is_accepted_but_flagged(standin: StandIn, bot: Bot, user: User) -> None:
    """Telegram keeps a bare `&`; the stand-in logs it, because it usually means unescaped user text."""
    message = await bot.send_message(user.id, "Preguntas & respuestas", parse_mode="HTML")
    assert message.text == "Preguntas & respuestas"
    assert [v.kind for v in standin.violations] == ["unescaped_html"]


async def test_markdown_v2_reserved_character_must_be_escaped(standin: StandIn, bot: Bot, user: User) -> None:
    call = bot.send_message(user.id, "Ticket SOP-1.", parse_mode="MarkdownV2")
    description = await rejected(standin, call, BadRequest)
    assert (
        description
        == "Bad Request: can't parse entities: Character '-' is reserved and must be escaped with the preceding '\\'"
    )


async def test_markdown_v2_escaped_text_is_accepted(bot: Bot, user: User) -> None:
    message = await bot.send_message(user.id, r"*Ticket* SOP\-1\.", parse_mode="MarkdownV2")
    assert message.text == "Ticket SOP-1."
    assert message.entities[0].type == "bold"


async def test_unknown_parse_mode_is_rejected(standin: StandIn, bot: Bot, user: User) -> None:
    call = bot.send_message(user.id, "x", parse_mode="Markdown3")
    assert await rejected(standin, call, BadRequest) == "Bad Request: unsupported parse_mode"


async def test_identical_edit_is_not_modified(standin: StandIn, bot: Bot, user: User) -> None:
    """LIMITS: "message is not modified" — the bot must not treat it as a failure and re-send."""
    markup = keyboard(1, 2)
    message = await bot.send_message(user.id, "hola", reply_markup=markup)
    call = bot.edit_message_text("hola", user.id, message.message_id, reply_markup=markup)
    description = await rejected(standin, call, BadRequest)
    assert description == (
        "Bad Request: message is not modified: specified new message content and reply markup are exactly "
        "the same as a current content and reply markup of the message"
    )
    changed = await bot.edit_message_text("hola", user.id, message.message_id)  # markup removed: a change
    assert isinstance(changed, type(message)) and changed.reply_markup is None


async def test_identical_markup_edit_is_not_modified(standin: StandIn, bot: Bot, user: User) -> None:
    message = await bot.send_message(user.id, "hola", reply_markup=keyboard(1, 2))
    call = bot.edit_message_reply_markup(user.id, message.message_id, reply_markup=keyboard(1, 2))
    assert (await rejected(standin, call, BadRequest)).startswith("Bad Request: message is not modified")
    edited = await bot.edit_message_reply_markup(user.id, message.message_id, reply_markup=keyboard(1, 3))
    assert not isinstance(edited, bool) and edited.reply_markup is not None


async def test_edit_and_delete_of_unknown_messages(standin: StandIn, bot: Bot, user: User) -> None:
    edit = bot.edit_message_text("x", user.id, 999)
    assert await rejected(standin, edit, BadRequest) == "Bad Request: message to edit not found"
    delete = bot.delete_message(user.id, 999)
    assert await rejected(standin, delete, BadRequest) == "Bad Request: message to delete not found"
    message = await bot.send_message(user.id, "borrame")
    assert await bot.delete_message(user.id, message.message_id) is True
    again = bot.delete_message(user.id, message.message_id)
    assert await rejected(standin, again, BadRequest) == "Bad Request: message to delete not found"
    edit_deleted = bot.edit_message_text("y", user.id, message.message_id)
    assert await rejected(standin, edit_deleted, BadRequest) == "Bad Request: message to edit not found"


async def test_callback_answer_text_limit_and_unknown_query(standin: StandIn, bot: Bot, user: User) -> None:
    message = await bot.send_message(user.id, "elige", reply_markup=keyboard(1, 1, "sev:1"))
    first = await standin.tap(user, message.message_id, "sev:1")
    second = await standin.tap(user, message.message_id, "sev:1")
    assert first.query_id is not None and second.query_id is not None
    too_long = bot.answer_callback_query(first.query_id, text="t" * 201)
    assert await rejected(standin, too_long, BadRequest) == "Bad Request: MESSAGE_TOO_LONG"
    assert await bot.answer_callback_query(first.query_id, text="t" * 200) is True
    twice = bot.answer_callback_query(first.query_id)
    old = "Bad Request: query is too old and response timeout expired or query ID is invalid"
    assert await rejected(standin, twice, BadRequest) == old
    assert await rejected(standin, bot.answer_callback_query("nonexistent"), BadRequest) == old
    standin.state.callback_expiry = 0.0
    assert await rejected(standin, bot.answer_callback_query(second.query_id), BadRequest) == old


async def test_get_file_over_20_mb_is_too_big(standin: StandIn, bot: Bot, user: User) -> None:
    limit = 20 * 1024 * 1024
    small = await standin.send_document(user, "ok.bin", limit)
    big = await standin.send_document(user, "big.iso", limit + 1)
    assert small.message is not None and big.message is not None
    ok = await bot.get_file(small.message.payload["document"]["file_id"])
    assert ok.file_size == limit and ok.file_path
    call = bot.get_file(big.message.payload["document"]["file_id"])
    assert await rejected(standin, call, BadRequest) == "Bad Request: file is too big"


async def test_unknown_chat_is_not_found(standin: StandIn, bot: Bot) -> None:
    assert await rejected(standin, bot.send_message(424242, "x"), BadRequest) == "Bad Request: chat not found"


async def test_blocked_user_gives_403(standin: StandIn, bot: Bot, user: User) -> None:
    await bot.send_message(user.id, "antes")
    await standin.block(user)
    call = bot.send_message(user.id, "después")
    assert await rejected(standin, call, Forbidden) == "Forbidden: bot was blocked by the user"
    await standin.unblock(user)
    assert (await bot.send_message(user.id, "de nuevo")).text == "de nuevo"


async def test_user_who_never_started_gives_403(standin: StandIn, bot: Bot) -> None:
    stranger = standin.create_user("Pedro")
    call = bot.send_message(stranger.id, "hola")
    assert await rejected(standin, call, Forbidden) == "Forbidden: bot can't initiate conversation with a user"


async def test_wrong_token_is_unauthorized(standin: StandIn) -> None:
    assert standin.urls is not None
    wrong = Bot("123:" + "A" * 35, base_url=standin.urls.base_url)
    try:
        with pytest.raises(InvalidToken):
            await wrong.initialize()
    finally:
        await wrong.shutdown()
    assert await standin_bot_ok(standin)


async def standin_bot_ok(standin: StandIn) -> bool:
    """The right token still works after a wrong one was refused."""
    assert standin.urls is not None
    async with Bot(standin.token, base_url=standin.urls.base_url) as right:
        return right.username == standin.state.bot_username


def frozen_rate_clock(standin: StandIn) -> list[float]:
    """Stop the rate limiter's clock so a slow machine cannot refill tokens mid-test."""
    now = [1000.0]
    standin.state.rate_limiter.clock = lambda: now[0]
    return now


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # PTB's own RetryAfter
async def test_rate_limit_per_chat_gives_retry_after(standin: StandIn, bot: Bot, user: User) -> None:
    standin.rate_limits = True
    now = frozen_rate_clock(standin)
    for n in range(3):  # the small burst Telegram tolerates
        await bot.send_message(user.id, f"r{n}")
    with pytest.raises(RetryAfter):
        await bot.send_message(user.id, "una de más")
    assert standin.violations[-1].description == "Too Many Requests: retry after 1"
    assert standin.violations[-1].error_code == 429
    now[0] += 1.0  # one second later one more message fits
    assert (await bot.send_message(user.id, "ahora sí")).text == "ahora sí"


async def test_rate_limits_are_off_by_default(bot: Bot, user: User) -> None:
    for n in range(10):
        await bot.send_message(user.id, f"r{n}")


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # PTB's own RetryAfter
async def test_rate_limit_per_bot_is_30_a_second(standin: StandIn, bot: Bot) -> None:
    standin.rate_limits = True
    frozen_rate_clock(standin)
    users = [standin.create_user(f"U{n}") for n in range(31)]
    for u in users:
        await standin.send_text(u, "/start")
    for u in users[:30]:
        await bot.send_message(u.id, "aviso")
    with pytest.raises(RetryAfter):
        await bot.send_message(users[30].id, "aviso")


async def test_users_messages_cannot_be_edited_and_media_has_no_text(standin: StandIn, bot: Bot, user: User) -> None:
    typed = await standin.send_text(user, "mi mensaje")
    assert typed.message is not None
    call = bot.edit_message_text("cambiado", user.id, typed.message.message_id)
    assert await rejected(standin, call, BadRequest) == "Bad Request: message can't be edited"
    from sandbox.telegram.models import tiny_png

    photo = await bot.send_photo(user.id, tiny_png())
    call = bot.edit_message_text("texto", user.id, photo.message_id)
    assert await rejected(standin, call, BadRequest) == "Bad Request: there is no text in the message to edit"
    captioned = await bot.edit_message_caption(user.id, photo.message_id, caption="nuevo pie")
    assert not isinstance(captioned, bool) and captioned.caption == "nuevo pie"


async def test_bots_may_delete_the_users_message(standin: StandIn, bot: Bot, user: User) -> None:
    """ARCHITECTURE: the client's message carrying a password is deleted after it is stored."""
    typed = await standin.send_text(user, "k9#Lm2")
    assert typed.message is not None
    assert await bot.delete_message(user.id, typed.message.message_id)
    assert standin.history(user)[-1]["deleted"] is True
    assert "k9#Lm2" not in [m["text"] for m in standin.history(user, include_deleted=False)]


async def test_length_counts_characters_not_utf16_units(standin: StandIn, bot: Bot, user: User) -> None:
    """Measured on real Telegram: 4096 emoji (8192 UTF-16 units) pass, 4097 do not."""
    assert (await bot.send_message(user.id, "😀" * 4096)).text == "😀" * 4096
    description = await rejected(standin, bot.send_message(user.id, "😀" * 4097), BadRequest)
    assert description == "Bad Request: message is too long"


def test_group_chats_are_paced_at_20_a_minute() -> None:
    from sandbox.telegram.errors import ApiError
    from sandbox.telegram.limits import RateLimiter

    now = [0.0]
    limiter = RateLimiter(clock=lambda: now[0])
    for _ in range(20):
        limiter.check(-100123)
    with pytest.raises(ApiError) as info:
        limiter.check(-100123)
    assert info.value.code == 429 and info.value.parameters == {"retry_after": 3}
    now[0] += 3.0
    limiter.check(-100123)
