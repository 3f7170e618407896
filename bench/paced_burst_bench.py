"""200 clients confirming at once with both stand-ins enforcing the platforms' limits and the bot pacing itself.

Prepared (not measured): 200 demo contacts at the summary of a complete remote intake with one photo and a
TeamViewer password (one intake played for real, the others copies of its draft, see
bench.harness.prepare_confirmations), with the stand-ins' limits still off. Measured: the Telegram stand-in's
limits (about 1 message a second per chat, 30 a second per bot) and the Slack stand-in's (chat.postMessage
1 a second per channel, the method tiers) are turned on, a paced bot (delivery_pacing=True) is started on
that database, and all 200 tap "confirm" within a few milliseconds. The run ends when every card (with the
description) is in the support channel, every photo in its card's thread, and every client has their ticket
number. The baseline is the physical minimum: the Slack posts the run needed in the channel ÷ 1 a second.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench import BenchResult
from bench.harness import (
    delivery_checks,
    lag_line,
    percentile,
    prepare_confirmations,
    running_stack,
    slack_connections_line,
    wait_delivered,
)
from bench.intake_bench import quiet
from sandbox.slack.ratelimit import POST_MESSAGE_PER_SECOND

DEFAULT_N = 200
QUICK_N = 6
TARGET_RATIO = 1.2


async def _run(n: int) -> BenchResult:
    result = BenchResult(f"{n} clients confirming at once, platform limits on")
    with tempfile.TemporaryDirectory() as tmp:
        async with running_stack(Path(tmp), slack_limits=True) as stack:
            await stack.start_bot(pacing=False)
            prepared = time.perf_counter()
            ready = await prepare_confirmations(stack, n)
            prepared = time.perf_counter() - prepared
            bot = await stack.start_bot(pacing=True)
            stack.telegram.rate_limits = True
            stack.slack_peers.reset()
            posts_before = len(stack.slack.api_log)
            tapped: dict[int, float] = {}
            for r in ready:
                tapped[r.user.id] = time.time()
                await stack.telegram.tap(r.user, r.message_id, r.data)
            first = min(tapped.values())
            chats = [r.user.id for r in ready]
            seen = await wait_delivered(stack, chats, n / POST_MESSAGE_PER_SECOND * 2 + 60)
            done = time.time() - first
            problems = delivery_checks(stack, chats, seen)
            assert bot.dispatcher is not None
            counts = dict(bot.dispatcher.counts)
            if counts["rate_limited"]:
                problems.append(f"FAILED: the bot received {counts['rate_limited']} 429s")
            calls = stack.slack.api_log[posts_before:]
            channel = stack.settings.slack_support_channel
            posts = sum(1 for c in calls if c["method"] == "chat.postMessage" and c["args"].get("channel") == channel)
            statuses = stack.outbox_statuses()
            lines = [lag_line(bot), slack_connections_line(stack)]
            pacer_waits = bot.dispatcher.pacer.waits
            violations = len(stack.violations())
    result.ok = not problems
    result.lines += problems
    last_card = max(seen.card_at.values(), default=first) - first
    minimum = posts / POST_MESSAGE_PER_SECOND
    ratio = last_card / minimum if minimum else float("nan")
    latencies = [seen.card_at[c] - tapped[c] for c in seen.card_at]
    result.lines += [
        f"prepared in {prepared:.1f} s (not measured): {n} clients at the summary, each with a photo",
        f"delivered: {len(seen.card_at)}/{n} cards ({len(seen.described)} with the description), "
        f"{len(seen.files)}/{n} photos in the cards' threads, {len(seen.answered)}/{n} clients told their number; "
        f"outbox {statuses}; stand-in violations (429s included): {violations}; "
        f"429s the bot received: {counts['rate_limited']}",
        f"time to the last card: {last_card:.1f} s; physical minimum {posts} Slack posts in the channel "
        f"/ {POST_MESSAGE_PER_SECOND} a second = {minimum:.0f} s; ratio {ratio:.3f} "
        f"(target <= {TARGET_RATIO}: {'met' if ratio <= TARGET_RATIO else 'NOT met'})",
        f"everything delivered (photos, answers, outbox empty) after {done:.1f} s",
        f"confirm -> card: p50 {percentile(latencies, 50):.1f} s, "
        f"p99 {percentile(latencies, 99):.1f} s (paced: card k goes out about k seconds in)",
        f"dispatcher: {counts}; pacer waits {pacer_waits}",
        *lines,
    ]
    return result


def run(quick: bool) -> BenchResult:
    """Entry point for `python -m bench`."""
    quiet()
    return asyncio.run(_run(QUICK_N if quick else DEFAULT_N))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.paced_burst_bench", description=__doc__)
    parser.add_argument("--n", type=int, default=DEFAULT_N, help="clients confirming at once")
    args = parser.parse_args(argv)
    quiet()
    result = asyncio.run(_run(args.n))
    print(f"## {result.name}")
    for line in result.lines:
        print(line)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
