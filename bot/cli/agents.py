"""`supportbot agents`: the consultants and managers on Slack and their roles (P-ESC-2: who approves an
escalation); a person who left is deactivated, and none of their buttons works again."""

from __future__ import annotations

import argparse
from typing import Any

from bot.cli.base import CliError, command, transaction
from bot.cli.parser import Noun, choices, positive_int
from bot.cli.text import emit, say, yes_no
from bot.clock import utcnow
from bot.domain.types import Role, TicketStatus
from bot.settings import Settings
from bot.validation import check_name
from storage import Tx
from storage.records import Agent

__all__ = ["add_parsers"]


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    agents = Noun(sub, "agents")
    (agents.verb("add").arg("--name", required=True).arg("--slack-id", required=True)
     .arg("--role", required=True, choices=choices(Role)))  # fmt: skip
    agents.verb("list").arg("--role", choices=choices(Role), default=None).arg("--json", action="store_true")
    agents.verb("deactivate").arg("agent_id", type=positive_int, metavar="ID")
    agents.verb("role").arg("agent_id", type=positive_int, metavar="ID").arg(
        "--role", required=True, choices=choices(Role)
    )


async def _agent(tx: Tx, agent_id: int) -> Agent:
    agent = await tx.get_agent(agent_id)
    if agent is None:
        raise CliError(say("missing.agent", id=agent_id))
    return agent


@command("agents", "add")
async def _agents_add(args: argparse.Namespace, settings: Settings) -> int:
    slack_id = args.slack_id.strip()
    if not slack_id.isalnum() or slack_id[:1] not in {"U", "W"}:
        raise CliError(say("invalid.slack_id", value=slack_id))
    async with transaction(settings) as tx:
        name = check_name(args.name)
        existing = await tx.get_agent_by_slack(slack_id)
        if existing is not None:
            raise CliError(say("duplicate.agent", slack_id=slack_id, name=existing.name))
        agent = await tx.add_agent(name, slack_id, Role(args.role))
    print(say("agent.added", id=agent.id, name=agent.name, slack_id=agent.slack_user_id,
              role=say(f"role.{agent.role.value}")))  # fmt: skip
    return 0


@command("agents", "list")
async def _agents_list(args: argparse.Namespace, settings: Settings) -> int:
    async with transaction(settings) as tx:
        agents = await tx.list_agents(Role(args.role) if args.role else None)
    rows: list[dict[str, Any]] = [
        {"id": a.id, "name": a.name, "slack_id": a.slack_user_id, "role": a.role.value, "active": a.active}
        for a in agents
    ]
    if not args.json:
        rows = [{**r, "role": say(f"role.{r['role']}"), "active": yes_no(r["active"])} for r in rows]
    emit(rows, [("id", "id"), ("name", "name"), ("slack_id", "slack_id"), ("role", "role"), ("active", "active")],
         as_json=args.json)  # fmt: skip
    return 0


@command("agents", "deactivate")
async def _agents_deactivate(args: argparse.Namespace, settings: Settings) -> int:
    """The person left: no button of theirs works again (every press is checked on the server), their open
    tickets are listed for a manager to reassign."""
    async with transaction(settings) as tx:
        agent = await _agent(tx, args.agent_id)
        agent = await tx.set_agent_active(agent.id, False)
        open_tickets = await tx.list_tickets(
            status=(TicketStatus.ASSIGNED, TicketStatus.WAITING_CLIENT), assignee=agent.id
        )
        await tx.append_audit(None, at=utcnow(), actor_kind="cli", actor_id="cli", action="agent_deactivated",
                              data={"agent_id": agent.id, "slack_id": agent.slack_user_id})  # fmt: skip
    print(say("agent.deactivated", name=agent.name, slack_id=agent.slack_user_id))
    if open_tickets:
        print(say("agent.still_assigned", count=len(open_tickets), tickets=", ".join(t.number for t in open_tickets)))
    return 0


@command("agents", "role")
async def _agents_role(args: argparse.Namespace, settings: Settings) -> int:
    async with transaction(settings) as tx:
        agent = await _agent(tx, args.agent_id)
        before = agent.role
        agent = await tx.set_agent_role(agent.id, Role(args.role))
        await tx.append_audit(None, at=utcnow(), actor_kind="cli", actor_id="cli", action="agent_role_changed",
                              data={"agent_id": agent.id, "from": before.value, "to": agent.role.value})  # fmt: skip
    print(say("agent.role", name=agent.name, role=say(f"role.{agent.role.value}")))
    return 0
