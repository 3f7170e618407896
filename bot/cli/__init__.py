"""The `supportbot` command: run the bot, try it in the sandbox, and administer its data.

Each module declares its verbs' arguments next to the functions that run them: people (clients, contacts,
invites), agents, contracts (contracts, products), tickets, report, ops (sla, outbox, inbox, db, keys), mail;
parser builds the command line from them, base holds what they share, text is what they print.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence

from bot.cli.base import CliError
from bot.cli.parser import build_parser
from bot.cli.text import has, say
from bot.settings import SettingsError, load_settings

__all__ = ["CliError", "build_parser", "main", "settings_problem"]


def settings_problem(exc: SettingsError) -> str:
    """The bad setting in the command's language: what it was and what it expects (cli.settings.*; a reason
    the catalogues do not know is said as pydantic says it)."""
    reason = f"settings.expect.{exc.reason}"
    expected = say(reason, **exc.params) if has(reason) else exc.expected
    got = "" if exc.got is None else say("settings.got", value=repr(exc.got))
    return say("settings.bad", name=exc.name, got=got, expected=expected)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `supportbot` and `python -m bot`. Returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"supportbot: {settings_problem(exc)}", file=sys.stderr)
        return 2
    try:
        if args.command == "start":
            args.command = "sandbox" if settings.sandbox_mode else "run"
        if args.command == "run":
            from bot.app import run

            return run(settings)
        if args.command == "sandbox":
            from bot.app import run_sandbox

            return run_sandbox(settings)
        if args.command == "doctor":
            from bot.doctor import run_doctor

            return asyncio.run(run_doctor(settings))
        from bot.cli.base import dispatch

        return asyncio.run(dispatch(args, settings))
    except CliError as exc:
        print(f"supportbot {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
