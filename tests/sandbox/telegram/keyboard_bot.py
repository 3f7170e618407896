"""A tiny python-telegram-bot Application for the stand-in's tests: deep link, buttons, contact, files."""

from __future__ import annotations

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from sandbox.telegram import StandIn


async def _start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start CODE: greet, echo the deep-link code, offer severity buttons."""
    assert update.effective_message is not None and update.effective_user is not None
    code = " ".join(context.args or []) or "-"
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Severidad 1", callback_data="sev:1")],
            [InlineKeyboardButton("Severidad 2", callback_data="sev:2")],
            [InlineKeyboardButton("Sin respuesta", callback_data="noanswer")],
        ]
    )
    await update.effective_message.reply_text(
        f"<b>Hola {update.effective_user.first_name}</b>, código {code}", parse_mode="HTML", reply_markup=keyboard
    )


async def _severity(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the tap and edit the question into the choice."""
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer("Anotado")
    await query.edit_message_text(f"Elegiste severidad {query.data.split(':')[1]}")


async def _ignore(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A buggy handler: never answers the callback query."""


async def _ask_contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show a one-time reply keyboard with a request_contact button."""
    assert update.effective_message is not None
    button = KeyboardButton("Compartir mi número", request_contact=True)
    await update.effective_message.reply_text(
        "Comparte tu número", reply_markup=ReplyKeyboardMarkup([[button]], one_time_keyboard=True)
    )


async def _contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A contact proves identity only when contact.user_id is the sender (LIMITS: shared contact)."""
    message = update.effective_message
    assert message is not None and message.contact is not None and message.from_user is not None
    own = message.contact.user_id == message.from_user.id
    await message.reply_text("contacto propio" if own else "contacto ajeno", reply_markup=ReplyKeyboardRemove())


async def _photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Download the biggest size and say how many bytes arrived."""
    message = update.effective_message
    assert message is not None
    file = await message.photo[-1].get_file()
    data = await file.download_as_bytearray()
    await message.reply_text(f"foto de {len(data)} bytes")


async def _document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Fetch the file, telling the user when Telegram refuses (over 20 MB)."""
    message = update.effective_message
    assert message is not None and message.document is not None
    try:
        file = await message.document.get_file()
    except BadRequest as exc:
        await message.reply_text(f"no pude bajar el archivo: {exc.message}")
        return
    await message.reply_text(f"archivo {message.document.file_name} de {file.file_size} bytes")


async def _sticker(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None and update.effective_message.sticker is not None
    await update.effective_message.reply_text(f"sticker {update.effective_message.sticker.emoji}")


async def _voice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None and message.voice is not None
    await message.reply_text(f"voz de {message.voice.to_dict()['duration']} s")


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None and update.effective_message.text is not None
    await update.effective_message.reply_text(update.effective_message.text)


def build_keyboard_bot(standin: StandIn) -> Application:  # type: ignore[type-arg]
    """The tiny PTB bot the driver tests talk to."""
    assert standin.urls is not None
    app = (
        Application.builder()
        .token(standin.token)
        .base_url(standin.urls.base_url)
        .base_file_url(standin.urls.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", _start))
    app.add_handler(CommandHandler("contacto", _ask_contact))
    app.add_handler(CallbackQueryHandler(_severity, pattern=r"^sev:"))
    app.add_handler(CallbackQueryHandler(_ignore, pattern=r"^noanswer$"))
    app.add_handler(MessageHandler(filters.CONTACT, _contact))
    app.add_handler(MessageHandler(filters.PHOTO, _photo))
    app.add_handler(MessageHandler(filters.Document.ALL, _document))
    app.add_handler(MessageHandler(filters.Sticker.ALL, _sticker))
    app.add_handler(MessageHandler(filters.VOICE, _voice))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, _echo))
    return app
