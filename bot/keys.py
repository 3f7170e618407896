"""Where the Fernet keys come from: SECRETS_KEYS, or the key file that `supportbot keys generate` writes."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet

from bot.settings import Settings


class KeysUnavailable(Exception):
    """The secret keys are missing or unreadable; the message says what to do."""


def read_key_file(path: Path) -> list[str]:
    """Keys in the file, newest first (one a line; blank lines and # comments ignored)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise KeysUnavailable(f"cannot read the key file {path}: {exc.strerror}") from None
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def write_key_file(path: Path, keys: list[str]) -> None:
    """Write the keys with mode 0600 (created that way: never world-readable, not even for an instant)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("# supportbot secret keys, newest first. Never commit this file.\n")
        fh.write("\n".join(keys) + "\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def configured_keys(settings: Settings) -> list[str]:
    """The keys in force: SECRETS_KEYS when set, else the key file."""
    keys = list(settings.secrets_keys) or read_key_file(settings.secrets_key_file)
    for i, key in enumerate(keys):
        try:
            Fernet(key.encode())
        except ValueError:
            source = "SECRETS_KEYS" if settings.secrets_keys else str(settings.secrets_key_file)
            raise KeysUnavailable(
                f"key #{i + 1} in {source} is not a Fernet key (32 url-safe base64-encoded bytes); "
                "make one with `supportbot keys generate`"
            ) from None
    return keys


def ensure_keys(settings: Settings) -> list[str]:
    """The keys in force, generating the key file on first start when none are configured."""
    keys = configured_keys(settings)
    if not keys:
        keys = [Fernet.generate_key().decode()]
        write_key_file(settings.secrets_key_file, keys)
    return keys
