"""Signed deliveries to the bot's request URL (or its Socket Mode connection), with Slack's ack rules."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

import aiohttp

from sandbox.slack.signing import signed_headers

if TYPE_CHECKING:
    from sandbox.slack.standin import SlackStandIn

MAX_RETRIES = 3


class SocketTransport(Protocol):
    """A Socket Mode connection the stand-in can push envelopes through instead of HTTP."""

    @property
    def connected(self) -> bool: ...

    async def send(
        self, kind: str, payload: dict[str, Any], retry: int, reason: str | None, ack_within: float
    ) -> Attempt: ...


class DeliveryError(Exception):
    """The stand-in has nowhere to deliver (no request URL and no Socket Mode connection)."""


@dataclass
class Attempt:
    """One HTTP request (or envelope) Slack sent, and how the app answered."""

    retry_num: int
    status: int | None
    reason: str | None
    elapsed: float
    body: str = ""
    # What went over the wire, so a test can replay the very same signed bytes.
    sent: tuple[str, dict[str, str]] | None = None


@dataclass
class Delivery:
    """Everything sent for one event or interaction; `response` is the acknowledged answer's JSON."""

    kind: str  # "events_api" or "interactive"
    payload: dict[str, Any]
    attempts: list[Attempt] = field(default_factory=list)
    response: dict[str, Any] | None = None

    @property
    def acked(self) -> bool:
        return any(a.status is not None and 200 <= a.status < 300 for a in self.attempts)

    @property
    def retries(self) -> int:
        return len(self.attempts) - 1


