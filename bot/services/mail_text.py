"""What the bot reads out of a client's e-mail and how it writes one: the reply without its quoted history and
signature, passwords taken out (never stored in clear, P-IN-3), the answer to the severity question, subjects."""

from __future__ import annotations

import html
import re

from mailparser_reply import EmailReplyParser

__all__ = [
    "REDACTED",
    "clean_subject",
    "plain_from_html",
    "redact_secrets",
    "reply_subject",
    "severity_answer",
    "strip_reply",
    "ticket_numbers",
]

REDACTED = "[retirada por seguridad]"
# Where the quoted history starts, in the clients' languages and mail programs.
_HISTORY = [
    re.compile(r"^-{2,}\s*(mensaje original|original message|mensaje reenviado|forwarded message)\s*-{2,}", re.I),
    re.compile(r"^(el|on)\s.{0,200}(escribi[oó]|wrote)\s*:?\s*$", re.I),
    re.compile(r"^(de|from)\s*:\s.+", re.I),
    re.compile(r"^_{10,}\s*$"),
]
_SIGNATURE = re.compile(r"^(--|—|__)\s*$")
# "contraseña: k9#Lm2", "password = x", "clave de TeamViewer es x", "pwd: x": the value after the word.
_SECRET = re.compile(
    r"(?P<label>\b(contrase(?:ñ|n)a|password|passwd|pass|pwd|clave)\b[^:=\n]{0,40}?(?:\s*[:=]\s*|\s+es\s+))"
    r"(?P<value>[^\s,;]+)",
    re.I,
)
_SEVERITY = re.compile(r"^\s*(?:la\s+|el\s+|opci[oó]n\s+|severidad\s+|option\s+)?\(?([1-4])\)?(?:[\s.)\-:]|$)", re.I)
_PREFIX = re.compile(r"^\s*((re|rv|fw|fwd|aw|r)\s*:\s*)+", re.I)
_NUMBER = re.compile(r"\[([A-Z]{2,10}-\d{4}-\d{6})\]")


def _cut_history(text: str) -> str:
    lines = text.splitlines()
    for n, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith(">"):
            # A quoted block: keep what was written above it (drop a dangling "El ... escribió:" line).
            return "\n".join(_drop_attribution(lines[:n]))
        if any(p.match(stripped) for p in _HISTORY):
            return "\n".join(lines[:n])
        if _SIGNATURE.match(stripped):
            return "\n".join(lines[:n])
    return text


def _drop_attribution(lines: list[str]) -> list[str]:
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    # "El mar, 24 nov 2026 a las 10:30, Soporte <soporte@x>\nescribió:" may wrap over two lines.
    tail = " ".join(lines[-2:]).strip().lower()
    if tail.endswith(("escribió:", "escribio:", "wrote:")):
        lines = lines[:-2] if not lines[-1].strip().lower().startswith(("el ", "on ")) else lines[:-1]
    return lines


def strip_reply(text: str) -> str:
    """The new part of a reply: the quoted history and the signature go (mail-parser-reply, then the markers
    it misses in Spanish mail programs)."""
    if not text.strip():
        return ""
    try:
        replies = EmailReplyParser(languages=["es", "en"]).read(text).replies
        first = replies[0].body if replies else text
    except Exception:  # a parser failure must not lose the client's message
        first = text
    return _cut_history(first or text).strip()


def redact_secrets(text: str) -> tuple[str, bool]:
    """Passwords written in a message are not kept (P-IN-3): the value after "contraseña:", "password:", "clave:"
    is replaced. Returns: (the text without them, whether any was found)."""
    found = False

    def _hide(match: re.Match[str]) -> str:
        nonlocal found
        found = True
        return f"{match.group('label')}{REDACTED}"

    return _SECRET.sub(_hide, text), found


def severity_answer(text: str) -> int | None:
    """The answer to the numbered severity question: a reply that starts with 1-4 ("2", "La 2.", "opción 3")."""
    for line in text.splitlines():
        if line.strip():
            match = _SEVERITY.match(line)
            return int(match.group(1)) if match else None
    return None


def ticket_numbers(subject: str) -> list[str]:
    """The ticket numbers a subject carries ("[SOP-2026-000123]")."""
    return _NUMBER.findall(subject)


def clean_subject(subject: str) -> str:
    """The subject without Re:/Fwd: prefixes and ticket tags."""
    plain = _NUMBER.sub("", subject)
    while True:
        shorter = _PREFIX.sub("", plain).strip()
        if shorter == plain.strip():
            return " ".join(shorter.split())
        plain = shorter


def reply_subject(number: str, subject: str) -> str:
    """ "Re: [SOP-2026-000123] <the client's subject>": the number threads it even when headers are lost."""
    rest = clean_subject(subject)
    return f"Re: [{number}] {rest}".strip() if rest else f"[{number}]"


_TAG = re.compile(r"<[^>]+>")


def plain_from_html(text: str) -> str:
    """A catalogue text rendered for Telegram (HTML) as e-mail text: links spelled out, tags dropped."""
    text = re.sub(r'<a\s+href="([^"]+)"[^>]*>(.*?)</a>', lambda m: f"{m.group(2)} ({m.group(1)})", text, flags=re.S)
    return html.unescape(_TAG.sub("", text)).strip()
