"""The mailbox's two logins against real servers on loopback: IMAP (dovecot; and XOAUTH2 against a server that
checks the SASL string), SMTP with STARTTLS, TLS or neither (aiosmtpd, a certificate of its own), and what
`supportbot doctor` says about each."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ssl
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bot.doctor import Checkup, Status
from bot.settings import Settings
from handlers.email.checks import mailbox
from handlers.email.imap import MailboxError, _internaldate, _records, open_mailbox
from handlers.email.smtp import build_message, smtp_options
from tests.email.servers import MAILBOX_PASSWORD, MAILBOX_USER, free_port, running_dovecot, running_smtp, text_of


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as a mail server of the company's own might have."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "mail.crt", folder / "mail.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def test_imap_answers_are_read_as_the_bot_needs_them() -> None:
    assert _internaldate("03-Dec-2026 07:55:17 -0600") == datetime(2026, 12, 3, 13, 55, 17, tzinfo=UTC)
    assert _internaldate("nonsense") is None
    lines = [b"1 FETCH (UID 7 RFC822.SIZE 117 BODY[] {5}", bytearray(b"hello"), b")", b"Fetch completed"]
    assert _records(lines) == [(b"1 FETCH (UID 7 RFC822.SIZE 117 BODY[] {5}", b"hello")]


@pytest.fixture(autouse=True)
def _english(monkeypatch: pytest.MonkeyPatch) -> None:
    """These read the doctor's mailbox lines in English (tests/test_doctor.py reads them in Spanish too)."""
    monkeypatch.setenv("LANG", "en_US.UTF-8")


@pytest.mark.mailserver
async def test_the_doctor_checks_both_logins() -> None:
    with running_dovecot() as dovecot:
        async with running_smtp() as smtp:
            good = settings(
                imap_host="127.0.0.1", imap_port=dovecot.port, imap_security="none", imap_user=MAILBOX_USER,
                imap_password=MAILBOX_PASSWORD, smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_security="none",
            )  # fmt: skip
            lines = await mailbox(Checkup(good))
            assert [line.status for line in lines] == [Status.OK, Status.OK], lines
            assert "new mail by IDLE" in lines[0].detail
            gone = await mailbox(Checkup(good.model_copy(update={"smtp_port": free_port()})))
            assert gone[1].status is Status.FAIL
            # Last: after a refused login dovecot makes this address wait before the next one.
            refused = await mailbox(Checkup(good.model_copy(update={"imap_password": "otra"})))
            assert refused[0].status is Status.FAIL and "refused the login" in refused[0].detail
    half = await mailbox(Checkup(settings(imap_host="imap.example.test")))
    assert half[0].status is Status.FAIL and "SMTP_HOST" in half[0].detail
    assert await mailbox(Checkup(settings())) == []  # the channel is off: nothing to say


@pytest.mark.mailserver
async def test_a_server_without_idle_is_polled() -> None:
    with running_dovecot(idle=False) as dovecot:
        s = settings(imap_host="127.0.0.1", imap_port=dovecot.port, imap_security="none", imap_user=MAILBOX_USER,
                     imap_password=MAILBOX_PASSWORD, smtp_host="127.0.0.1", imap_poll_seconds=7)  # fmt: skip
        [line, _smtp] = await mailbox(Checkup(s))
        assert "polling every 7 s (no IDLE)" in line.detail


@contextlib.asynccontextmanager
async def xoauth2_server(expected: str) -> AsyncIterator[tuple[int, list[str]]]:
    """An IMAP server that speaks only as far as AUTHENTICATE XOAUTH2 and checks the SASL string."""
    seen: list[str] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"* OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2 IDLE] ready\r\n")
        while line := await reader.readline():
            tag, _, rest = line.decode().strip().partition(" ")
            seen.append(rest)
            if rest.upper().startswith("CAPABILITY"):
                writer.write(f"* CAPABILITY IMAP4rev1 AUTH=XOAUTH2 IDLE\r\n{tag} OK done\r\n".encode())
            elif rest.upper().startswith("AUTHENTICATE XOAUTH2 "):
                sasl = base64.b64decode(rest.split()[2]).decode()
                answer = "OK authenticated" if sasl == expected else "NO [AUTHENTICATIONFAILED] invalid token"
                writer.write(f"{tag} {answer}\r\n".encode())
            elif rest.upper().startswith("LOGOUT"):
                writer.write(f"* BYE\r\n{tag} OK bye\r\n".encode())
                break
            else:
                writer.write(f"{tag} BAD unknown\r\n".encode())
            await writer.drain()
        writer.close()

    port = free_port()
    server = await asyncio.start_server(serve, "127.0.0.1", port)
    try:
        yield port, seen
    finally:
        server.close()


async def test_xoauth2_logs_in_with_the_token_instead_of_the_password() -> None:
    """Google Workspace and Microsoft 365 take an OAuth2 token (XOAUTH2), not a password."""
    expected = f"user={MAILBOX_USER}\x01auth=Bearer ya29.token\x01\x01"
    async with xoauth2_server(expected) as (port, seen):
        s = settings(imap_host="127.0.0.1", imap_port=port, imap_security="none", imap_user=MAILBOX_USER,
                     imap_password="unused", imap_oauth2_token="ya29.token")  # fmt: skip
        imap = await open_mailbox(s)
        await imap.logout()
        assert any(r.startswith("AUTHENTICATE XOAUTH2") for r in seen) and not any("LOGIN" in r for r in seen)
        with pytest.raises(MailboxError, match="refused the login"):
            await open_mailbox(s.model_copy(update={"imap_oauth2_token": "expired"}))


@pytest.mark.parametrize("security", ["starttls", "tls"])
async def test_replies_go_out_over_starttls_or_tls(tmp_path: Path, security: str) -> None:
    cert, key = self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    options: dict[str, Any] = (
        {"tls_context": server_tls, "require_starttls": True} if security == "starttls" else {"ssl_context": server_tls}
    )
    async with running_smtp(**options) as smtp:
        s = settings(smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_security=security, mail_ca_file=str(cert))
        payload = {"to": "laura@x.test", "subject": "Re: [SOP-2026-000001] x", "text": "hola", "message_id": "<m@y>"}
        await aiosmtplib.send(build_message(s, payload, date=datetime.now(UTC)), **smtp_options(s))
        [got] = smtp.messages
        assert got["Message-ID"] == "<m@y>" and text_of(got).strip() == "hola"
        # Without the company's certificate the server is not trusted: nothing goes out in clear instead.
        with pytest.raises((aiosmtplib.SMTPException, ssl.SSLError)):
            await aiosmtplib.send(build_message(s, payload, date=datetime.now(UTC)),
                                  **smtp_options(s.model_copy(update={"mail_ca_file": ""})))  # fmt: skip
        assert len(smtp.messages) == 1
