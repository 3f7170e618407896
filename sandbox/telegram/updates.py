"""How updates reach the bot: getUpdates long polling, setWebhook/deleteWebhook, and webhook delivery."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any
from urllib.parse import urlparse

import aiohttp

from sandbox.telegram import errors
from sandbox.telegram.errors import bad_request
from sandbox.telegram.limits import as_bool, as_int, check_secret_token, decode_json_field
from sandbox.telegram.methods import Params, method
from sandbox.telegram.models import JSON
from sandbox.telegram.state import DEFAULT_ALLOWED, StandInState, Webhook

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret


def parse_allowed(raw: Any) -> frozenset[str] | None:
    """allowed_updates: a JSON list of update types; an empty list means the default set."""
    value = decode_json_field(raw, "can't parse allowed updates JSON object")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_request("can't parse allowed updates JSON object")
    return frozenset(value) if value else DEFAULT_ALLOWED


@method("getUpdates")
async def get_updates(st: StandInState, p: Params) -> list[JSON]:
    """Long polling: confirm below `offset`, wait up to `timeout` s, return at most `limit` updates."""
    if st.webhook is not None:
        raise errors.WEBHOOK_CONFLICT
    st.poll_generation += 1
    generation = st.poll_generation
    async with st.updates_changed:
        st.updates_changed.notify_all()  # an older poll still waiting learns it was superseded
    offset = p.get("offset")
    if offset not in (None, ""):
        off = as_int(offset, "offset")
        if off < 0:
            keep = st.pending[off:]
            for update in [u for u in st.pending if u not in keep]:
                st.mark_delivered(update)
        else:
            st.confirm_before(off)
    limit = as_int(p.get("limit", 100) or 100, "limit")
    limit = min(max(limit, 1), 100)
    timeout = max(0.0, float(p.get("timeout", 0) or 0))
    allowed = parse_allowed(p.get("allowed_updates"))
    if allowed is not None:
        st.allowed_updates = allowed
    st.drop_expired_updates()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with st.updates_changed:
        while not st.pending and not st.closed:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(st.updates_changed.wait(), remaining)
            if st.poll_generation != generation:
                raise errors.POLLING_CONFLICT
            if st.webhook is not None:
                raise errors.WEBHOOK_CONFLICT
    return [u.body for u in st.pending[:limit]]


def check_webhook_url(st: StandInState, url: str) -> None:
    """Telegram wants HTTPS on ports 443, 80, 88 or 8443; the sandbox allows plain HTTP unless strict."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise bad_request("bad webhook: Failed to resolve host: Name or service not known")
    if st.strict_webhook_url:
        if parsed.scheme != "https":
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if (parsed.port or 443) not in (443, 80, 88, 8443):
            raise bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")


@method("setWebhook")
async def set_webhook(st: StandInState, p: Params) -> bool:
    """Register (or, with an empty url, remove) the webhook; delivery starts at once."""
    url = str(p.get("url") or "")
    if not url:
        st.webhook = None
        return True
    check_webhook_url(st, url)
    secret = p.get("secret_token")
    if secret not in (None, ""):
        check_secret_token(str(secret))
    max_connections = as_int(p.get("max_connections", 40) or 40, "max_connections")
    if not 1 <= max_connections <= 100:
        raise bad_request("bad webhook: max_connections must be between 1 and 100")
    allowed = parse_allowed(p.get("allowed_updates"))
    if allowed is not None:
        st.allowed_updates = allowed
    if as_bool(p.get("drop_pending_updates", False)):
        st.pending.clear()
    st.webhook = Webhook(url, str(secret) if secret else None, max_connections, sorted(st.allowed_updates))
    async with st.updates_changed:
        st.updates_changed.notify_all()  # a waiting getUpdates now gets 409
    return True


@method("deleteWebhook")
async def delete_webhook(st: StandInState, p: Params) -> bool:
    """Back to getUpdates; optionally drop the updates nobody fetched yet."""
    st.webhook = None
    if as_bool(p.get("drop_pending_updates", False)):
        st.pending.clear()
    return True


@method("getWebhookInfo")
async def get_webhook_info(st: StandInState, p: Params) -> JSON:
    """The webhook's URL, queue length and last delivery error."""
    hook = st.webhook
    info: JSON = {
        "url": hook.url if hook else "",
        "has_custom_certificate": False,
        "pending_update_count": len(st.pending),
    }
    if hook:
        info["max_connections"] = hook.max_connections
        info["ip_address"] = hook.ip_address
        if hook.allowed_updates is not None:
            info["allowed_updates"] = hook.allowed_updates
        if hook.last_error_date:
            info["last_error_date"] = hook.last_error_date
            info["last_error_message"] = hook.last_error_message
    return info


@method("logOut")
async def log_out(st: StandInState, p: Params) -> bool:
    """Accepted and ignored: there is no cloud server to log out of."""
    return True


class WebhookDeliverer:
    """POSTs pending updates in order to the registered webhook; non-2xx answers are retried with back-off."""

    def __init__(self, state: StandInState) -> None:
        self.state = state
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self.attempts: list[tuple[int, int | None]] = []  # (update_id, status or None on network error)

    def start(self) -> None:
        """Run in the background until `stop`."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="telegram-standin-webhook")

    async def stop(self) -> None:
        """Stop delivering and close the HTTP session."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _run(self) -> None:
        st = self.state
        failures = 0
        while True:
            async with st.updates_changed:
                while st.webhook is None or not st.pending:
                    await st.updates_changed.wait()
            hook = st.webhook
            update = st.pending[0]
            ok, status, reason = await self._post(hook.url, hook.secret_token, update.body)
            self.attempts.append((update.update_id, status))
            if ok:
                failures = 0
                st.mark_delivered(update)
                continue
            failures += 1
            hook.last_error_date = int(st.clock())
            hook.last_error_message = reason
            st.record_violation("webhook_error", "webhook", reason, {"update_id": update.update_id}, status)
            delay = min(st.webhook_retry_max, st.webhook_retry_base * 2 ** (failures - 1))
            loop = asyncio.get_running_loop()
            end = loop.time() + delay
            # Back off, but stop waiting at once if the webhook is removed or replaced.
            while st.webhook is hook and loop.time() < end:  # noqa: ASYNC110 - polls a plain attribute
                await asyncio.sleep(min(0.02, end - loop.time()))

    async def _post(self, url: str, secret: str | None, body: JSON) -> tuple[bool, int | None, str]:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        headers = {SECRET_HEADER: secret} if secret else {}
        try:
            async with self._session.post(url, json=body, headers=headers) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return True, response.status, ""
                return (
                    False,
                    response.status,
                    f"Wrong response from the webhook: {response.status} {response.reason}",
                )
        except aiohttp.ClientConnectorError:
            return False, None, "Connection refused"
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.debug("webhook delivery failed", exc_info=True)
            return False, None, f"Connection error: {type(exc).__name__}"
