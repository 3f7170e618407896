"""The sandbox page in a real browser: both panes, live updates, loud violations, and a ticket opened and claimed."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.demo import AGENT_MARCO, LAURA_ID, NORTE_ID
from sandbox.run import SandboxApp

pytestmark = pytest.mark.browser

CATALOGUE: dict[str, Any] = json.loads((Path(__file__).parents[2] / "bot" / "locales" / "es.json").read_text("utf-8"))


def say(key: str, **values: str) -> str:
    """A text of the Spanish catalogue, as the bot shows it."""
    node: Any = CATALOGUE
    for part in key.split("."):
        node = node[part]
    return str(node).format(**values) if values else str(node)


def slack_client(app: SandboxApp) -> AsyncWebClient:
    """The bot's own kind of client, pointed where the bot points it."""
    return AsyncWebClient(token=app.settings.slack_bot_token, base_url=app.settings.slack_api_base_url)


async def bot_api(app: SandboxApp, method: str, **params: Any) -> dict[str, Any]:
    """A raw Bot API call, as the bot makes them (so the page can be checked without the bot's handlers)."""
    async with httpx.AsyncClient() as http:
        answer = await http.post(f"{app.settings.telegram_api_base_url}{app.telegram.token}/{method}", json=params)
    result: dict[str, Any] = answer.json()
    return result


def said_by(app: SandboxApp, user_id: int) -> list[dict[str, Any]]:
    """What the person sent in their chat (the bot may be answering in between)."""
    return [m for m in app.telegram.history(user_id) if m["from"] == "user"]


async def deliveries(app: SandboxApp, kind: str) -> list[Any]:
    """The interactions of this type the Slack stand-in delivered to the bot (waits a little for the first)."""
    for _ in range(100):
        found = [d for d in app.slack.deliverer.log if d.payload.get("type") == kind]
        if found:
            return found
        await asyncio.sleep(0.05)
    return []


async def screenshot(page: Page, folder: Path, name: str) -> Path:
    path = folder / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


# --- the page without any bot behaviour ---------------------------------------------------------------


async def test_page_loads_with_both_panes_and_the_people_to_play(page: Page) -> None:
    await expect(page.locator("#client-pane h2")).to_have_text("Cliente · Telegram")
    await expect(page.locator("#team-pane h2")).to_have_text("Equipo de soporte · Slack")
    people = await page.locator("#tg-person option").all_inner_texts()
    assert [p.split(" ")[0] for p in people] == ["Laura", "Kevin", "Jorge", "Paty", "Desconocido"]
    roles = await page.locator("#slack-person option").all_inner_texts()
    assert roles == [
        "Marco · consultor",
        "Ana · consultor",
        "Sofía · responsable de calidad",
        "Ricardo · gerente de operaciones",
        "Visitante · sin rol",
    ]
    await expect(page.locator("#live")).to_have_text("● en vivo")
    await expect(page.locator("#alerts")).to_be_hidden()


async def test_laura_sends_hola_and_sees_her_bubble(page: Page, sandbox: SandboxApp) -> None:
    await page.fill("#tg-input", "hola")
    await page.press("#tg-input", "Enter")
    bubble = page.locator("#tg-messages .bubble[data-from='user']").last
    await expect(bubble).to_contain_text("hola")
    assert said_by(sandbox, LAURA_ID)[-1]["text"] == "hola"


async def test_switching_person_shows_that_persons_chat(page: Page, sandbox: SandboxApp) -> None:
    await sandbox.telegram.send_text(NORTE_ID, "soy Jorge")
    await page.select_option("#tg-person", str(NORTE_ID))
    await expect(page.locator("#tg-messages .bubble[data-from='user']").first).to_contain_text("soy Jorge")
    await expect(page.locator("#tg-person-note")).to_contain_text("póliza vencida")
    await page.select_option("#tg-person", str(LAURA_ID))
    await expect(page.locator("#tg-messages")).not_to_contain_text("soy Jorge")


