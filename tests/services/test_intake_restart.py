"""The draft lives in the store: close it at every step, open the database again, and the intake goes on."""

from __future__ import annotations

from dataclasses import replace

from bot.conversation import Choice, Input, Photo, Text
from bot.wiring import open_store
from sandbox.demo import CLINICA_ID, LAURA_ID
from tests.services.test_intake_helpers import Env, as_act, command, env

__all__ = ["env"]

TAP = "tap"


async def restart(e: Env) -> None:
    """What a kill and a start do to the bot's state: everything in memory is gone, the file stays."""
    await e.services.store.close()
    e.services = replace(e.services, store=await open_store(e.services.settings))


async def walk(e: Env, user: int, steps: list[tuple[str, str | Input]]) -> None:
    await e.say(command("reportar"), user)
    for expected, answer in steps:
        async with e.services.store.transaction() as tx:
            before = await tx.get_draft(user)
        assert before is not None and before.step == expected
        await restart(e)
        async with e.services.store.transaction() as tx:
            after = await tx.get_draft(user)
        assert after == before
        event = Choice(f"i:{after.data['intake']['seq']}:{answer}") if isinstance(answer, str) else answer
        await e.say(as_act(event), user)


async def test_restart_at_every_remote_step(env: Env) -> None:
    await walk(
        env,
        LAURA_ID,
        [
            ("area", "a.firewall"),
            ("product", f"p.{env.demo.products['fortigate60']}"),
            ("triage_down", "t.wrong"),
            ("triage_impact", "t.medium"),
            ("triage_documented", "n"),
            ("description", Text("El firewall bloquea el correo de dos personas desde el lunes.", 1)),
            ("since", Text("desde el lunes", 2)),
            ("attachments", Photo("p1", 10)),
            ("attachments", "ok"),
            ("access", "acc.remote"),
            ("tv_id", Text("987 654 321", 3)),
            ("tv_password", Text("pw-1", 4)),
            ("equipment_question", "y"),
            ("equipment_password", Text("pw-2", 5)),
            ("summary", "ok"),
        ],
    )
    async with env.services.store.transaction() as tx:
        [ticket] = await tx.list_tickets()
        secrets = sorted(c.secret for c in await tx.get_credentials(ticket.id))
    assert ticket.severity == 3 and secrets == ["pw-1", "pw-2"]


async def test_restart_at_every_onsite_and_purchase_order_step(env: Env) -> None:
    await walk(
        env,
        CLINICA_ID,
        [
            ("purchase_order", Text("OC-77", 1)),
            ("area", "a.wireless"),
            ("product", "p.other"),
            ("product_other", Text("Access point recepción", 2)),
            ("triage_down", "t.down"),
            ("triage_reach", "t.only_me"),
            ("triage_business", "n"),
            ("description", Text("El access point de recepción no da señal a ningún equipo desde hoy.", 3)),
            ("since", Text("hoy a las 9", 4)),
            ("attachments", "ok"),
            ("attachments", "ok"),
            ("access", "acc.onsite"),
            ("onsite_address", Text("Av. Juárez 2915, Puebla", 5)),
            ("onsite_contact", Text("Dra. Gómez", 6)),
            ("onsite_rules", "none"),
            ("summary", "ok"),
        ],
    )
    async with env.services.store.transaction() as tx:
        [ticket] = await tx.list_tickets()
        [opened] = [a for a in await tx.list_audit(ticket.id) if a.action == "opened"]
    assert ticket.severity == 2 and opened.data["purchase_order"] == "OC-77"


async def test_restart_at_the_excluded_topic_step(env: Env) -> None:
    await walk(env, LAURA_ID, [("area", "a.other"), ("excluded", "x.training")])
    async with env.services.store.transaction() as tx:
        assert await tx.get_draft(LAURA_ID) is None and await tx.list_tickets() == []
