"""Raw RFC 5322 messages to MailReceived: sender, subject, body (text, or HTML made text), files, threading
headers, and whether a machine wrote it (RFC 3834 Auto-Submitted, Precedence, mailing lists, bounces)."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser

from bot.services.mail_events import MailFile, MailReceived

__all__ = ["html_to_text", "parse_message"]

_MSGID = re.compile(r"<[^<>\s]+>")
_BLOCKS = frozenset({"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote", "hr"})
_SKIP = frozenset({"script", "style", "head", "title"})
_DAEMONS = ("mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon")
_AUTO_HEADERS = ("x-autoreply", "x-autorespond", "x-auto-response-suppress")


class _TextOf(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skipping += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCKS and tag != "br":
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """The text a person reads in an HTML body: blocks on lines of their own, no markup, no scripts or styles."""
    parser = _TextOf()
    parser.feed(html)
    parser.close()
    lines = [line.strip() for line in "".join(parser.parts).splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _ids(value: str | None) -> list[str]:
    return _MSGID.findall(value or "")


def _header(msg: Message, name: str) -> str:
    value = msg.get(name)
    return "" if value is None else str(value).strip()


def _body(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeError):  # an unknown charset: what can be read is better than nothing
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    text = str(content)
    if part.get_content_type() == "text/html":
        text = html_to_text(text)
    return text.replace("\r\n", "\n").strip()


def _files(msg: EmailMessage) -> list[MailFile]:
    files: list[MailFile] = []
    body = msg.get_body(preferencelist=("plain", "html"))
    for n, part in enumerate(msg.walk()):
        if part.is_multipart() or part is body:
            continue
        ctype = part.get_content_type()
        disposition = part.get_content_disposition()
        name = part.get_filename()
        # Inline images (a pasted screenshot) are files too; a text part without a name belongs to the body.
        if disposition != "attachment" and name is None and not ctype.startswith("image/"):
            continue
        if ctype in ("message/delivery-status", "message/rfc822", "text/rfc822-headers"):
            continue
        content = part.get_payload(decode=True)
        if not isinstance(content, bytes):
            continue
        ext = ctype.split("/", 1)[-1].split("+", 1)[0] if "/" in ctype else "bin"
        files.append(MailFile(name or f"adjunto-{n}.{ext}", ctype, content))
    return files


def _bounced(msg: EmailMessage) -> list[str]:
    """The recipients a delivery failure report (RFC 3464) says failed."""
    found = [a.strip().lower() for a in _header(msg, "X-Failed-Recipients").split(",") if "@" in a]
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        # Its payload is a list of header blocks (one per recipient) in the email package's model.
        blocks = part.get_payload()
        for block in blocks if isinstance(blocks, list) else []:
            if not isinstance(block, Message):
                continue
            action = str(block.get("Action", "")).strip().lower()
            final = str(block.get("Final-Recipient", "") or block.get("Original-Recipient", ""))
            address = final.split(";", 1)[-1].strip().strip("<>").lower()
            if action == "failed" and "@" in address:
                found.append(address)
    return list(dict.fromkeys(found))


def _automatic(msg: EmailMessage, address: str, own: frozenset[str], report: bool) -> str | None:
    """Why this is a machine's message (RFC 3834 and common practice), or None for a person's."""
    auto = _header(msg, "Auto-Submitted").lower()
    if auto and auto != "no":
        return f"auto-submitted: {auto}"
    precedence = _header(msg, "Precedence").lower()
    if precedence in ("bulk", "list", "junk", "auto_reply"):
        return f"precedence: {precedence}"
    if _header(msg, "List-Id") or _header(msg, "List-Unsubscribe"):
        return "mailing list"
    for name in _AUTO_HEADERS:
        if _header(msg, name):
            return name
    local = address.split("@", 1)[0]
    if report or local in _DAEMONS or local.startswith(("mailer-daemon", "postmaster")):
        return "delivery report"
    if _header(msg, "Return-Path") == "<>":
        return "null sender"
    if address in own:
        return "our own address"
    return None


def parse_message(
    raw: bytes, arrived_at: datetime, own_addresses: frozenset[str], *, fallback_id: str = ""
) -> MailReceived:
    """Read one message. `own_addresses` (lower case): the mailbox's own, whose mail is never answered;
    `fallback_id`: the name the mailbox gave a message without a Message-ID."""
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    message_id = next(iter(_ids(_header(msg, "Message-ID"))), "") or fallback_id
    if not message_id:
        # Without one, the bytes name the message: a second read of the same message is the same key.
        message_id = f"<{hashlib.sha256(raw).hexdigest()[:32]}@no-message-id>"
    name, address = parseaddr(_header(msg, "From"))
    address = address.strip().lower()
    reply_to = getaddresses([_header(msg, "Reply-To")])
    if reply_to and reply_to[0][1] and "@" in reply_to[0][1] and not address:
        name, address = reply_to[0][0], reply_to[0][1].strip().lower()
    answers = list(reversed(_ids(_header(msg, "References"))))
    for earlier in reversed(_ids(_header(msg, "In-Reply-To"))):
        if earlier in answers:
            answers.remove(earlier)
        answers.insert(0, earlier)
    report = msg.get_content_type() == "multipart/report"
    bounced = _bounced(msg) if report or _header(msg, "X-Failed-Recipients") else []
    return MailReceived(
        message_id=message_id,
        address=address,
        name=name.strip(),
        subject=" ".join(_header(msg, "Subject").split()),
        text=_body(msg),
        arrived_at=arrived_at,
        files=tuple(_files(msg)),
        answers=tuple(answers),
        automatic=_automatic(msg, address, own_addresses, report or bool(bounced)),
        bounced=tuple(bounced),
    )
