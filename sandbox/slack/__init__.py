"""A faithful local stand-in for Slack (Web API, signed deliveries, Socket Mode) and a driver for tests.

Typical product test::

    async with running_standin() as slack, bolt_over_http(slack.standin, bot_app):
        team = SlackTeam(slack.standin)
        agent = team.member("U0AGENT", "ana")
        card = await team.card_for("SOP-2026-000001")
        await team.click(card, "claim", as_user=agent)
        await team.reply_in_thread(card, "¿Ya reiniciaste el equipo?", as_user=agent)
        team.assert_no_violations()

(`running_standin` and `bolt_over_http` live in `sandbox.slack.harness`.)
"""

from sandbox.slack.actions import ActionError
from sandbox.slack.delivery import Delivery, DeliveryError
from sandbox.slack.driver import Card, DriverTimeout, NotAcknowledged, SlackTeam
from sandbox.slack.model import User, View, Violation
from sandbox.slack.server import make_app, start
from sandbox.slack.standin import SlackStandIn, StandInConfig
from sandbox.slack.viewstate import SubmitRefused

__all__ = [
    "ActionError",
    "Card",
    "Delivery",
    "DeliveryError",
    "DriverTimeout",
    "NotAcknowledged",
    "SlackStandIn",
    "SlackTeam",
    "StandInConfig",
    "SubmitRefused",
    "User",
    "View",
    "Violation",
    "make_app",
    "start",
]
