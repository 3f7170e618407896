"""Modals and App Home: trigger_id valid 3 s and once, stacks of 3, hash-guarded updates, per-user Home."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.errors import SlackApiError

from sandbox.slack.harness import Running


def modal(title: str = "Ticket", **extra: Any) -> dict[str, Any]:
    return {"type": "modal", "title": {"type": "plain_text", "text": title}, "blocks": [], **extra}


@pytest.fixture
def trigger(slack: Running) -> str:
    slack.standin.add_user("U0AGENT", "ana")
    return slack.standin.new_trigger("U0AGENT")


async def refused(call: Any) -> str:
    with pytest.raises(SlackApiError) as err:
        await call
    return str(err.value.response["error"])


async def test_trigger_opens_once(slack: Running, trigger: str) -> None:
    view = (await slack.client.views_open(trigger_id=trigger, view=modal()))["view"]
    assert view["id"].startswith("V") and view["root_view_id"] == view["id"] and view["hash"]
    assert slack.standin.stacks["U0AGENT"] == [view["id"]]
    assert await refused(slack.client.views_open(trigger_id=trigger, view=modal())) == "exchanged_trigger_id"


async def test_trigger_valid_for_three_seconds(slack: Running, trigger: str) -> None:
    slack.standin.triggers[trigger].issued -= 2.9
    assert (await slack.client.views_open(trigger_id=trigger, view=modal()))["ok"]
    late = slack.standin.new_trigger("U0AGENT")
    slack.standin.triggers[late].issued -= 3.1
    assert await refused(slack.client.views_open(trigger_id=late, view=modal())) == "expired_trigger_id"


async def test_unknown_trigger(slack: Running) -> None:
    assert await refused(slack.client.views_open(trigger_id="123.456.abc", view=modal())) == "invalid_trigger_id"


async def test_invalid_view_does_not_spend_the_trigger(slack: Running, trigger: str) -> None:
    assert await refused(slack.client.views_open(trigger_id=trigger, view=modal("t" * 25))) == "invalid_arguments"
    assert (await slack.client.views_open(trigger_id=trigger, view=modal()))["ok"]


async def test_update_with_hash_and_conflict(slack: Running, trigger: str) -> None:
    view = (await slack.client.views_open(trigger_id=trigger, view=modal()))["view"]
    updated = await slack.client.views_update(view_id=view["id"], hash=view["hash"], view=modal("Paso 2"))
    assert updated["view"]["title"]["text"] == "Paso 2" and updated["view"]["hash"] != view["hash"]
    stale = slack.client.views_update(view_id=view["id"], hash=view["hash"], view=modal("Paso 3"))
    assert await refused(stale) == "hash_conflict"
    assert (await slack.client.views_update(view_id=view["id"], view=modal("Sin hash")))["ok"]


async def test_update_by_external_id_and_not_found(slack: Running, trigger: str) -> None:
    await slack.client.views_open(trigger_id=trigger, view=modal(external_id="ticket-1"))
    resp = await slack.client.views_update(external_id="ticket-1", view=modal("Nuevo", external_id="ticket-1"))
    assert resp["view"]["title"]["text"] == "Nuevo"
    assert await refused(slack.client.views_update(view_id="V0NOPE", view=modal())) == "not_found"


async def test_push_up_to_three(slack: Running, trigger: str) -> None:
    root = (await slack.client.views_open(trigger_id=trigger, view=modal()))["view"]
    for step in (2, 3):
        pushed = await slack.client.views_push(trigger_id=slack.standin.new_trigger("U0AGENT"), view=modal(f"P{step}"))
        assert pushed["view"]["root_view_id"] == root["id"]
    assert len(slack.standin.stacks["U0AGENT"]) == 3
    fourth = slack.client.views_push(trigger_id=slack.standin.new_trigger("U0AGENT"), view=modal("P4"))
    assert await refused(fourth) == "push_limit_reached"


async def test_publish_home_per_user_with_hash(slack: Running) -> None:
    slack.standin.add_user("U0AGENT", "ana")
    slack.standin.add_user("U0BOSS", "jefa")
    home = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Mis tickets"}}]}
    first = (await slack.client.views_publish(user_id="U0AGENT", view=home))["view"]
    await slack.client.views_publish(user_id="U0BOSS", view={**home, "blocks": []})
    assert slack.standin.homes["U0AGENT"].blocks[0]["text"]["text"] == "Mis tickets"
    assert slack.standin.homes["U0BOSS"].blocks == []
    again = await slack.client.views_publish(user_id="U0AGENT", view=home, hash=first["hash"])
    assert again["view"]["id"] == first["id"]
    assert await refused(slack.client.views_publish(user_id="U0AGENT", view=home, hash=first["hash"])) == (
        "hash_conflict"
    )
    assert await refused(slack.client.views_publish(user_id="U0NOBODY", view=home)) == "user_not_found"
    assert await refused(slack.client.views_publish(user_id="U0AGENT", view=modal())) == "invalid_arguments"


async def test_blocks_get_ids_like_slack_fills_them(slack: Running, trigger: str) -> None:
    view = modal(
        blocks=[{"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Ok"}}]}]
    )
    opened = (await slack.client.views_open(trigger_id=trigger, view=view))["view"]
    assert opened["blocks"][0]["block_id"] and opened["blocks"][0]["elements"][0]["action_id"]