def encode(kind: str, payload: dict[str, Any]) -> tuple[str, str]:
    """Body and content type as Slack sends them: JSON for events, `payload=<json>` for interactions."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    if kind == "events_api":
        return text, "application/json"
    return f"payload={quote(text, safe='')}", "application/x-www-form-urlencoded"


class Deliverer:
    """Sends deliveries the way Slack does and records what happened, including violations."""

    def __init__(self, standin: SlackStandIn) -> None:
        self._s = standin
        self._session: aiohttp.ClientSession | None = None
        self.log: list[Delivery] = []

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def _http(self, kind: str, payload: dict[str, Any], retry: int, reason: str | None) -> Attempt:
        body, content_type = encode(kind, payload)
        # Signed with the wall clock even when the stand-in's clock is faked: the app checks the
        # timestamp against its own clock (300 s window).
        headers = signed_headers(self._s.config.signing_secret, int(time.time()), body)
        headers["Content-Type"] = content_type
        headers["User-Agent"] = "Slackbot 1.0 (+https://api.slack.com/robots)"
        if retry:
            headers["X-Slack-Retry-Num"] = str(retry)
            headers["X-Slack-Retry-Reason"] = reason or "http_error"
        return await self._send(body, headers, retry)

    async def _send(self, body: str, headers: dict[str, str], retry: int) -> Attempt:
        url = self._s.config.request_url
        if not url:
            raise DeliveryError("no request URL configured and no Socket Mode connection open")
        started = time.monotonic()
        timeout = aiohttp.ClientTimeout(total=self._s.config.ack_timeout)
        try:
            async with self._client().post(url, data=body.encode(), headers=headers, timeout=timeout) as resp:
                text = await resp.text()
                attempt = Attempt(retry, resp.status, None, time.monotonic() - started, text, (body, headers))
                if resp.headers.get("X-Slack-No-Retry") == "1":
                    attempt.reason = "no_retry"
                return attempt
        except TimeoutError:
            return Attempt(retry, None, "http_timeout", time.monotonic() - started, sent=(body, headers))
        except aiohttp.ClientError as exc:
            return Attempt(retry, None, "connection_failed", time.monotonic() - started, str(exc), (body, headers))

    async def _once(self, kind: str, payload: dict[str, Any], retry: int, reason: str | None) -> Attempt:
        socket = self._s.socket
        if socket is not None and socket.connected:
            return await socket.send(kind, payload, retry, reason, self._s.config.ack_timeout)
        return await self._http(kind, payload, retry, reason)

    async def event(self, payload: dict[str, Any]) -> Delivery:
        """Deliver an `event_callback`, retrying up to 3 times when the app does not ack in time."""
        delivery = Delivery("events_api", payload)
        self.log.append(delivery)
        reason: str | None = None
        for retry in range(MAX_RETRIES + 1):
            if retry:
                delays = self._s.config.retry_delays
                await asyncio.sleep(delays[min(retry - 1, len(delays) - 1)])
            attempt = await self._once("events_api", payload, retry, reason)
            delivery.attempts.append(attempt)
            self._s.emit(
                "delivery",
                {
                    "kind": "events_api",
                    "event_id": payload.get("event_id"),
                    "retry": retry,
                    "status": attempt.status,
                    "reason": attempt.reason,
                },
            )
            if attempt.status is not None and 200 <= attempt.status < 300:
                delivery.response = _json(attempt.body)
                break
            if attempt.reason == "no_retry":
                break
            reason = attempt.reason or "http_error"
        if not delivery.acked:
            self._s.violate(
                "unacked_event",
                "events_api",
                reason or "http_error",
                event_id=payload.get("event_id"),
                attempts=len(delivery.attempts),
            )
        return delivery

    async def interactive(self, payload: dict[str, Any]) -> Delivery:
        """Deliver an interaction once; no ack within 3 s is what the user sees as "operation_timeout"."""
        delivery = Delivery("interactive", payload)
        self.log.append(delivery)
        attempt = await self._once("interactive", payload, 0, None)
        delivery.attempts.append(attempt)
        self._s.emit(
            "delivery",
            {"kind": "interactive", "type": payload.get("type"), "status": attempt.status, "reason": attempt.reason},
        )
        if attempt.status is not None and 200 <= attempt.status < 300:
            delivery.response = _json(attempt.body)
        elif attempt.reason == "http_timeout":
            self._s.violate(
                "unacked_interaction", str(payload.get("type")), "operation_timeout", elapsed=round(attempt.elapsed, 3)
            )
        else:
            self._s.violate(
                "failed_interaction",
                str(payload.get("type")),
                f"http_{attempt.status}",
                reason=attempt.reason,
                body=attempt.body[:300],
            )
        return delivery

    async def url_verification(self) -> bool:
        """Slack's check of a new request URL: the app must echo the challenge."""
        challenge = secrets.token_urlsafe(24)
        payload = {"token": self._s.config.verification_token, "challenge": challenge, "type": "url_verification"}
        attempt = await self._http("events_api", payload, 0, None)
        answer = _json(attempt.body) if attempt.status == 200 else None
        echoed = attempt.body.strip() == challenge or (answer or {}).get("challenge") == challenge
        if not echoed:
            self._s.violate("url_verification_failed", "events_api", f"http_{attempt.status}", body=attempt.body[:300])
        return echoed

    async def replay(self, delivery: Delivery, *, same_bytes: bool = False) -> Delivery:
        """Deliver an earlier payload again (same event_id / action); freshly signed.

        With `same_bytes`, resend the first attempt's exact body and headers, signature and timestamp
        included, as an attacker replaying a captured request inside the 300 s window would.
        """
        first = delivery.attempts[0] if delivery.attempts else None
        if same_bytes:
            if first is None or first.sent is None:
                raise DeliveryError("that delivery did not go over HTTP; nothing to resend byte for byte")
            again = Delivery(delivery.kind, delivery.payload)
            attempt = await self._send(*first.sent, 0)
            again.attempts.append(attempt)
            if attempt.status is not None and 200 <= attempt.status < 300:
                again.response = _json(attempt.body)
            self.log.append(again)
            return again
        if delivery.kind == "events_api":
            return await self.event(delivery.payload)
        return await self.interactive(delivery.payload)


def _json(body: str) -> dict[str, Any] | None:
    if not body.strip():
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
