"""Real mail servers on loopback for the e-mail tests: Debian's dovecot (IMAP) with a temporary maildir, and
aiosmtpd receiving what the bot sends. Dovecot is installed by `make test` (scripts/install-mailserver.sh) as
chromium is; where it is missing the tests that need it skip and say why, and in CI they fail instead."""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

DOVECOT = Path("/usr/sbin/dovecot")
MAILBOX_USER = "soporte@intecnia.com.mx"
MAILBOX_PASSWORD = "correo-de-prueba"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def require_dovecot() -> None:
    """Skip (say why) when dovecot is not installed; in CI fail: the e-mail proof must run there."""
    if DOVECOT.exists():
        return
    reason = (
        f"{DOVECOT} is missing: install Debian's dovecot-imapd (scripts/install-mailserver.sh, as root) to run this"
    )
    if os.environ.get("CI"):
        pytest.fail(f"CI is set, so the e-mail tests must run, but {reason}")
    print(f"skipping an e-mail test: {reason}")
    pytest.skip(reason)


@dataclass
class Dovecot:
    """A dovecot serving one mailbox on a loopback port, plaintext (it never leaves this machine)."""

    folder: Path
    port: int
    process: subprocess.Popen[bytes]

    def _client(self) -> imaplib.IMAP4:
        imap = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        imap.login(MAILBOX_USER, MAILBOX_PASSWORD)
        return imap

    def deliver_now(self, raw: bytes, at: datetime | None = None) -> None:
        """Put a message in the mailbox as the mail server would (IMAP APPEND, unread), received `at`."""
        imap = self._client()
        try:
            when = imaplib.Time2Internaldate(at) if at is not None else None
            status, _ = imap.append("INBOX", "", when, raw)  # type: ignore[arg-type]
            assert status == "OK", status
        finally:
            imap.logout()

    async def deliver(self, message: EmailMessage | bytes, at: datetime | None = None) -> None:
        raw = message if isinstance(message, bytes) else message.as_bytes()
        await asyncio.to_thread(self.deliver_now, raw, at)

    def flags_now(self) -> dict[str, str]:
        """Every message's Message-ID with its flags."""
        imap = self._client()
        try:
            imap.select("INBOX")
            status, data = imap.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
            found: dict[str, str] = {}
            if status != "OK":
                return found
            for item in data:
                if isinstance(item, tuple):
                    head, body = item
                    msg_id = body.decode().split(":", 1)[-1].strip()
                    found[msg_id] = head.decode()
            return found
        finally:
            imap.logout()

    async def flags(self) -> dict[str, str]:
        return await asyncio.to_thread(self.flags_now)

    def log(self) -> str:
        path = self.folder / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""


@contextlib.contextmanager
def running_dovecot(*, idle: bool = True) -> Iterator[Dovecot]:
    """Start dovecot on a free loopback port with a maildir of its own; stop it and remove everything after.
    idle=False: a server that does not offer IDLE (the bot polls)."""
    require_dovecot()
    root = os.geteuid() == 0
    folder = Path(tempfile.mkdtemp(prefix="supportbot-dovecot-"))
    folder.chmod(0o755)  # the mail user (dovecot's own, when we are root) must reach the maildir
    mail_user = pwd.getpwnam("dovecot") if root else pwd.getpwuid(os.getuid())
    home = folder / "home"
    home.mkdir()
    if root:
        os.chown(home, mail_user.pw_uid, mail_user.pw_gid)
    (folder / "passwd").write_text(f"{MAILBOX_USER}:{{PLAIN}}{MAILBOX_PASSWORD}\n")
    port = free_port()
    me = pwd.getpwuid(os.getuid()).pw_name
    conf = f"""
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:{home}/Maildir
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {folder}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={home}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""
    if not idle:
        conf += "imap_capability = IMAP4rev1 SASL-IR LITERAL+ UIDPLUS\n"
    if not root:  # a rootless dovecot runs every process as this user
        conf += f"default_login_user = {me}\ndefault_internal_user = {me}\ndefault_internal_group = {me}\n"
    (folder / "dovecot.conf").write_text(conf)
    process = subprocess.Popen(  # noqa: S603 - a fixed binary with our own config file
        [str(DOVECOT), "-F", "-c", str(folder / "dovecot.conf")], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    server = Dovecot(folder, port, process)
    try:
        for _ in range(200):
            if process.poll() is not None:
                pytest.fail(f"dovecot exited at start:\n{server.log()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2) as probe:
                if probe.recv(64).startswith(b"* OK"):
                    break
            import time

            time.sleep(0.05)
        else:
            pytest.fail(f"dovecot did not answer on port {port}:\n{server.log()}")
        yield server
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class SmtpSink:
    """aiosmtpd on a loopback port: every message the bot sends lands in `messages`."""

    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]

    async def wait_for(self, check: Callable[[], Any], what: str, limit: float = 10.0) -> Any:
        deadline = asyncio.get_running_loop().time() + limit
        while True:
            value = check()
            if value:
                return value
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"waited {limit:g} s for {what}; the SMTP server got {len(self.messages)}")
            await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def running_smtp(**options: Any) -> AsyncIterator[SmtpSink]:
    """aiosmtpd on a free port; options go to its Controller (ssl_context, tls_context, require_starttls, ...)."""
    sink = SmtpSink(free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port, **options)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


def text_of(msg: EmailMessage) -> str:
    body = msg.get_body(preferencelist=("plain",))
    return "" if body is None else str(body.get_content())


@dataclass
class Tap:
    """A TCP relay in front of a server that counts what the server sends; once armed, it holds the transfer at the
    first byte past `after` (and sets `tripped`) until released: the client is caught in the middle of it."""

    port: int
    target: int
    after: int | None = None
    sent: int = 0
    tripped: asyncio.Event = field(default_factory=asyncio.Event)
    _release: asyncio.Event = field(default_factory=asyncio.Event)

    def arm(self, after: int) -> None:
        self.sent, self.after = 0, after
        self.tripped.clear()
        self._release.clear()

    def release(self) -> None:
        self.after = None
        self._release.set()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, count: bool) -> None:
        try:
            while data := await reader.read(65536):
                if count and self.after is not None:
                    self.sent += len(data)
                    if self.sent > self.after:
                        self.tripped.set()
                        await self._release.wait()
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection("127.0.0.1", self.target)
        except OSError:
            client_w.close()
            return
        await asyncio.gather(self._pump(client_r, server_w, count=False), self._pump(server_r, client_w, count=True))


@contextlib.asynccontextmanager
async def running_tap(target: int) -> AsyncIterator[Tap]:
    tap = Tap(free_port(), target)
    server = await asyncio.start_server(tap._serve, "127.0.0.1", tap.port)
    try:
        yield tap
    finally:
        server.close()
