"""The `supportbot` command line: argparse in the command's language. Every help text comes from the catalogues
(`cli.help.*`), argparse's own words (usage, titles, its error messages) are said in Spanish or English too, and
a usage mistake is one line naming the fix."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Sequence
from datetime import date, datetime
from enum import Enum
from typing import Any, NoReturn

from bot.cli.text import has, say

__all__ = [
    "Noun",
    "Parser",
    "Verb",
    "build_parser",
    "choices",
    "day",
    "instant",
    "positive_hours",
    "positive_int",
    "whole",
]


class _Formatter(argparse.HelpFormatter):
    def add_usage(self, usage: str | None, actions: Any, groups: Any, prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, say("argparse.usage") + " " if prefix is None else prefix)


# argparse's own error sentences (Python 3.11+), matched so they can be said in the command's language.
_ARGPARSE_ERRORS = [
    (re.compile(r"the following arguments are required: (?P<args>.+)"), "required"),
    (re.compile(r"argument (?P<arg>\S+): invalid choice: (?P<value>.+?) \(choose from (?P<choices>.+)\)"), "choice"),
    (re.compile(r"argument (?P<arg>\S+): expected one argument"), "one_value"),
    (re.compile(r"argument (?P<arg>\S+): not allowed with argument (?P<other>\S+)"), "exclusive"),
    (re.compile(r"one of the arguments (?P<args>.+) is required"), "one_of"),
    (re.compile(r"unrecognized arguments: (?P<args>.+)"), "unknown"),
    (re.compile(r"ambiguous option: (?P<arg>\S+) could match (?P<matches>.+)"), "ambiguous"),
    (re.compile(r"argument (?P<arg>\S+): invalid (?P<type>\w+) value: (?P<value>.+)"), "type"),
    (re.compile(r"argument (?P<arg>\S+): (?P<message>.+)"), "argument"),
]


def _said(message: str) -> str:
    for pattern, key in _ARGPARSE_ERRORS:
        found = pattern.fullmatch(message)
        if found:
            return say(f"argparse.{key}", **found.groupdict())
    return message


class Parser(argparse.ArgumentParser):
    """argparse speaking the command's language; a usage mistake is one line naming the command and the fix,
    then exit 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = say("argparse.positionals")
        self._optionals.title = say("argparse.options")
        self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help=say("argparse.help"))

    def error(self, message: str) -> NoReturn:
        self.exit(2, say("argparse.error", prog=self.prog, message=_said(message)) + "\n")


def day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(say("type.date", value=text)) from None


def instant(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(say("type.instant", value=text)) from None


def positive_hours(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(say("type.hours", value=text))
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(say("type.whole", value=text)) from None
    if value < 1:
        raise argparse.ArgumentTypeError(say("type.one_or_more", value=text))
    return value


def whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(say("type.whole", value=text)) from None


def choices(enum: type[Enum]) -> list[str]:
    return [str(member.value) for member in enum]


def _help(key: str, dest: str) -> str:
    """cli.help.<noun>.<action>.<dest>, else the shared cli.help.common.<dest>."""
    specific = f"help.{key}.{dest}"
    return say(specific if has(specific) else f"help.common.{dest}")


class Verb:
    """One `supportbot NOUN ACTION` parser whose arguments find their help at cli.help.NOUN.ACTION.<dest>."""

    def __init__(self, parser: argparse._ActionsContainer, key: str) -> None:
        self.parser = parser
        self.key = key

    def arg(self, *names: str, **kwargs: Any) -> Verb:
        action = self.parser.add_argument(*names, **kwargs)
        if "help" not in kwargs:
            action.help = _help(self.key, action.dest)
        if action.metavar is None and action.choices is None and action.nargs != 0 and has(f"meta.{action.dest}"):
            action.metavar = say(f"meta.{action.dest}")  # the placeholder of a value, in the command's language
        return self

    def one_of(self, *, required: bool) -> Verb:
        """The next arguments, through the returned Verb, exclude each other."""
        return Verb(self.parser.add_mutually_exclusive_group(required=required), self.key)


class Noun:
    """`supportbot NOUN`, described by cli.help.NOUN.about; its actions by cli.help.NOUN.ACTION.about."""

    def __init__(self, sub: argparse._SubParsersAction, name: str) -> None:  # type: ignore[type-arg]
        about = say(f"help.{name}.about")
        self.name = name
        self.actions = sub.add_parser(name, help=about, description=about).add_subparsers(
            dest="action", required=True, metavar=say("argparse.action"), parser_class=Parser
        )

    def verb(self, action: str) -> Verb:
        about = say(f"help.{self.name}.{action}.about")
        return Verb(self.actions.add_parser(action, help=about, description=about), f"{self.name}.{action}")


def build_parser() -> argparse.ArgumentParser:
    """Every verb: each module of bot.cli declares its own nouns, next to the functions that run them."""
    from bot.cli import agents, contracts, mail, ops, people, report, tickets

    parser = Parser(prog="supportbot", description=say("help.about"))
    sub = parser.add_subparsers(dest="command", required=True, metavar=say("argparse.command"), parser_class=Parser)
    for name in ("run", "sandbox", "start", "doctor"):
        sub.add_parser(name, help=say(f"help.{name}"), description=say(f"help.{name}"))
    adders: Sequence[Callable[[argparse._SubParsersAction], None]] = (  # type: ignore[type-arg]
        people.add_parsers, agents.add_parsers, contracts.add_parsers, tickets.add_parsers, report.add_parsers,
        ops.add_parsers, mail.add_parsers,
    )  # fmt: skip
    for add in adders:
        add(sub)
    return parser
