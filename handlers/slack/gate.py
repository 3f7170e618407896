"""The door of /slack/events: what is checked on the raw bytes before Bolt (or anything) parses them.

Bolt parses the body when it builds its request, before its own signature check: malformed JSON, a form
payload that is not JSON, a JSON array or a non-numeric timestamp then raise inside the framework (a 500
and a traceback), even for an unsigned request. LIMITS.md: Slack signs `v0:{timestamp}:{body}` with the
signing secret (HMAC-SHA256) and a timestamp older than five minutes must be refused.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import parse_qs

from slack_sdk.signature import SignatureVerifier


def slack_request_problem(secret: str, headers: Mapping[str, str], body: bytes) -> tuple[int, str] | None:
    """Why a request to /slack/events must be refused (status, reason), or None when it may be handled.

    Order matters: the timestamp and the signature first (unsigned bytes are never parsed), then the shape."""
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not timestamp.isascii() or not timestamp.isdigit() or not signature:
        return 401, "missing or malformed signature headers"
    if not SignatureVerifier(secret).is_valid(body, timestamp, signature):
        return 401, "invalid or expired signature"
    content_type = headers.get("Content-Type", "").split(";")[0].strip().lower()
    try:
        if content_type == "application/json":
            payload = json.loads(body)
        elif content_type == "application/x-www-form-urlencoded":
            form = parse_qs(body.decode("utf-8"), strict_parsing=bool(body))
            payload = json.loads(form["payload"][0]) if "payload" in form else form
        else:
            return 415, "expected JSON or a form"
    except (ValueError, UnicodeDecodeError):
        return 400, "the body is not what Slack sends"
    if not isinstance(payload, dict):
        return 400, "the body is not what Slack sends"
    return None
