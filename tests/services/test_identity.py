"""Who a Telegram user is: invite codes, shared contacts (only one's own), unknown users (P-CONTACT-1)."""

from __future__ import annotations

from datetime import date, timedelta

from bot.services import identity
from bot.services.events import ContactShared
from sandbox.demo import KEVIN_ID, LAURA_ID, SPARE_INVITE, STRANGER_ID
from storage.records import Contract
from tests.services.test_intake_helpers import Env, command, env

__all__ = ["env"]

NEWBIE = 777001


async def start(e: Env, user: int, code: str | None = None, lang: str = "es") -> None:
    await e.say(command("start", code or ""), user, lang=lang, first_name="Nuevo")


async def share(e: Env, user: int, phone: str, owner: int | None) -> None:
    await e.say(ContactShared(phone, owner), user)


async def linked(e: Env, user: int) -> int | None:
    async with e.services.store.transaction() as tx:
        contact = await tx.get_contact_by_telegram_user(user)
    return None if contact is None else contact.client_id


async def test_start_with_an_invite_code_links_the_user(env: Env) -> None:
    await start(env, NEWBIE, SPARE_INVITE)
    assert await linked(env, NEWBIE) == env.demo.client_id
    texts = await env.texts()
    assert "Ya quedó tu registro como contacto de Comercializadora del Valle" in texts[0]
    assert "Empresarial" in texts[0]


async def test_an_invite_works_once(env: Env) -> None:
    await start(env, NEWBIE, SPARE_INVITE)
    await env.outbox()
    await start(env, NEWBIE + 1, SPARE_INVITE)
    assert await linked(env, NEWBIE + 1) is None
    assert "no es válida" in (await env.texts())[0]


async def test_unknown_code_and_expired_code_link_nobody(env: Env) -> None:
    await start(env, NEWBIE, "NOPE-123")
    env.clock.advance(hours=100)
    await start(env, NEWBIE + 1, SPARE_INVITE)
    assert await linked(env, NEWBIE) is None and await linked(env, NEWBIE + 1) is None


async def test_p_contact_1_unknown_user_gets_contact_details_and_how_to_get_an_invite(env: Env) -> None:
    await start(env, STRANGER_ID)
    [row] = await env.outbox()
    text = str(row.payload["text"])
    assert "invitación" in text and "soporte@intecnia.com.mx" in text and "222 248 3734" in text
    assert row.payload["contact_button"] == "Compartir mi número"


async def test_shared_own_contact_links_by_the_registered_phone(env: Env) -> None:
    await share(env, NEWBIE, "+52 1 222 555 0101", owner=NEWBIE)  # Marta Ruiz's phone, any format
    assert await linked(env, NEWBIE) == env.demo.client_id
    assert "¡Listo, Marta!" in (await env.texts())[0]


async def test_someone_elses_contact_card_links_nobody(env: Env) -> None:
    await share(env, NEWBIE, "+52 222 555 0101", owner=NEWBIE + 5)
    await share(env, NEWBIE, "+52 222 555 0101", owner=None)
    assert await linked(env, NEWBIE) is None
    assert all("tu propio contacto" in t for t in await env.texts())


async def test_unregistered_phone_links_nobody(env: Env) -> None:
    await share(env, NEWBIE, "+52 999 000 1111", owner=NEWBIE)
    assert await linked(env, NEWBIE) is None
    assert "No encuentro ese número" in (await env.texts())[0]


async def test_greeting_shows_contract_and_menu_in_the_users_language(env: Env) -> None:
    await start(env, KEVIN_ID, lang="en")
    [row] = await env.outbox()
    assert str(row.payload["text"]).startswith("Hi, Kevin!")
    datas = [b["data"] for line in row.payload["keyboard"] for b in line]
    assert datas == [identity.MENU_REPORT, identity.MENU_TICKETS, identity.MENU_POLICY, identity.MENU_CONTACT]


async def test_redelivered_start_answers_once(env: Env) -> None:
    assert await env.say(command("start"), LAURA_ID, key="same")
    assert not await env.say(command("start"), LAURA_ID, key="same")
    assert len(await env.texts()) == 1


def _contract(i: int, starts: date, ends: date, used: int = 0) -> Contract:
    from bot.domain.types import Tier

    return Contract(i, f"C{i}", 1, Tier.BASIC, starts, ends, 300, used, 0, 0, None, False, 1)


def test_choose_contract_prefers_the_active_one_ending_last() -> None:
    today = date(2026, 11, 24)
    old = _contract(1, today - timedelta(days=800), today - timedelta(days=435))
    active = _contract(2, today - timedelta(days=10), today + timedelta(days=355))
    exhausted = _contract(3, today - timedelta(days=5), today + timedelta(days=360), used=300)
    assert identity.choose_contract([old, active, exhausted], today) == active
    assert identity.choose_contract([old, exhausted], today) == exhausted  # to explain why not
    assert identity.choose_contract([], today) is None