async def test_bot_messages_render_entities_keyboards_edits_and_deletes(page: Page, sandbox: SandboxApp) -> None:
    await sandbox.telegram.send_text(LAURA_ID, "/start")  # a chat exists once the user wrote first
    text = '<b>Hola</b>, <i>Laura</i>: &lt;img src=x onerror="alert(1)"&gt; <a href="https://intecnia.com.mx">sitio</a>'
    keyboard = {"inline_keyboard": [[{"text": "Reportar un problema", "callback_data": "menu:report"}]]}
    sent = await bot_api(sandbox, "sendMessage", chat_id=LAURA_ID, text=text, parse_mode="HTML", reply_markup=keyboard)
    assert sent["ok"], sent
    bubble = page.locator(f"#tg-messages .bubble[data-message-id='{sent['result']['message_id']}']")
    await expect(bubble.locator("b")).to_have_text("Hola")
    await expect(bubble.locator("i")).to_have_text("Laura")
    await expect(bubble.locator("a[href='https://intecnia.com.mx/']")).to_have_text("sitio")
    await expect(bubble).to_contain_text('<img src=x onerror="alert(1)">')  # shown as text, never as markup
    assert await bubble.locator("img").count() == 0
    await expect(bubble.locator("button[data-callback='menu:report']")).to_have_text("Reportar un problema")

    edited = await bot_api(
        sandbox, "editMessageText", chat_id=LAURA_ID, message_id=sent["result"]["message_id"], text="Cambié de idea"
    )
    assert edited["ok"], edited
    await expect(bubble).to_contain_text("Cambié de idea")
    await expect(bubble.locator(".meta")).to_contain_text("editado")
    assert await bubble.locator("button").count() == 0  # an edit without reply_markup drops the keyboard

    deleted = await bot_api(sandbox, "deleteMessage", chat_id=LAURA_ID, message_id=sent["result"]["message_id"])
    assert deleted["ok"], deleted
    await expect(bubble).to_have_text("mensaje eliminado")


async def test_reply_keyboard_and_command_menu(page: Page, sandbox: SandboxApp) -> None:
    await sandbox.telegram.send_text(LAURA_ID, "/start")
    commands = [{"command": "reportar", "description": say("commands.description.reportar")}]
    assert (await bot_api(sandbox, "setMyCommands", commands=commands, language_code="es"))["ok"]
    keyboard = {
        "keyboard": [[{"text": say("contact.share_phone"), "request_contact": True}], [{"text": "Cancelar"}]],
        "resize_keyboard": True,
    }
    assert (await bot_api(sandbox, "sendMessage", chat_id=LAURA_ID, text="Comparte tu número", reply_markup=keyboard))[
        "ok"
    ]
    await expect(page.locator("#tg-reply-keyboard [data-request-contact='true']")).to_contain_text(
        say("contact.share_phone")
    )
    await page.click("#tg-reply-keyboard [data-reply-text='Cancelar']")
    await expect(page.locator("#tg-messages .bubble[data-from='user']").last).to_contain_text("Cancelar")
    await page.click("#tg-menu-button")
    await page.click("#tg-commands [data-command='/reportar']")
    await expect(page.locator("#tg-messages .bubble[data-from='user']").last).to_contain_text("/reportar")
    assert [m["text"] for m in said_by(sandbox, LAURA_ID)][-2:] == ["Cancelar", "/reportar"]


async def test_share_contact_button_sends_the_persons_contact(page: Page, sandbox: SandboxApp) -> None:
    await sandbox.telegram.send_text(LAURA_ID, "/start")
    keyboard = {
        "keyboard": [[{"text": say("contact.share_phone"), "request_contact": True}]],
        "one_time_keyboard": True,
    }
    assert (await bot_api(sandbox, "sendMessage", chat_id=LAURA_ID, text="Comparte tu número", reply_markup=keyboard))[
        "ok"
    ]
    page.once("dialog", lambda dialog: dialog.accept("+52 222 555 0101"))  # the stand-in has no phone for her
    await page.click("#tg-reply-keyboard [data-request-contact='true']")
    await expect(page.locator("#tg-messages .bubble[data-from='user'] .contact")).to_contain_text("+52 222 555 0101")
    contact = said_by(sandbox, LAURA_ID)[-1]["contact"]
    assert (contact["user_id"], contact["phone_number"]) == (LAURA_ID, "+52 222 555 0101")
    await expect(page.locator("#tg-reply-keyboard")).to_be_hidden()  # one-time keyboards hide once used


async def test_sample_photo_and_big_file_reach_the_bot(page: Page, sandbox: SandboxApp) -> None:
    await page.click("#tg-sample-photo")
    await expect(page.locator("#tg-messages .bubble[data-from='user'] .photo")).to_have_count(1)
    await page.click("#tg-big-file")
    await expect(page.locator("#tg-messages .bubble[data-from='user'] .document")).to_contain_text("25.0 MB")
    kinds = [("photo" in m, m.get("document", {}).get("file_size")) for m in said_by(sandbox, LAURA_ID)]
    assert kinds == [(True, None), (False, 25 * 1024 * 1024)]


