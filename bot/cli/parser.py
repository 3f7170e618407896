"""The `supportbot` command: argument parsing and error reporting; the work is in bot.cli_commands."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import date, datetime
from typing import NoReturn

from bot.domain.types import Role, ServiceArea, Severity, TicketStatus, Tier
from bot.settings import SettingsError, load_settings


class CliError(Exception):
    """An operator mistake or a failed operation: one line saying what to fix, exit status 1."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line naming the command and the fix, then exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-03-15") from None


def _instant(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO-8601 instant like 2026-11-23T10:00-06:00") from None


def _positive_hours(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of hours")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be 1 or more")
    return value


def _choices(enum: type[Tier] | type[Role] | type[ServiceArea] | type[TicketStatus]) -> list[str]:
    return [member.value for member in enum]


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="supportbot", description="Support-intake bot: run it and administer its data.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    sub.add_parser("run", help="run the bot against Telegram and Slack (both tokens needed)")
    sub.add_parser(
        "sandbox", help="try the bot in a browser: local Telegram and Slack stand-ins, demo data in its own file"
    )
    sub.add_parser("start", help="`run` when tokens are set, `sandbox` when none are (what `make run` does)")
    sub.add_parser(
        "doctor", help="check tokens, webhook, Slack app and channel, database, keys and agents; exit 1 on a failure"
    )

    clients = sub.add_parser("clients", help="client companies").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = clients.add_parser("add", help="add a client company")
    p.add_argument("name")
    p.add_argument("--phone", default="")
    p.add_argument("--tax-id", default=None, help="RFC")
    p.add_argument("--notes", default="")
    p = clients.add_parser("list", help="list clients with their contacts and active contract")
    p.add_argument("--json", action="store_true", help="one JSON array instead of a table")
    p = clients.add_parser("edit", help="change a client's name, phone, RFC or notes")
    p.add_argument("client_id", type=_positive_int, metavar="ID")
    p.add_argument("--name", default=None)
    p.add_argument("--phone", default=None)
    p.add_argument("--tax-id", default=None, help="RFC")
    p.add_argument("--notes", default=None)

    contacts = sub.add_parser("contacts", help="people of a client who may report (Telegram users)").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = contacts.add_parser("add", help="register a contact; sharing their phone on Telegram links them")
    p.add_argument("--client", type=int, required=True, help="client id")
    p.add_argument("--name", required=True)
    p.add_argument("--phone", default="")
    p.add_argument("--language", choices=["es", "en"], default="es")
    p = contacts.add_parser("list", help="list contacts: who acts for the company, deactivated, forgotten")
    p.add_argument("--client", type=int, default=None, help="only this client's contacts")
    p.add_argument("--json", action="store_true", help="one JSON array instead of a table")
    p = contacts.add_parser("show", help="one contact with their rights and tickets")
    p.add_argument("contact_id", type=_positive_int, metavar="ID")
    p = contacts.add_parser(
        "edit", help="change a contact; --acts-for-company yes lets them escalate, reopen and rate every ticket of "
        "their company, not only those they reported (P-ESC-2, P-CLOSE-2)"
    )  # fmt: skip
    p.add_argument("contact_id", type=_positive_int, metavar="ID")
    p.add_argument("--name", default=None)
    p.add_argument("--phone", default=None)
    p.add_argument("--acts-for-company", choices=["yes", "no"], default=None)
    p = contacts.add_parser("deactivate", help="the person no longer reports: unlinked from Telegram for good")
    p.add_argument("contact_id", type=_positive_int, metavar="ID")
    p = contacts.add_parser(
        "forget", help="erase the person's data on request (LFPDPPP): name, phone, Telegram id, drafts and stored "
        "secrets; tickets, hours and the audit trail stay, shown as \"contacto eliminado\""
    )  # fmt: skip
    p.add_argument("contact_id", type=_positive_int, metavar="ID")

    contracts = sub.add_parser("contracts", help="support contracts (pólizas)").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = contracts.add_parser("add", help="add a contract (P-POL-1)")
    p.add_argument("--client", type=int, required=True, help="client id")
    p.add_argument("--number", required=True, help="contract number, e.g. POL-2026-001")
    p.add_argument("--tier", required=True, choices=_choices(Tier))
    p.add_argument("--starts", type=_date, required=True, help="first valid day, YYYY-MM-DD")
    p.add_argument("--ends", type=_date, default=None, help="last valid day (default: one year, P-POL-2)")
    p.add_argument("--hours", type=_positive_hours, default=None, help="hours bought (default: the tier's)")
    p.add_argument("--purchase-order", default=None, help="required for por_evento (P-POL-1)")
    p.add_argument("--special-eol", action="store_true", help="covers discontinued products (P-POL-7)")
    p = contracts.add_parser("show", help="a contract with hours used and left")
    p.add_argument("number")
    p = contracts.add_parser("list", help="list contracts")
    p.add_argument("--client", type=int, default=None)
    p.add_argument("--json", action="store_true", help="one JSON array instead of a table")
    p = contracts.add_parser(
        "expiring", help="contracts about to run out: ending soon or hours under the warning share"
    )
    p.add_argument("--within-days", type=int, default=30)
    p.add_argument("--json", action="store_true", help="one JSON array instead of a table")
    p = contracts.add_parser(
        "renew", help="a new period from the old end (P-POL-2), hours reset, products moved, certificate written"
    )
    p.add_argument("number", help="the contract to renew, e.g. POL-2026-001")
    p.add_argument("--new-number", default=None, help="default: the old number with the new year")
    p.add_argument("--tier", choices=_choices(Tier), default=None, help="default: the same tier")
    p.add_argument("--hours", type=_positive_hours, default=None, help="hours bought (default: the tier's)")
    p.add_argument("--purchase-order", default=None, help="required for por_evento (P-POL-1)")
    p.add_argument("--out", default=None, help="where to write the certificate PDF")
    p = contracts.add_parser("certificate", help="write the contract's certificate as a PDF (P-POL-8)")
    p.add_argument("number")
    p.add_argument("--out", default=None, help="PDF file to write (default: certificates/NUMBER.pdf)")

    products = sub.add_parser("products", help="products and services covered").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = products.add_parser("add", help="add a product of a client")
    p.add_argument("--client", type=int, required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--area", required=True, choices=_choices(ServiceArea))
    p.add_argument("--contract", type=int, default=None, help="contract id covering it")
    p.add_argument("--warranty-until", type=_date, default=None, help="last day of warranty (P-POL-4)")
    p.add_argument("--discontinued", action="store_true", help="end of life (P-POL-7)")
    p = products.add_parser("discontinue", help="mark a product discontinued (P-POL-7)")
    p.add_argument("product_id", type=int)
    p.add_argument("--undo", action="store_true", help="mark it supported again")
    p = products.add_parser("warranty", help="set a product's warranty end (P-POL-4)")
    p.add_argument("product_id", type=int)
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--until", type=_date)
    group.add_argument("--none", action="store_true", help="no warranty")
    p = products.add_parser("list", help="a client's products")
    p.add_argument("--client", type=int, required=True)
    p.add_argument("--json", action="store_true", help="one JSON array instead of a table")

    agents = sub.add_parser("agents", help="consultants and managers on Slack").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = agents.add_parser("add", help="register a Slack user with a role (P-ESC-2)")
    p.add_argument("--name", required=True)
    p.add_argument("--slack-id", required=True, help="Slack user id, e.g. U0123ABCD")
    p.add_argument("--role", required=True, choices=_choices(Role))
    p = agents.add_parser("list", help="list agents")
    p.add_argument("--role", choices=_choices(Role), default=None)
    p.add_argument("--json", action="store_true", help="one JSON array instead of a table")
    p = agents.add_parser("deactivate", help="the person left: none of their buttons works any more")
    p.add_argument("agent_id", type=_positive_int, metavar="ID")
    p = agents.add_parser("role", help="change an agent's role (P-ESC-2)")
    p.add_argument("agent_id", type=_positive_int, metavar="ID")
    p.add_argument("--role", required=True, choices=_choices(Role))

    invites = sub.add_parser("invites", help="one-time codes linking a Telegram user to a client").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = invites.add_parser("create", help="create a one-time, expiring invite code")
    p.add_argument("--client", type=int, required=True)
    p.add_argument("--name", required=True, help="who the code is for")
    p.add_argument("--ttl-hours", type=_positive_hours, default=None, help="default: INVITE_CODE_TTL_HOURS")
    p = invites.add_parser("list", help="list invites")
    p.add_argument("--client", type=int, default=None)
    p.add_argument("--json", action="store_true", help="one JSON array instead of a table")
    p = invites.add_parser("revoke", help="take back an unused invite code")
    p.add_argument("code")

    tickets = sub.add_parser("tickets", help="tickets").add_subparsers(dest="action", required=True, metavar="ACTION")
    p = tickets.add_parser("list", help="list tickets")
    p.add_argument("--status", choices=_choices(TicketStatus), default=None)
    p.add_argument("--client", type=int, default=None)
    p.add_argument("--json", action="store_true", help="one JSON array instead of a table")
    p = tickets.add_parser("show", help="a ticket with its audit trail")
    p.add_argument("number", help="e.g. SOP-2026-000123")

    sla = sub.add_parser("sla", help="business-hours arithmetic").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = sla.add_parser("deadline", help="response deadline of a ticket (P-SLA-1..5)")
    p.add_argument("--severity", type=int, required=True, choices=[int(s) for s in Severity])
    p.add_argument("--opened", type=_instant, required=True, help="ISO-8601; without an offset it is in TIMEZONE")

    outbox = sub.add_parser("outbox", help="messages waiting to go to Telegram and Slack").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = outbox.add_parser("list", help="messages waiting to be sent (with --dead: those that failed for good)")
    p.add_argument("--dead", action="store_true", help="the dead letters: sending failed for a reason not a rate limit")
    p.add_argument("--limit", type=_positive_int, default=100)
    p = outbox.add_parser("retry", help="send a dead message again (the running bot picks it up)")
    p.add_argument("id", type=_positive_int, help="the ID shown by `supportbot outbox list --dead`")

    inbox = sub.add_parser("inbox", help="events received from Telegram and Slack").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = inbox.add_parser("list", help="events not handled yet (with --failed: those that failed or could not be read)")
    p.add_argument("--failed", action="store_true", help="events that failed every attempt or could not be parsed")
    p.add_argument("--limit", type=_positive_int, default=100)

    p = sub.add_parser(
        "report", help="the managers' report of a period: CSV files, PNG charts and an HTML summary in a folder"
    )
    when = p.add_mutually_exclusive_group()
    when.add_argument("--month", default=None, help="a calendar month, e.g. 2026-11")
    when.add_argument("--from", dest="from_day", type=_date, default=None, help="first day, YYYY-MM-DD (with --to)")
    p.add_argument("--to", dest="to_day", type=_date, default=None, help="last day, YYYY-MM-DD (included)")
    p.add_argument("--client", type=int, default=None, help="only this client's tickets and contracts")
    p.add_argument("--out", default=None, help="folder to write (default: reports/PERIOD)")
    p.add_argument(
        "--demo", action="store_true", help="report on a generated month in a database of its own (the sample in docs/)"
    )

    db = sub.add_parser("db", help="the database").add_subparsers(dest="action", required=True, metavar="ACTION")
    db.add_parser("migrate", help="apply pending migrations")
    p = db.add_parser("backup", help="online backup to a file (PostgreSQL: pg_dump, custom format; how to restore)")
    p.add_argument("path")
    p = db.add_parser(
        "copy",
        help="move an installation to another database (stop the bot first): every row, checked by counts and "
        "checksums per table; encrypted secrets stay encrypted",
    )
    p.add_argument("--from", dest="source", required=True, help="sqlite:///var/supportbot.db or postgresql://...")
    p.add_argument("--to", dest="target", required=True, help="an empty database: postgresql://... or sqlite:///...")

    from bot.cli_mail import add_parsers as add_mail_parsers

    add_mail_parsers(sub)

    keys = sub.add_parser("keys", help="encryption keys of stored secrets").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = keys.add_parser("generate", help="create the key file (mode 0600) if there is none")
    p.add_argument("--print", action="store_true", help="print a new key for SECRETS_KEYS instead")
    keys.add_parser("check", help="say whether every stored secret can be decrypted with the configured keys")
    keys.add_parser(
        "rotate",
        help="re-encrypt every stored secret under a new first key (a new one is added to the key file; "
        "with SECRETS_KEYS, put a new key first there before running this)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `supportbot` and `python -m bot`. Returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"supportbot: {exc}", file=sys.stderr)
        return 2
    from bot import cli_commands, cli_office, cli_trail  # noqa: F401 - these register their verbs on import

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
        if args.command == "mail":
            from bot import cli_mail

            return asyncio.run(cli_mail.dispatch(args, settings))
        return asyncio.run(cli_commands.dispatch(args, settings))
    except CliError as exc:
        print(f"supportbot {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
