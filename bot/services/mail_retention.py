"""Files that came by e-mail are kept only until they are in their card's thread: once a day (like
bot.services.retention) the bytes of those Slack has are forgotten; their names and sizes stay."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from bot.delivery import Scheduler
from bot.services.context import Services
from storage import Tx
from storage.records import Timer

__all__ = ["MAIL_FILES", "arm", "register_timers"]

log = logging.getLogger(__name__)

MAIL_FILES = "mail_files_prune"
BATCH = 500


async def arm(tx: Tx, due: datetime) -> None:
    """The prune of due's day (one a day across processes: the dedupe key is the day)."""
    day = due.astimezone(UTC).date().isoformat()
    await tx.schedule_timer(MAIL_FILES, due, dedupe_key=f"{MAIL_FILES}:{day}")


def register_timers(scheduler: Scheduler, services: Services) -> None:
    async def run(tx: Tx, timer: Timer) -> None:
        now = services.clock()
        forgot = await tx.prune_mail_files(BATCH)
        if forgot >= BATCH:
            await tx.schedule_timer(MAIL_FILES, now, dedupe_key=f"{MAIL_FILES}:more:{timer.id}")
        else:
            await arm(tx, now + timedelta(days=1))
        if forgot:
            log.info("mail files: forgot the bytes of %d file(s) already in their card's thread", forgot)

    scheduler.register(MAIL_FILES, run)
