"""Encryption of stored credentials at rest: Fernet tokens under a MultiFernet key ring."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

__all__ = ["SecretBox", "SecretError", "generate_key"]


class SecretError(Exception):
    """A key or token is unusable; the message never contains the plaintext or the key."""


def generate_key() -> str:
    """Returns: a fresh url-safe base64 Fernet key."""
    return Fernet.generate_key().decode("ascii")


class SecretBox:
    """Encrypts with the first key, decrypts with any of them (keys listed newest first)."""

    def __init__(self, keys: Sequence[str]) -> None:
        """Args: keys, newest first; at least one. Raises SecretError on an empty list or a malformed key."""
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
            raise SecretError("credential token cannot be decrypted with the configured keys") from None
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise SecretError("credential token does not hold UTF-8 text") from None

    def rotate(self, token: str) -> str:
        """Args: a token under any known key. Returns: the same secret re-encrypted under the first key."""
        try:
            return self._ring.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeEncodeError):
            raise SecretError("credential token cannot be rotated: no configured key opens it") from None
