"""The client's guided intake on Telegram as an explicit state table: steps, inputs, replies, the pure step()."""

from bot.conversation.flow import start, step
from bot.conversation.model import (
    Button,
    Choice,
    Command,
    Delete,
    Document,
    Input,
    IntakeContext,
    IntakeState,
    Media,
    Msg,
    Photo,
    ProductOption,
    Reply,
    Secret,
    Status,
    Step,
    Text,
)
from bot.conversation.prompts import prompt

__all__ = [
    "Button",
    "Choice",
    "Command",
    "Delete",
    "Document",
    "Input",
    "IntakeContext",
    "IntakeState",
    "Media",
    "Msg",
    "Photo",
    "ProductOption",
    "Reply",
    "Secret",
    "Status",
    "Step",
    "Text",
    "prompt",
    "start",
    "step",
]
