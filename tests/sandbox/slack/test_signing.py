"""Request signing: Slack's published test vector, slack_sdk's verifier, and a bolt app refusing a wrong secret."""

from __future__ import annotations

import time

from slack_sdk.signature import SignatureVerifier

from sandbox.slack import User
from sandbox.slack.delivery import encode
from sandbox.slack.harness import Running, serve
from sandbox.slack.signing import sign, signed_headers, verify
from tests.sandbox.slack.conftest import build_bolt, card_blocks

VECTOR_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
VECTOR_TS = "1531420618"
VECTOR_BODY = (
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
    "&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
    "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    "&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
VECTOR_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


def test_slack_documented_signing_vector() -> None:
    assert sign(VECTOR_SECRET, VECTOR_TS, VECTOR_BODY) == VECTOR_SIGNATURE


def test_verify_accepts_vector_inside_window_and_refuses_outside() -> None:
    now = float(VECTOR_TS) + 299
    assert verify(VECTOR_SECRET, VECTOR_TS, VECTOR_BODY, VECTOR_SIGNATURE, now=now)
    assert not verify(VECTOR_SECRET, VECTOR_TS, VECTOR_BODY, VECTOR_SIGNATURE, now=float(VECTOR_TS) + 301)
    assert not verify(VECTOR_SECRET, VECTOR_TS, VECTOR_BODY + "x", VECTOR_SIGNATURE, now=now)
    assert not verify("other-secret", VECTOR_TS, VECTOR_BODY, VECTOR_SIGNATURE, now=now)
    assert not verify(VECTOR_SECRET, "not-a-number", VECTOR_BODY, VECTOR_SIGNATURE, now=now)


def test_slack_sdk_verifier_accepts_what_the_standin_signs() -> None:
    body, _ = encode("interactive", {"type": "block_actions", "text": "ñandú & <b>"})
    ts = int(time.time())
    headers = signed_headers("s3cret", ts, body)
    verifier = SignatureVerifier("s3cret")
    assert verifier.is_valid(body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"])
    assert not SignatureVerifier("wrong").is_valid(
        body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    )


async def test_bolt_with_wrong_secret_refuses_the_delivery(slack: Running, agent: User) -> None:
    tiny = build_bolt(slack, "not-the-signing-secret")
    async with serve(tiny.app.web_app(path="/slack/events")) as base:
        slack.standin.config.request_url = f"{base}/slack/events"
        resp = await slack.client.chat_postMessage(channel="C0SUPPORT", text="t", blocks=card_blocks("SOP-1"))
        delivery = await slack.standin.actions.click(agent, "C0SUPPORT", str(resp["ts"]), "claim")
    assert not delivery.acked and delivery.attempts[0].status == 401
    assert tiny.actions == []
    assert [(v.kind, v.error) for v in slack.standin.violations] == [("failed_interaction", "http_401")]