async def test_file_picker_uploads_the_chosen_file(page: Page, sandbox: SandboxApp, tmp_path: Path) -> None:
    chosen = tmp_path / "bitacora.txt"
    chosen.write_text("error 503 en el firewall\n", "utf-8")
    await page.set_input_files("#tg-file", str(chosen))
    await expect(page.locator("#tg-messages .bubble[data-from='user'] .document")).to_contain_text("bitacora.txt")
    document = said_by(sandbox, LAURA_ID)[-1]["document"]
    assert document["file_name"] == "bitacora.txt"
    assert document["file_size"] == len("error 503 en el firewall\n")


async def test_slack_message_posted_by_the_api_shows_as_a_card(page: Page, sandbox: SandboxApp, shots: Path) -> None:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "🔴 SOP-2026-000001 · Severidad 1"}},
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"*Comercializadora del Valle* · _Empresarial_ · `12.5 h` <@{AGENT_MARCO}>",
            },
            "fields": [{"type": "mrkdwn", "text": "*Estado:* sin asignar"}, {"type": "plain_text", "text": "Nivel 1"}],
        },
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": "<https://intecnia.com.mx|portal> · &lt;b&gt; · <javascript:alert(1)|clic>"},
                {"type": "mrkdwn", "text": "Vence <!date^1764087300^{date_short_pretty} {time}|mié 25 nov 10:15>"},
            ],
        },
        {"type": "divider"},
        {
            "type": "actions",
            "elements": [
                {"type": "button", "action_id": "claim", "text": {"type": "plain_text", "text": "Tomar"}, "value": "1"}
            ],
        },
    ]
    posted = await slack_client(sandbox).chat_postMessage(
        channel=sandbox.settings.slack_support_channel, text="SOP-2026-000001", blocks=blocks
    )
    card = page.locator(f"#slack-channel .slack-msg[data-ts='{posted['ts']}']")
    await expect(card.locator(".bk-header")).to_have_text("🔴 SOP-2026-000001 · Severidad 1")
    await expect(card.locator(".bk-section-text b")).to_have_text("Comercializadora del Valle")
    await expect(card.locator(".bk-section-text i")).to_have_text("Empresarial")
    await expect(card.locator(".bk-section-text code")).to_have_text("12.5 h")
    await expect(card.locator(".mention")).to_have_text("@Marco")
    await expect(card.locator(".bk-field").first).to_contain_text("Estado: sin asignar")
    await expect(card.locator(".bk-context a")).to_have_text("portal")  # the only link: javascript: is not one
    await expect(card.locator(".bk-context .bad-link")).to_have_text("clic")
    await expect(card.locator(".bk-context")).to_contain_text("<b>")
    await expect(card.locator(".bk-context .slack-date")).to_have_text("mié 25 nov 10:15")  # the fallback, no "@"
    await expect(card.locator("hr")).to_have_count(1)
    await expect(card.locator("button[data-action-id='claim']")).to_have_text("Tomar")
    await screenshot(page, shots, "tarjeta")


async def test_thread_reply_through_the_page_reaches_slack(page: Page, sandbox: SandboxApp) -> None:
    posted = await slack_client(sandbox).chat_postMessage(channel=sandbox.settings.slack_support_channel, text="Ticket")
    await page.click(f"#slack-channel .slack-msg[data-ts='{posted['ts']}'] [data-open-thread]")
    await page.fill("#slack-thread-input", "¿Ya reiniciaste el equipo? <!channel>")
    await page.press("#slack-thread-input", "Enter")
    await expect(page.locator("#slack-thread-replies .slack-msg")).to_contain_text("¿Ya reiniciaste el equipo?")
    replies = sandbox.slack.replies(sandbox.settings.slack_support_channel, posted["ts"])
    assert [(r.user, r.text) for r in replies] == [(AGENT_MARCO, "¿Ya reiniciaste el equipo? &lt;!channel&gt;")]
    await expect(page.locator(f"[data-open-thread='{posted['ts']}']")).to_have_text("1 respuesta")


