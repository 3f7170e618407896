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
from bot.settings import SettingsError, load_settings

__all__ = ["CliError", "build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `supportbot` and `python -m bot`. Returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"supportbot: {exc}", file=sys.stderr)
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
