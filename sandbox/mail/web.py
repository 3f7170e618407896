"""The page's mail pane routes: who can write, the conversation of each address, and writing as a client."""

from __future__ import annotations

from aiohttp import web

from sandbox.mail import MAIL_PEOPLE, MailStandIn

__all__ = ["make_mail_app"]

MAX_TEXT = 20_000


def make_mail_app(mail: MailStandIn) -> web.Application:
    """Routes for a sub-app mounted at /mail on the bot's server."""
    app = web.Application()

    async def state(_: web.Request) -> web.Response:
        people = [{"address": a, "name": n, "note": note} for a, n, note in MAIL_PEOPLE]
        return web.json_response({"ok": True, "people": people, "messages": [m.to_json() for m in mail.log]})

    async def send(request: web.Request) -> web.Response:
        try:
            body = await request.json()
            sender, subject, text = str(body["sender"]).strip(), str(body.get("subject") or ""), str(body["text"])
        except (ValueError, KeyError, TypeError):
            return web.json_response({"ok": False, "error": "send JSON with sender, subject and text"}, status=400)
        if "@" not in sender or not text.strip() or len(text) > MAX_TEXT:
            problem = "an address and a text (up to 20,000 characters)"
            return web.json_response({"ok": False, "error": problem}, status=400)
        name = next((n for a, n, _ in MAIL_PEOPLE if a == sender), str(body.get("name") or ""))
        shown = mail.write(sender, name, subject, text, reply_to=str(body.get("reply_to") or ""))
        return web.json_response({"ok": True, "result": shown.to_json()})

    app.router.add_get("/state", state)
    app.router.add_post("/send", send)
    return app
