"""deploy/Dockerfile, deploy/compose.yml and deploy/Caddyfile, read for what they promise: a slim non-root image
running `supportbot run` with a health check on /healthz that really works; two replicas on PostgreSQL behind a
reverse proxy that forwards exactly the paths the bot serves."""

from __future__ import annotations

import asyncio
import json
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web

from bot.app import TELEGRAM_WEBHOOK_PATH
from bot.settings import Settings
from sandbox.testing import running_world
from tests.deploy.slack_usage import ROOT, slack_events_route

DEPLOY = ROOT / "deploy"
BUILD_TOOLS = ("build-essential", "gcc", "g++", "make", "libffi-dev", "libssl-dev", "python3-dev")


@dataclass
class Instruction:
    stage: int
    name: str
    args: str


def dockerfile() -> list[Instruction]:
    """The Dockerfile's instructions (continuations joined, comments dropped), numbered by stage."""
    lines: list[str] = []
    pending = ""
    for raw in (DEPLOY / "Dockerfile").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        lines.append(pending + line)
        pending = ""
    stage = -1
    found = []
    for line in lines:
        name, _, args = line.partition(" ")
        if name.upper() == "FROM":
            stage += 1
        found.append(Instruction(stage, name.upper(), args.strip()))
    return found


def _final(instructions: list[Instruction]) -> list[Instruction]:
    last = max(i.stage for i in instructions)
    return [i for i in instructions if i.stage == last]


def _one(instructions: list[Instruction], name: str) -> str:
    found = [i.args for i in instructions if i.name == name]
    assert len(found) == 1, f"{name}: {found}"
    return found[0]


def _healthcheck_command(instructions: list[Instruction]) -> list[str]:
    args = _one(_final(instructions), "HEALTHCHECK")
    command = json.loads(args.split(" CMD ", 1)[1])
    assert isinstance(command, list)
    return [str(part) for part in command]


def test_the_image_is_built_in_one_stage_and_run_slim_and_unprivileged_from_another() -> None:
    instructions = dockerfile()
    final = _final(instructions)
    assert max(i.stage for i in instructions) >= 1, "a build stage and a run stage"
    base = _one(final, "FROM")
    args = {i.args.split("=", 1)[0]: i.args.split("=", 1)[1] for i in instructions if i.name == "ARG" and "=" in i.args}
    image = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], base.split()[0])
    assert "-slim" in image, image
    user = _one(final, "USER")
    assert user.split(":")[0] not in ("root", "0"), user
    assert json.loads(_one(final, "CMD")) == ["supportbot", "run"]
    assert not [i for i in final if i.name == "ENTRYPOINT"]
    assert any(i.name == "COPY" and i.args.startswith("--from=build ") for i in final), "the virtualenv comes built"
    for i in final:
        if i.name == "RUN":
            assert "pip install" not in i.args and not any(tool in i.args.split() for tool in BUILD_TOOLS), i.args


def test_the_build_stage_copies_every_package_the_project_ships() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = {p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    copied = {source for i in dockerfile() if i.stage == 0 and i.name == "COPY" for source in i.args.split()[:-1]}
    assert packages | {"pyproject.toml", project["project"]["readme"]} <= copied, copied
    assert any(i.name == "RUN" and "pip install ." in i.args for i in dockerfile() if i.stage == 0)


@pytest.fixture
async def answering(request: pytest.FixtureRequest) -> Any:
    """A /healthz that answers 503 with a reason, as the bot does when a worker loop is down."""
    app = web.Application()

    async def down(_: web.Request) -> web.Response:
        return web.json_response({"ok": False, "reason": "delivery loop is not running"}, status=503)

    app.router.add_get("/healthz", down)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield runner.addresses[0][1]
    await runner.cleanup()


async def _health(port: int) -> int:
    """The image's health check command, run here (the bot under test serves on this same loop)."""
    command = _healthcheck_command(dockerfile())
    assert command[0] == "python"
    env = {"HTTP_PORT": str(port)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, *command[1:], env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    return await asyncio.wait_for(process.wait(), 30)


async def test_the_health_check_passes_on_a_running_bot_and_fails_on_a_503(tmp_path: Path, answering: int) -> None:
    async with running_world(tmp_path) as world:
        port = int(world.bot.http_url.rsplit(":", 1)[1])
        assert await _health(port) == 0
    assert await _health(answering) != 0
    assert await _health(port) != 0  # nobody listens any more


# --- compose ---------------------------------------------------------------------------------------------------
def compose() -> dict[str, Any]:
    data = yaml.safe_load((DEPLOY / "compose.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _bots(services: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in services.items() if s.get("command") == ["supportbot", "run"]}


def test_compose_runs_two_replicas_of_the_image_on_postgresql() -> None:
    services = compose()["services"]
    bots = _bots(services)
    assert len(bots) >= 2, sorted(services)
    names = {s["environment"]["REPLICA_NAME"] for s in bots.values()}
    assert len(names) == len(bots), "each replica needs its own REPLICA_NAME"
    [postgres] = [name for name, s in services.items() if str(s.get("image", "")).startswith("postgres:")]
    assert services[postgres].get("healthcheck")
    for name, bot in bots.items():
        assert bot["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}, name
        url = bot["environment"]["DATABASE_URL"]
        assert url.startswith("postgresql://") and f"@{postgres}:5432/" in url, url
        assert bot["depends_on"][postgres]["condition"] == "service_healthy"
        assert bot["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["command"] == ["supportbot", "db", "migrate"]


def test_the_replicas_share_one_key_file_on_a_volume() -> None:
    services = compose()["services"]
    for name in [*_bots(services), "migrate"]:
        key_file = Path(services[name]["environment"]["SECRETS_KEY_FILE"])
        mounts = {m.split(":")[1]: m.split(":")[0] for m in services[name]["volumes"]}
        assert mounts.get(str(key_file.parent)) == "keys", (name, mounts)
    assert "keys" in compose()["volumes"]


def test_every_setting_compose_sets_is_one_the_bot_reads() -> None:
    known = {name.upper() for name in Settings.model_fields} | {"DATABASE_URL"}  # the PostgreSQL store's setting
    services = compose()["services"]
    for name in [*_bots(services), "migrate"]:
        assert set(services[name]["environment"]) <= known, name


def test_the_proxy_forwards_exactly_the_bot_paths_to_every_replica() -> None:
    services = compose()["services"]
    [proxy] = [s for s in services.values() if str(s.get("image", "")).startswith("caddy:")]
    assert "443:443" in proxy["ports"]
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    caddyfile = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    matcher = re.search(r"@platforms path (.+)", caddyfile)
    assert matcher is not None
    assert set(matcher.group(1).split()) == {TELEGRAM_WEBHOOK_PATH, slack_events_route()}
    upstreams = re.search(r"reverse_proxy ([^{]+)\{", caddyfile)
    assert upstreams is not None
    bots = _bots(services)
    wanted = {f"{s['hostname']}:{s['environment']['HTTP_PORT']}" for s in bots.values()}
    assert set(upstreams.group(1).split()) == wanted
    assert "health_uri /healthz" in caddyfile
