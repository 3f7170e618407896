"""The intake use cases on a real SQLite store: drafts at every answer, one transaction to open, idempotency."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.conversation import Choice, Command, Input, Photo, Text
from bot.delivery import Scheduler
from bot.domain.types import Severity
from bot.services import intake
from bot.services.events import ButtonTapped
from sandbox.demo import CLINICA_ID, LAURA_ID, NORTE_ID, STRANGER_ID
from sandbox.testing import MEXICO
from storage.records import CredentialKind
from tests.services.test_intake_helpers import Env, as_act, command, env

__all__ = ["env"]

DESCRIPTION = "El firewall se reinicia solo cada diez minutos y nadie tiene internet en la oficina."


async def begin(e: Env, user: int = LAURA_ID, key: str | None = None) -> None:
    await e.say(command("reportar"), user, key=key)


async def answer(e: Env, event: Input, user: int = LAURA_ID, key: str | None = None) -> None:
    await e.say(as_act(event), user, key=key)


async def tap(e: Env, action: str, user: int = LAURA_ID) -> None:
    async with e.services.store.transaction() as tx:
        draft = await tx.get_draft(user)
    assert draft is not None
    await answer(e, Choice(f"i:{draft.data['intake']['seq']}:{action}"), user)


async def walk_to_summary(e: Env) -> None:
    await begin(e)
    await tap(e, "a.firewall")
    await tap(e, f"p.{e.demo.products['fortigate60']}")
    await tap(e, "t.down")
    await tap(e, "t.whole_company")
    await answer(e, Text(DESCRIPTION, 10))
    await answer(e, Text("hace 2 horas", 11))
    await answer(e, Photo("photo-1", 3000))
    await tap(e, "ok")
    await tap(e, "acc.remote")
    await answer(e, Text("123 456 789", 12))
    await answer(e, Text("s3cr3t<&>", 13))
    await tap(e, "y")
    await answer(e, Text("equipo-pw", 14))


async def test_draft_is_saved_at_every_answer_and_a_ticket_opens_in_one_go(env: Env) -> None:
    await walk_to_summary(env)
    async with env.services.store.transaction() as tx:
        draft = await tx.get_draft(LAURA_ID)
    assert draft is not None and draft.step == "summary"
    # P-IN-3: the passwords rest encrypted in the draft, never in clear.
    assert "s3cr3t" not in str(draft.data) and "equipo-pw" not in str(draft.data)
    rows = await env.outbox()
    deletes = [r.payload["message_id"] for r in rows if r.kind == "delete"]
    assert deletes == [13, 14]
    await tap(env, "ok")
    async with env.services.store.transaction() as tx:
        [ticket] = await tx.list_tickets()
        creds = await tx.get_credentials(ticket.id)
        audit = await tx.list_audit(ticket.id)
        timers = [await tx.get_timer(i) for i in range(1, 200)]
        assert await tx.get_draft(LAURA_ID) is None
    assert ticket.severity is Severity.CRITICAL and ticket.telegram_chat_id == LAURA_ID
    assert ticket.response_due_at == datetime(2026, 11, 25, 10, 15, tzinfo=MEXICO)
    assert ticket.since_text == "hace 2 horas"
    assert {(c.kind, c.secret) for c in creds} == {
        (CredentialKind.TEAMVIEWER_PASSWORD, "s3cr3t<&>"),
        (CredentialKind.EQUIPMENT_PASSWORD, "equipo-pw"),
    }
    assert [c.label for c in creds if c.kind is CredentialKind.TEAMVIEWER_PASSWORD] == ["TeamViewer 123 456 789"]
    opened = [a for a in audit if a.action == "opened"]
    assert opened and opened[0].data["teamviewer_id"] == "123456789"
    kinds = {t.kind for t in timers if t is not None and t.ticket_id == ticket.id}
    assert kinds == {"sla_warning", "sla_breach"}
    rows = await env.outbox()
    assert {r.kind for r in rows if r.destination == "slack"} == {"card", "thread_file"}
    [created] = [str(r.payload["text"]) for r in rows if r.kind == "send"]
    assert "SOP-2026-000001" in created and "miércoles 25 de noviembre a las 10:15" in created


async def test_outside_business_hours_the_client_is_told_when_the_clock_starts(env: Env) -> None:
    env.clock.set(datetime(2026, 11, 24, 21, 0, tzinfo=MEXICO))
    await walk_to_summary(env)
    await env.outbox()
    await tap(env, "ok")
    [created] = await env.texts()
    assert "empieza a contar el miércoles 25 de noviembre a las 09:00" in created


async def test_p_in_1_the_number_carries_the_clients_year_on_new_years_eve(env: Env) -> None:
    """31 Dec 19:30 in Mexico City is already 1 Jan in UTC; the ticket still belongs to the old year."""
    env.clock.set(datetime(2026, 12, 31, 19, 30, tzinfo=MEXICO))
    await walk_to_summary(env)
    await env.outbox()
    await tap(env, "ok")
    [created] = await env.texts()
    assert "SOP-2026-000001" in created


async def test_a_redelivered_update_changes_nothing(env: Env) -> None:
    await begin(env, key="100")
    await answer(env, Choice("i:0:a.firewall"), key="101")
    async with env.services.store.transaction() as tx:
        first = await tx.get_draft(LAURA_ID)
    await env.outbox()
    await answer(env, Choice("i:0:a.firewall"), key="101")
    await begin(env, key="100")
    async with env.services.store.transaction() as tx:
        again = await tx.get_draft(LAURA_ID)
    assert again == first and await env.texts() == []


async def test_p_pol_3_expired_contract_no_ticket_and_sales_is_notified(env: Env) -> None:
    await begin(env, NORTE_ID)
    rows = await env.outbox()
    [told] = [str(r.payload["text"]) for r in rows if r.kind == "send"]
    assert "vencida" in told and "ventas@intecnia.com.mx" in told  # R-CONTACT: "vencida" with its end date
    [notice] = [str(r.payload["text"]) for r in rows if r.kind == "channel"]
    assert "Ferretería del Norte" in notice and "venció" in notice
    async with env.services.store.transaction() as tx:
        assert await tx.get_draft(NORTE_ID) is None


async def test_p_pol_7_discontinued_product_notifies_sales(env: Env) -> None:
    await begin(env)
    await tap(env, "a.maintenance")
    await tap(env, f"p.{env.demo.products['conmutador']}")
    rows = await env.outbox()
    assert any("descontinuado" in str(r.payload["text"]) for r in rows if r.kind == "send")
    assert any(r.kind == "channel" for r in rows)


async def test_p_pol_1_per_event_client_is_asked_the_purchase_order(env: Env) -> None:
    await begin(env, CLINICA_ID)
    assert any("orden de compra" in t for t in await env.texts())
    await answer(env, Text("OC-5521", 3), CLINICA_ID)
    async with env.services.store.transaction() as tx:
        draft = await tx.get_draft(CLINICA_ID)
    assert draft is not None and draft.step == "area" and draft.data["intake"]["purchase_order"] == "OC-5521"


async def test_unknown_user_gets_the_contact_card_only(env: Env) -> None:
    await begin(env, STRANGER_ID)
    rows = await env.outbox()
    assert len(rows) == 1 and "222 248 3734" in str(rows[0].payload["text"])
    assert rows[0].payload["contact_button"]


async def test_p_sla_draft_expires_after_the_configured_hours_with_a_message(env: Env) -> None:
    scheduler = Scheduler(env.services.store, clock=env.clock)
    intake.register_timers(scheduler, env.services)
    await begin(env)
    env.clock.advance(hours=10)
    await tap(env, "a.firewall")  # an answer re-arms the expiry
    await env.outbox()
    env.clock.advance(hours=20)
    await scheduler.drain()
    async with env.services.store.transaction() as tx:
        assert await tx.get_draft(LAURA_ID) is not None  # 20 h after the last answer: still alive
    env.clock.advance(hours=5)
    await scheduler.drain()
    async with env.services.store.transaction() as tx:
        assert await tx.get_draft(LAURA_ID) is None
    texts = await env.texts()
    assert len(texts) == 1 and "se venció después de 24 horas" in texts[0]


async def test_cancel_reports_whether_there_was_something(env: Env) -> None:
    await env.say(command("cancelar"), LAURA_ID)
    assert (await env.texts())[-1] == env.services.catalogue.t("es", "commands.cancel_nothing")
    await begin(env)
    await env.say(command("cancelar"), LAURA_ID)
    assert (await env.texts())[-1] == env.services.catalogue.t("es", "commands.cancel_done")
    async with env.services.store.transaction() as tx:
        assert await tx.get_draft(LAURA_ID) is None


async def test_begin_with_a_draft_asks_the_pending_question_again(env: Env) -> None:
    await begin(env)
    await tap(env, "a.firewall")
    await env.outbox()
    await begin(env)
    assert await env.texts() == ["¿Qué equipo o sistema?"]
    await env.say(ButtonTapped("r:new", "q-resume"), LAURA_ID)
    assert await env.texts() == ["¿Sobre qué servicio es tu reporte?"]


async def test_html_in_answers_is_escaped_in_every_reply(env: Env) -> None:
    await begin(env)
    await tap(env, "a.firewall")
    await tap(env, "p.other")
    await answer(env, Text("<script>&amp; Equipo *raro* _x_", 5))
    await tap(env, "t.question")
    await tap(env, "t.usage_question")
    await answer(env, Text("¿Cómo configuro <b>una</b> VPN & qué puerto uso? 🙂 gracias", 6))
    await tap(env, "dk")
    await tap(env, "ok")
    await tap(env, "acc.onsite")
    await answer(env, Text("Calle <i>5</i> & 3, Puebla", 7))
    await answer(env, Text("Ana <ana@x.mx>", 8))
    await tap(env, "none")
    summary = (await env.texts())[-1]
    assert "&lt;script&gt;&amp;amp; Equipo" in summary and "&lt;b&gt;una&lt;/b&gt;" in summary
    assert "<script>" not in summary and "Calle &lt;i&gt;5&lt;/i&gt; &amp; 3" in summary


async def test_timedelta_helpers_are_not_leaked_into_text(env: Env) -> None:
    await begin(env)
    await tap(env, "a.firewall")
    await tap(env, f"p.{env.demo.products['fortigate60']}")
    await tap(env, "t.wrong")
    await tap(env, "t.medium")
    await tap(env, "y")
    text = (await env.texts())[-1]
    assert "severidad 3 (media)" in text and "12 horas hábiles" in text and "timedelta" not in text
    assert timedelta(hours=12) == env.services.targets[Severity.MEDIUM]


async def test_p_in_3_a_password_that_looks_like_a_command_is_still_stored_and_deleted(env: Env) -> None:
    await begin(env)
    await tap(env, "a.firewall")
    await tap(env, f"p.{env.demo.products['fortigate60']}")
    await tap(env, "t.question")
    await tap(env, "t.usage_question")
    await answer(env, Text(DESCRIPTION, 2))
    await tap(env, "dk")
    await tap(env, "ok")
    await tap(env, "acc.remote")
    await answer(env, Text("123456789", 3))
    await answer(env, Command("x9", "/x9#secreto", 44))
    rows = await env.outbox()
    assert [r.payload["message_id"] for r in rows if r.kind == "delete"] == [44]
    async with env.services.store.transaction() as tx:
        draft = await tx.get_draft(LAURA_ID)
    assert draft is not None and draft.step == "equipment_question"
    assert env.box.decrypt(draft.data["intake"]["tv_password"]) == "/x9#secreto"