async def test_modal_inputs_render_and_submit_what_was_typed(page: Page, sandbox: SandboxApp, shots: Path) -> None:
    def opt(value: str, text: str) -> dict[str, Any]:
        return {"text": {"type": "plain_text", "text": text}, "value": value}

    def field(block_id: str, element: dict[str, Any], optional: bool = False) -> dict[str, Any]:
        label = {"type": "plain_text", "text": block_id}
        return {"type": "input", "block_id": block_id, "label": label, "element": element, "optional": optional}

    view = {
        "type": "modal",
        "callback_id": "sandbox_page_form",  # no listener of the bot answers to it
        "title": {"type": "plain_text", "text": "Pedir información"},
        "submit": {"type": "plain_text", "text": "Enviar"},
        "close": {"type": "plain_text", "text": "Cancelar"},
        "blocks": [
            field("question", {"type": "plain_text_input", "action_id": "text", "multiline": True}),
            field("ref", {"type": "plain_text_input", "action_id": "text"}, optional=True),
            field(
                "sev", {"type": "static_select", "action_id": "pick", "options": [opt("1", "Sev 1"), opt("2", "Sev 2")]}
            ),
            field(
                "where",
                {
                    "type": "radio_buttons",
                    "action_id": "pick",
                    "options": [opt("remote", "Remoto"), opt("site", "Sitio")],
                },
            ),
            field(
                "tags", {"type": "checkboxes", "action_id": "pick", "options": [opt("a", "Red"), opt("b", "Equipo")]}
            ),
            field("hours", {"type": "number_input", "action_id": "n", "is_decimal_allowed": True}),
        ],
    }
    trigger = sandbox.slack.new_trigger(AGENT_MARCO)
    opened = await slack_client(sandbox).views_open(trigger_id=trigger, view=view)
    assert opened["ok"]
    modal = page.locator("#slack-modal")
    await expect(modal.locator("#slack-modal-title")).to_have_text("Pedir información")
    await page.fill("#slack-modal-body textarea[data-block-id='question']", "¿Qué luz está encendida?")
    await page.select_option("#slack-modal-body select[data-block-id='sev']", "2")
    await page.check("#slack-modal-body [data-block-id='where'] input[value='site']")
    await page.check("#slack-modal-body [data-block-id='tags'] input[value='b']")
    await page.fill("#slack-modal-body input[data-block-id='hours']", "1.5")
    await screenshot(page, shots, "modal")
    await page.click("#slack-modal-submit")
    submitted = await deliveries(sandbox, "view_submission")
    assert len(submitted) == 1
    values = submitted[0].payload["view"]["state"]["values"]
    assert values["question"]["text"]["value"] == "¿Qué luz está encendida?"
    assert values["ref"]["text"]["value"] is None
    assert values["sev"]["pick"]["selected_option"]["value"] == "2"
    assert values["where"]["pick"]["selected_option"]["value"] == "site"
    assert [o["value"] for o in values["tags"]["pick"]["selected_options"]] == ["b"]
    assert values["hours"]["n"]["value"] == "1.5"


async def test_app_home_and_ephemeral_messages_show_for_their_person(page: Page, sandbox: SandboxApp) -> None:
    client = slack_client(sandbox)
    home = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*Mis tickets:* 0"}}]}
    assert (await client.views_publish(user_id=AGENT_MARCO, view=home))["ok"]
    channel = sandbox.settings.slack_support_channel
    assert (await client.chat_postEphemeral(channel=channel, user=AGENT_MARCO, text="Solo para Marco"))["ok"]
    await expect(page.locator("#slack-channel .ephemeral")).to_contain_text("Solo para Marco")
    await page.click("[data-tab='home']")
    await expect(page.locator("#slack-home b")).to_have_text("Mis tickets:")
    await page.select_option("#slack-person", "U0ANA")
    await expect(page.locator("#slack-home")).not_to_contain_text("Mis tickets")
    await page.click("[data-tab='channel']")
    await expect(page.locator("#slack-channel .ephemeral")).to_have_count(0)


async def test_violations_show_the_red_banner_with_method_and_error(
    page: Page, sandbox: SandboxApp, shots: Path
) -> None:
    await sandbox.telegram.send_text(LAURA_ID, "/start")
    refused = await bot_api(sandbox, "sendMessage", chat_id=LAURA_ID, text="<b>sin cerrar", parse_mode="HTML")
    assert not refused["ok"]
    banner = page.locator("#alerts")
    await expect(banner).to_be_visible()
    telegram = banner.locator(".violation[data-source='Telegram'][data-method='sendMessage']")
    await expect(telegram).to_contain_text("can't parse entities")
    await expect(banner).to_have_css("background-color", "rgb(254, 226, 226)")

    bad = [{"type": "section", "text": {"type": "mrkdwn", "text": ""}}]
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            f"{sandbox.settings.slack_api_base_url}chat.postMessage",
            headers={"Authorization": f"Bearer {sandbox.settings.slack_bot_token}"},
            json={"channel": sandbox.settings.slack_support_channel, "blocks": bad},
        )
    assert answer.json()["ok"] is False
    slack = banner.locator(".violation[data-source='Slack'][data-method='chat.postMessage']")
    await expect(slack).to_contain_text("invalid_blocks")
    await expect(page.locator("#alerts-title")).to_contain_text("2 infracciones")
    await screenshot(page, shots, "infracciones")


