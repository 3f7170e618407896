"""The outbox's e-mail sender: one SMTP submission per row (STARTTLS or TLS, a password or XOAUTH2), with the
headers that thread it (Message-ID, In-Reply-To, References) and, for automatic replies, Auto-Submitted
(RFC 3834) so that other robots do not answer them."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Any

import aiosmtplib

from bot.clock import Clock, utcnow
from bot.delivery import Outgoing, PermanentFailure, Unavailable
from bot.services.mail_out import MAIL_LANE
from bot.settings import Settings
from handlers.email.imap import tls_context
from handlers.slack.files import SlackFileFetcher

__all__ = ["MailSender", "build_message", "smtp_options"]

log = logging.getLogger(__name__)
# Answers after which trying the same message again cannot help (the address, not the server, is the problem).
_PERMANENT_CODES = frozenset({550, 551, 553, 554, 501})


def build_message(settings: Settings, payload: Mapping[str, Any], *, date: Any) -> EmailMessage:
    """The e-mail of an outbox row."""
    msg = EmailMessage()
    msg["From"] = formataddr((f"{settings.company_name} Soporte", settings.mailbox_address))
    msg["To"] = str(payload["to"])
    msg["Subject"] = str(payload.get("subject") or "")
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = str(payload["message_id"])
    if payload.get("in_reply_to"):
        msg["In-Reply-To"] = str(payload["in_reply_to"])
    references = [str(r) for r in payload.get("references") or [] if r]
    if references:
        msg["References"] = " ".join(references)
    if payload.get("auto"):
        msg["Auto-Submitted"] = "auto-replied"
        msg["X-Auto-Response-Suppress"] = "All"  # Exchange: no out-of-office back to an automatic reply
    msg.set_content(str(payload.get("text") or ""))
    return msg


def smtp_options(settings: Settings) -> dict[str, Any]:
    """aiosmtplib's connection and login keywords from the settings."""
    s = settings
    options: dict[str, Any] = {"hostname": s.smtp_host, "port": s.smtp_port, "timeout": 30}
    if s.smtp_security == "tls":
        options.update(use_tls=True, tls_context=tls_context(s))
    elif s.smtp_security == "starttls":
        options.update(start_tls=True, tls_context=tls_context(s))
    else:
        options.update(start_tls=False)
    if s.smtp_user:
        options["username"] = s.smtp_user
        if s.smtp_oauth2_token:
            token = s.smtp_oauth2_token

            async def _token() -> str:
                return token

            options["oauth_token_generator"] = _token
        else:
            options["password"] = s.smtp_password
    return options


class MailSender:
    """Sends outbox rows of destination "email"; the files an agent shared are fetched from Slack at send time."""

    def __init__(
        self, settings: Settings, *, clock: Clock = utcnow, fetch_slack_file: SlackFileFetcher | None = None
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._fetch = fetch_slack_file

    async def _attach(self, msg: EmailMessage, files: list[Mapping[str, Any]]) -> None:
        if self._fetch is None:
            raise PermanentFailure("no Slack side to fetch the files from")
        for file in files:
            size = int(file.get("size") or 0)
            content = await self._fetch(str(file["url"]), max(size, 1) + 1024)
            maintype, _, subtype = str(file.get("mimetype") or "application/octet-stream").partition("/")
            msg.add_attachment(content, maintype=maintype, subtype=subtype or "octet-stream",
                               filename=str(file.get("name") or "archivo"))  # fmt: skip

    async def send(self, out: Outgoing) -> Mapping[str, Any] | None:
        payload = out.payload
        if not payload.get("to"):
            raise PermanentFailure("no address to send to")
        msg = build_message(self._settings, payload, date=self._clock())
        if payload.get("files"):
            await self._attach(msg, list(payload["files"]))
        async with out.turn(MAIL_LANE):
            try:
                await aiosmtplib.send(msg, **smtp_options(self._settings))
            except aiosmtplib.SMTPRecipientsRefused as exc:
                raise PermanentFailure(f"the server refused {payload['to']}: {exc}") from None
            except aiosmtplib.SMTPAuthenticationError as exc:
                # The operator's to fix (SMTP_USER / SMTP_PASSWORD): nothing is lost meanwhile.
                raise Unavailable(f"SMTP login refused: {exc.code} {exc.message}") from None
            except aiosmtplib.SMTPResponseException as exc:
                if exc.code in _PERMANENT_CODES:
                    raise PermanentFailure(f"{exc.code} {exc.message}") from None
                raise
            except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPServerDisconnected, TimeoutError, OSError) as exc:
                raise Unavailable(f"SMTP server {self._settings.smtp_host}:{self._settings.smtp_port}: {exc}") from None
        return {"message_id": payload["message_id"]}
