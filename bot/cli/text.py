"""What the `supportbot` command prints: its language (Spanish, English with LANG=en), the bot's catalogues
(`cli.*`), aligned tables or JSON, and instants in the configured zone without microseconds."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from bot.i18n import Catalogue

__all__ = ["cli_language", "emit", "friendly", "has", "say", "stamp", "yes_no"]


def cli_language() -> str:
    """LC_ALL, then LC_MESSAGES, then LANG (as gettext reads them): English for en*, Spanish for anything else."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value:
            return "en" if value.lower().startswith("en") else "es"
    return "es"


@cache
def _catalogue() -> Catalogue:
    return Catalogue.load()


def say(key: str, /, **params: object) -> str:
    """The sentence `cli.<key>` in the command's language."""
    return _catalogue().plain(cli_language(), f"cli.{key}", **params)


def yes_no(flag: bool) -> str:
    """ "sí" or "no" (yes or no)."""
    return say("yes" if flag else "no")


def has(key: str, /) -> bool:
    """Whether the catalogues hold `cli.<key>`."""
    return _catalogue().has(f"cli.{key}")


def stamp(value: datetime | None, zone: ZoneInfo, *, seconds: bool = False) -> str:
    """An instant in the configured zone, to the minute (or second), never with microseconds; "-" for None."""
    if value is None:
        return "-"
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def emit(rows: Sequence[Mapping[str, Any]], columns: Sequence[tuple[str, str]], *, as_json: bool) -> None:
    """Print rows as one JSON array (every field, for scripts) or as an aligned table of `columns`
    ((field, header key in cli.col.*)), "(ninguno)" when there are none."""
    if as_json:
        print(json.dumps([{k: _plain(v) for k, v in row.items()} for row in rows], ensure_ascii=False))
        return
    if not rows:
        print(say("none"))
        return
    header = [say(f"col.{key}") for _, key in columns]
    table = [["-" if row.get(field) in (None, "") else str(row[field]) for field, _ in columns] for row in rows]
    widths = [max(len(r[i]) for r in [header, *table]) for i in range(len(header))]
    for line in [header, *table]:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())


_FIELDS = {
    "contracts.number": ("número de póliza", "contract number"),
    "agents.slack_user_id": ("id de Slack", "Slack id"),
    "contacts.telegram_user_id": ("usuario de Telegram", "Telegram user"),
    "invites.code": ("código de invitación", "invite code"),
    "clients.name": ("nombre de cliente", "client name"),
}


def friendly(message: str) -> str:
    """A database constraint's message in words ("UNIQUE constraint failed: contracts.number" -> "ya existe un
    registro con ese valor de número de póliza"), from either backend (PostgreSQL's are worded as SQLite's by
    the store); any other message as it is."""
    for prefix, key in (("UNIQUE constraint failed: ", "duplicate.value"), ("NOT NULL constraint failed: ",
                        "constraint.required")):  # fmt: skip
        if message.startswith(prefix):
            column = message[len(prefix) :].split(",")[0].split(" ")[0].strip()
            words = _FIELDS.get(column, (column, column))
            return say(key, field=words[0] if cli_language() == "es" else words[1])
    if message.startswith(("FOREIGN KEY constraint failed", "a referenced row does not exist")):
        return say("constraint.reference")
    if message.startswith("CHECK constraint failed"):
        return say("constraint.check", detail=message.split(":", 1)[-1].strip())
    return message
