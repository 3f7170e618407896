"""Where the Fernet keys come from: SECRETS_KEYS, or the key file that `supportbot keys generate` writes."""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.fernet import Fernet

from bot.settings import Settings
from storage import SecretBox, Store
from storage.records import InboxStatus


class KeysUnavailable(Exception):
    """The secret keys are missing or unreadable; the message says what to do. `key` and `params` name the
    sentence in the catalogues (cli.keys.*) for the command; str() is the English line the logs carry."""

    def __init__(self, key: str, message: str, **params: object) -> None:
        super().__init__(message)
        self.key = key
        self.params = params


def read_key_file(path: Path) -> list[str]:
    """Keys in the file, newest first (one a line; blank lines and # comments ignored).

    A file that group or others may read is refused, as ssh refuses such a private key."""
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise KeysUnavailable(
            "unreadable_file", f"cannot read the key file {path}: {exc.strerror}", path=path, why=exc.strerror
        ) from None
    if mode & 0o077:
        shown = f"{stat.S_IMODE(mode):04o}"
        raise KeysUnavailable(
            "open_file", f"the key file {path} can be read by others (mode {shown}); run `chmod 600 {path}`",
            path=path, mode=shown,
        )  # fmt: skip
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
                "not_a_key", f"key #{i + 1} in {source} is not a Fernet key (32 url-safe base64-encoded bytes); "
                "make one with `supportbot keys generate`", number=i + 1, source=source,
            ) from None  # fmt: skip
    return keys


def secret_box(settings: Settings, keys: list[str]) -> SecretBox:
    """The box of the running bot: keys from the file are read again when a token opens with none of them
    (`keys rotate` beside a running bot); keys from SECRETS_KEYS cannot change under a running process."""
    reload = None if settings.secrets_keys else (lambda: configured_keys(settings))
    return SecretBox(keys, reload=reload)


def is_token(value: object) -> bool:
    """A Fernet token (version byte 0x80, so its base64 starts with gAAAAA): how sealed values are found."""
    return isinstance(value, str) and value.startswith("gAAAAA") and len(value) >= 100


def tokens_in(value: object) -> list[str]:
    """Every Fernet token inside a JSON-like value (a draft's data, an inbox payload)."""
    if is_token(value):
        return [str(value)]
    if isinstance(value, Mapping):
        return [t for v in value.values() for t in tokens_in(v)]
    if isinstance(value, list | tuple):
        return [t for v in value for t in tokens_in(v)]
    return []


@dataclass(frozen=True, slots=True)
class Sealed:
    """Where an encrypted value is kept: a credential, a draft of a chat, an inbox entry (kind), and its id.
    The command names it with the catalogues' cli.keys.where.<kind>; str() is the English name the logs use."""

    kind: str
    ref: int

    def __str__(self) -> str:
        return {"credential": "credential {}", "draft": "draft of chat {}", "inbox": "inbox entry {}"}[
            self.kind
        ].format(self.ref)


async def stored_tokens(store: Store) -> list[tuple[Sealed, str]]:
    """Every encrypted value the store holds, as (where, token): credentials, drafts (passwords typed during an
    intake) and inbox entries not handled yet (sealed: they may hold a password)."""
    far = datetime.max.replace(tzinfo=UTC)
    async with store.transaction() as tx:
        found = [(Sealed("credential", cid), token) for cid, token in await tx.list_credential_tokens()]
        for draft in await tx.list_drafts_older_than(far):
            found += [(Sealed("draft", draft.chat_id), t) for t in tokens_in(draft.data)]
        for entry in await tx.list_inbox((InboxStatus.PENDING, InboxStatus.WORKING), limit=1_000_000):
            found += [(Sealed("inbox", entry.id), t) for t in tokens_in(entry.payload)]
    return found
