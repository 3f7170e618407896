"""Encryption of stored credentials at rest: Fernet tokens under a MultiFernet key ring."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

__all__ = ["SecretBox", "SecretError", "generate_key"]

RELOAD_INTERVAL_S = 1.0  # a token no key opens reads the key file again at most this often


class SecretError(Exception):
    """A key or token is unusable; the message never contains the plaintext or the key."""


def generate_key() -> str:
    """Returns: a fresh url-safe base64 Fernet key."""
    return Fernet.generate_key().decode("ascii")


class SecretBox:
    """Encrypts with the first key, decrypts with any of them (keys listed newest first)."""

    def __init__(self, keys: Sequence[str], *, reload: Callable[[], Sequence[str]] | None = None) -> None:
        """Args: keys, newest first; at least one. Raises SecretError on an empty list or a malformed key.

        reload: where the keys come from (the key file). A token no known key opens makes the box read the keys
        again (at most once a second) before giving up: `supportbot keys rotate` run beside a running bot puts a
        new key first in the file and re-encrypts the secrets under it, and the bot goes on reading them."""
        self._reload = reload
        self._reloaded_at = float("-inf")
        self._keys: tuple[str, ...] = ()
        self._load(keys)

    def _load(self, keys: Sequence[str]) -> None:
        if isinstance(keys, str):
            # A bare string would be iterated character by character: refuse instead of failing oddly.
            raise SecretError("SecretBox needs a sequence of keys, not a single string")
        if not keys:
            raise SecretError("SecretBox needs at least one key")
        fernets: list[Fernet] = []
        for index, key in enumerate(keys):
            try:
                fernets.append(Fernet(key.strip().encode("ascii")))
            except (ValueError, UnicodeEncodeError):
                raise SecretError(f"secret key #{index + 1} is not a valid Fernet key") from None
        self._ring = MultiFernet(fernets)
        self._count = len(fernets)
        self._keys = tuple(k.strip() for k in keys)

    def _refreshed(self) -> bool:
        """Read the keys again if they may have changed; True when the ring now holds other keys."""
        now = time.monotonic()
        if self._reload is None or now - self._reloaded_at < RELOAD_INTERVAL_S:
            return False
        self._reloaded_at = now
        try:
            keys = tuple(k.strip() for k in self._reload())
            if not keys or keys == self._keys:
                return False
            self._load(keys)
        except Exception:  # a half-written or unreadable key file: keep the keys we have
            return False
        return True

    def __repr__(self) -> str:
        return f"SecretBox(<{self._count} key(s)>)"

    def encrypt(self, plaintext: str) -> str:
        """Args: plaintext. Returns: a Fernet token (ASCII text) under the first key."""
        return self._ring.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str, ttl: int | None = None) -> str:
        """Args: token, optional max age in seconds. Returns: the plaintext. Raises SecretError."""
        try:
            raw = self._ring.decrypt(token.encode("ascii"), ttl=ttl)
        except (InvalidToken, UnicodeEncodeError):
            if not self._refreshed():
                raise SecretError("credential token cannot be decrypted with the configured keys") from None
            return self.decrypt(token, ttl)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise SecretError("credential token does not hold UTF-8 text") from None

    def rotate(self, token: str) -> str:
        """Args: a token under any known key. Returns: the same secret re-encrypted under the first key."""
        try:
            return self._ring.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeEncodeError):
            if not self._refreshed():
                raise SecretError("credential token cannot be rotated: no configured key opens it") from None
            return self.rotate(token)
