"""A faithful local stand-in of the Telegram Bot API, and the driver that plays the client in tests.

Typical end-to-end test::

    async with running_standin(callback_answer_timeout=0.5) as standin:
        app = build_application(token=standin.token, base_url=standin.urls.base_url,
                                base_file_url=standin.urls.base_file_url)
        async with polling(app):
            laura = TelegramClient(standin, standin.create_user("Laura", phone="+52155..."))
            await laura.send("/start ABC123")      # returns once the bot has settled
            await laura.tap("sev:1")               # the newest message carrying that button
            assert "SOP-" in laura.last_text()
            assert standin.violations == []        # nothing Telegram would have refused

(`running_standin` and `polling` live in `sandbox.telegram.testing`.) The control API for the
browser page is JSON under `/sandbox/telegram/` with Server-Sent Events at `/sandbox/telegram/events`.
"""

from sandbox.telegram.actions import ActionError, Sent
from sandbox.telegram.driver import TelegramClient
from sandbox.telegram.errors import ApiError
from sandbox.telegram.models import User, Violation
from sandbox.telegram.standin import SettleTimeout, StandIn, StandInUrls, start

__all__ = [
    "ActionError",
    "ApiError",
    "Sent",
    "SettleTimeout",
    "StandIn",
    "StandInUrls",
    "TelegramClient",
    "User",
    "Violation",
    "start",
]