async def test_a_refused_page_action_is_shown_too(page: Page) -> None:
    # Jorge has no phone in the stand-in: sharing his contact without a number is refused by the control API.
    await page.select_option("#tg-person", str(NORTE_ID))
    page.once("dialog", lambda dialog: dialog.accept(""))
    await page.evaluate("userAction('contact', {own: true})")
    refused = page.locator("#alerts .violation[data-source='Telegram']")
    await expect(refused).to_contain_text("the user has no phone number")


# --- the whole story: a ticket opened by the client and claimed by the agent, through the page ----------


async def tap(page: Page, label: str, *, exact: bool = True) -> None:
    """Tap the newest inline button with this label (or containing it, when not exact)."""
    wanted = re.compile(f"^{re.escape(label)}$") if exact else label
    await page.locator("#tg-messages .inline-btn").filter(has_text=wanted).last.click()


async def type_message(page: Page, text: str) -> None:
    await page.fill("#tg-input", text)
    await page.press("#tg-input", "Enter")


async def expect_bot_said(page: Page, text: str) -> None:
    await expect(page.locator("#tg-messages .bubble[data-from='bot']").last).to_contain_text(text)


async def test_client_opens_a_ticket_and_marco_claims_it_through_the_page(
    page: Page, sandbox: SandboxApp, shots: Path
) -> None:
    page.set_default_timeout(5000)
    try:
        await _open_and_claim(page)
    finally:
        # Saved whether or not the story got to the end: the picture shows where it stopped.
        await screenshot(page, shots, "ticket-tomado")


async def _open_and_claim(page: Page) -> None:
    await type_message(page, "/start")
    await expect_bot_said(page, "¡Hola, Laura!")
    await tap(page, say("menu.report"))
    await expect_bot_said(page, say("intake.area.question"))
    await tap(page, say("intake.area.firewall"))
    await tap(page, "FortiGate 60F", exact=False)
    await tap(page, say("intake.triage.down_yes"))
    await tap(page, say("intake.triage.users_company"))
    await expect_bot_said(page, say("intake.description.prompt"))
    await type_message(page, "No hay internet en toda la oficina, el firewall tiene la luz de alarma en rojo.")
    await expect_bot_said(page, say("intake.since.question"))
    await type_message(page, "desde hoy a las 9")
    await expect_bot_said(page, say("intake.attachments.limit", max_mb="20"))
    await page.click("#tg-sample-photo")
    await expect_bot_said(page, say("intake.attachments.received_one"))
    await tap(page, say("intake.attachments.done_button"))
    await tap(page, say("intake.access.remote"))
    await expect_bot_said(page, say("intake.access.teamviewer_id_prompt"))
    await type_message(page, "1 234 567 890")
    await expect_bot_said(page, say("intake.access.teamviewer_password_prompt"))
    await type_message(page, "k9#Lm2")
    await expect(page.locator("#tg-messages .bubble.deleted")).to_have_count(1)  # the password, deleted by the bot
    await expect_bot_said(page, say("intake.access.equipment_password_question"))
    await tap(page, say("common.no"))
    await tap(page, say("intake.summary.confirm"))
    await expect(page.locator("#tg-messages .bubble[data-from='bot'] b", has_text="SOP-")).to_have_count(1)
    ticket = await page.locator("#tg-messages .bubble[data-from='bot'] b", has_text="SOP-").inner_text()

    await page.select_option("#slack-person", AGENT_MARCO)
    card = page.locator("#slack-channel .slack-msg", has_text=ticket)
    await expect(card).to_contain_text(say("desk.status.new"))
    await card.locator("button.bk-button", has_text=say("desk.button.claim")).click()
    await expect(card).to_contain_text(say("desk.status.assigned"))
    await expect(card).to_contain_text("Marco")
    await expect_bot_said(page, say("tickets.claimed", agent="Marco", ticket=ticket))


# --- without a browser ----------------------------------------------------------------------------------


def test_missing_chromium_skips_with_a_reason_but_fails_in_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.browser import conftest

    monkeypatch.setattr(conftest, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no-chromium is missing"):
        conftest._require_chromium()
    assert "skipping the browser test" in capsys.readouterr().out
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI is set"):
        conftest._require_chromium()
