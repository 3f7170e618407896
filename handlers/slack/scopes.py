"""The Slack OAuth scopes the bot needs, and which Web API method or event needs each (Slack's method reference).

`BOT_SCOPES` is what deploy/slack-manifest.yml asks for and what `supportbot doctor` expects an install to have
granted. tests/deploy/test_slack_manifest.py reads the code for every Web API method it calls and every event
it subscribes to, and fails when one is missing from these tables or its scope from the manifest: a new call
cannot ship without its scope, and the manifest asks for nothing the code does not use.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "BOT_SCOPES",
    "EVENT_SCOPES",
    "FILE_DOWNLOAD_SCOPES",
    "METHOD_SCOPES",
    "missing_scopes",
]

# Web API method -> the bot-token scopes that allow it as the bot uses it: ANY ONE of them is enough. The
# conversations.* methods take the scope of the kind of conversation: the bot reads only channels (public or
# private: a support channel may be either) and opens DMs with one person only, so the im/mpim/channels:manage
# alternatives Slack also lists are left out. An empty set: no scope is needed.
METHOD_SCOPES: dict[str, frozenset[str]] = {
    "auth.test": frozenset(),
    "chat.postMessage": frozenset({"chat:write"}),
    "chat.postEphemeral": frozenset({"chat:write"}),
    "chat.update": frozenset({"chat:write"}),
    "chat.delete": frozenset({"chat:write"}),
    "chat.getPermalink": frozenset(),
    "conversations.history": frozenset({"channels:history", "groups:history"}),
    "conversations.replies": frozenset({"channels:history", "groups:history"}),
    "conversations.info": frozenset({"channels:read", "groups:read"}),
    "conversations.members": frozenset({"channels:read", "groups:read"}),
    "conversations.open": frozenset({"im:write"}),
    "files.getUploadURLExternal": frozenset({"files:write"}),
    "files.completeUploadExternal": frozenset({"files:write"}),
    "reactions.add": frozenset({"reactions:write"}),
    "users.info": frozenset({"users:read"}),
    "views.open": frozenset(),
    "views.push": frozenset(),
    "views.update": frozenset(),
    "views.publish": frozenset(),
}

# Events API event (as the manifest names it) -> the scopes that deliver it (any one; empty: none needed).
# Bolt's app.event("message") is delivered by the message.* events of the conversations the bot is in.
EVENT_SCOPES: dict[str, frozenset[str]] = {
    "app_home_opened": frozenset(),
    "app_mention": frozenset({"app_mentions:read"}),
    "message.channels": frozenset({"channels:history"}),
    "message.groups": frozenset({"groups:history"}),
    "message.im": frozenset({"im:history"}),
    "message.mpim": frozenset({"mpim:history"}),
    "reaction_added": frozenset({"reactions:read"}),
    "member_joined_channel": frozenset({"channels:read", "groups:read"}),
}

# Downloading a file an agent shared in a thread (its url_private, with the bot token) needs files:read.
FILE_DOWNLOAD_SCOPES = frozenset({"files:read"})

# What the manifest requests. A support channel may be public or private, so both kinds are asked for.
BOT_SCOPES: tuple[str, ...] = (
    "channels:history",  # thread replies in a public support channel (message.channels), a card found again
    "channels:read",  # supportbot doctor: the support channel exists and the bot is in it (conversations.info)
    "chat:write",  # cards, thread posts, ephemeral messages, DMs, updates
    "files:read",  # files agents share in a card's thread, relayed to the client
    "files:write",  # the client's photos and files, uploaded into the card's thread
    "groups:history",  # the same as channels:history, for a private support channel (message.groups)
    "groups:read",  # the same as channels:read, for a private support channel
    "im:write",  # escalation requests to managers by DM (conversations.open)
    "reactions:write",  # the mark on an agent's reply once the client received it (reactions.add)
    "users:read",  # supportbot doctor: every agent's Slack id exists (users.info)
)


def missing_scopes(granted: Iterable[str], wanted: Iterable[str] = BOT_SCOPES) -> list[str]:
    """The scopes in `wanted` that `granted` lacks, sorted (Slack's x-oauth-scopes header, split)."""
    have = {scope.strip() for scope in granted if scope.strip()}
    return sorted(set(wanted) - have)
