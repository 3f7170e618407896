"""Slack request signing (v0 HMAC-SHA256), the same scheme Slack uses to sign deliveries to an app."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_VERSION = "v0"
# Slack rejects (and tells apps to reject) requests whose timestamp is further off than this.
MAX_CLOCK_SKEW_SECONDS = 300


def sign(secret: str, timestamp: int | str, body: str | bytes) -> str:
    """Return the `X-Slack-Signature` value for a raw body sent at `timestamp`."""
    raw = body.encode() if isinstance(body, str) else body
    base = f"{SIGNATURE_VERSION}:{timestamp}:".encode() + raw
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def verify(secret: str, timestamp: str, body: str | bytes, signature: str, *, now: float) -> bool:
    """Check a signature the way a Slack app must: right HMAC and a timestamp within 300 s."""
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs(now - ts) > MAX_CLOCK_SKEW_SECONDS:
        return False
    return hmac.compare_digest(sign(secret, ts, body), signature)


def signed_headers(secret: str, timestamp: int, body: str | bytes) -> dict[str, str]:
    """Headers Slack adds to every request it sends to an app's request URL."""
    return {
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": sign(secret, timestamp, body),
    }
