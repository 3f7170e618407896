"""Downloading a file an agent shared in a thread: its url_private, with the bot token, only from Slack's hosts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import aiohttp

from bot.delivery import FileTooBig, PermanentFailure, Unavailable

__all__ = ["SlackFileFetcher", "slack_file_fetcher"]

# Downloads the bytes at a Slack file's url_private, at most `limit` of them (raises FileTooBig beyond).
SlackFileFetcher = Callable[[str, int], Awaitable[bytes]]
SLACK_FILE_HOSTS = frozenset({"files.slack.com"})
_CHUNK = 64 * 1024


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def slack_file_fetcher(token: str, api_base_url: str = "", *, timeout: float = 60.0) -> SlackFileFetcher:
    """A downloader that sends the bot token to Slack's file host only (or to the configured Web API's own host,
    the sandbox's stand-in): a url in an event is never trusted with the token as it is."""
    allowed = {("https", host) for host in SLACK_FILE_HOSTS}
    if api_base_url:
        allowed.add(_origin(api_base_url))

    async def fetch(url: str, limit: int) -> bytes:
        if _origin(url) not in allowed:
            raise PermanentFailure(f"not a Slack file address: {urlsplit(url).netloc or url[:40]}")
        headers = {"Authorization": f"Bearer {token}"}
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as http,
                http.get(url, headers=headers, allow_redirects=False) as response,
            ):
                if response.status >= 500:
                    raise Unavailable(f"slack file host answered {response.status}")
                if response.status != 200:
                    raise PermanentFailure(f"slack file host answered {response.status}")
                if response.content_type == "text/html":
                    # Slack answers a download without a valid token with its sign-in page, status 200.
                    raise PermanentFailure("slack answered its sign-in page: the token may not read this file")
                data = bytearray()
                async for chunk in response.content.iter_chunked(_CHUNK):
                    data += chunk
                    if len(data) > limit:
                        raise FileTooBig(f"over {limit} bytes")
                return bytes(data)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise Unavailable(f"{type(exc).__name__}: {exc}") from exc

    return fetch
