"""Every setting of the bot, read once from the environment and `.env` (see `.env.example`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.domain.contracts import (
    DEFAULT_LOW_HOURS_PERCENT,
    DEFAULT_OFFICE_HOURS,
    DEFAULT_ONSITE_HOURS,
    DEFAULT_TIER_HOURS,
)
from bot.domain.lifecycle import DEFAULT_INFO_REMINDERS
from bot.domain.severity import DEFAULT_RESPONSE_HOURS
from bot.domain.types import Severity, Tier

_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


# The policy's numbers live once, in the domain (POLICY.md); settings only let an operator override them.
_SLA = {sev: float(hours) for sev, hours in DEFAULT_RESPONSE_HOURS.items()}
_TIER = {tier: float(hours) for tier, hours in DEFAULT_TIER_HOURS.items()}


class SettingsError(Exception):
    """A setting has a value the bot cannot use; the message names it and what it expects.

    str() is the English line; `name`, `got` (the value, never a secret's), `expected` (English), `reason` (what
    was expected, as a key of cli.settings.expect.*) and `params` let the command say it in its language."""

    def __init__(self, name: str, got: object, expected: str, reason: str, params: dict[str, object]) -> None:
        shown = f" (got {got!r})" if got is not None else ""
        super().__init__(f"setting {name}{shown}: expected {expected}")
        self.name, self.got, self.expected, self.reason, self.params = name, got, expected, reason, params


class Expected(ValueError):
    """A setting validator's refusal: `reason` names what it expects (cli.settings.expect.<reason>), the
    message says it in English."""

    def __init__(self, reason: str, message: str, **params: object) -> None:
        super().__init__(message)
        self.reason = reason
        self.params = params


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False)

    # --- storage -------------------------------------------------------------------------------
    database_path: Path = Field(Path("var/supportbot.db"), description="SQLite database file")
    # postgresql://user:password@host:5432/db[?schema=name]: several replicas on one database. Empty: the SQLite file.
    database_url: str = Field("", description="PostgreSQL URL; empty: the SQLite file DATABASE_PATH")
    secrets_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Fernet keys, comma-separated, newest first"
    )
    secrets_key_file: Path = Field(
        Path("var/secrets.key"), description="file with Fernet keys (one a line) when SECRETS_KEYS is empty"
    )
    # `supportbot sandbox` never touches the real database or key file: demo rows live in their own file.
    sandbox_database_path: Path = Field(Path("var/sandbox.db"), description="the sandbox's own SQLite file")
    sandbox_key_file: Path = Field(Path("var/sandbox.key"), description="the sandbox's own key file")

    # --- company ------------------------------------------------------------------------------
    company_name: str = "Intecnia"
    support_email: str = "soporte@intecnia.com.mx"
    support_phones: str = "222 248 3734, 222 248 2573"
    office_hours_text: str = "Lunes a viernes 09:00–14:00 y 16:00–19:00"
    sales_contact: str = "ventas@intecnia.com.mx"
    ticket_prefix: str = "SOP"

    # --- business calendar (P-SLA-5) -----------------------------------------------------------
    timezone: str = "America/Mexico_City"
    business_hours: str = "mon-fri 09:00-14:00,16:00-19:00"
    extra_days_off: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # --- severity targets in business hours (P-SLA-1..4) ---------------------------------------
    sla_hours_sev1: float = Field(_SLA[Severity.CRITICAL], gt=0)
    sla_hours_sev2: float = Field(_SLA[Severity.HIGH], gt=0)
    sla_hours_sev3: float = Field(_SLA[Severity.MEDIUM], gt=0)
    sla_hours_sev4: float = Field(_SLA[Severity.LOW], gt=0)

    # --- contracts (P-POL-1, P-POL-6) ----------------------------------------------------------
    tier_hours_por_evento: float = Field(_TIER[Tier.PER_EVENT], gt=0)
    tier_hours_basica: float = Field(_TIER[Tier.BASIC], gt=0)
    tier_hours_empresarial: float = Field(_TIER[Tier.BUSINESS], gt=0)
    tier_hours_empresarial_plus: float = Field(_TIER[Tier.BUSINESS_PLUS], gt=0)
    tier_hours_corporativo: float = Field(_TIER[Tier.CORPORATE], gt=0)
    onsite_hours_empresarial_plus: float = Field(float(DEFAULT_ONSITE_HOURS[Tier.BUSINESS_PLUS]), ge=0)
    onsite_hours_corporativo: float = Field(float(DEFAULT_ONSITE_HOURS[Tier.CORPORATE]), ge=0)
    # R-POOLS: in-office advice is a pool of its own next to on-site advice, configured apart.
    office_hours_empresarial_plus: float = Field(float(DEFAULT_OFFICE_HOURS[Tier.BUSINESS_PLUS]), ge=0)
    office_hours_corporativo: float = Field(float(DEFAULT_OFFICE_HOURS[Tier.CORPORATE]), ge=0)
    low_hours_warning_percent: float = Field(float(DEFAULT_LOW_HOURS_PERCENT), ge=0, le=100)

    # --- conversation and ticket clocks --------------------------------------------------------
    draft_expiry_hours: float = Field(24, gt=0)
    info_reminder_count: int = Field(DEFAULT_INFO_REMINDERS, ge=1, le=10)
    resolved_autoclose_business_days: int = Field(3, ge=1)
    escalation_warning_percent: float = Field(75, gt=0, lt=100)
    internal_note_prefix: str = "nota:"
    invite_code_ttl_hours: float = Field(72, gt=0)

    # --- Telegram ------------------------------------------------------------------------------
    telegram_bot_token: str = ""
    telegram_api_base_url: str = ""
    telegram_api_file_url: str = ""
    telegram_webhook_url: str = ""
    telegram_webhook_secret: str = ""

    # --- Slack ---------------------------------------------------------------------------------
    slack_bot_token: str = ""
    slack_signing_secret: str = ""
    slack_app_token: str = ""
    slack_api_base_url: str = ""
    slack_support_channel: str = ""
    # The managers' weekly digest goes here on Mondays 09:00 business time (empty: no digest).
    slack_managers_channel: str = ""
    # Where "Avisar a ventas" notifies sales: a channel id, or a user id (U…) for a direct message.
    slack_sales_channel: str = ""
    # Cards by severity or by client, each channel paced on its own: "sev1=C0URGENT,client:7=C0VIP".
    slack_card_channels: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    # chat.postMessage's burst per channel that Slack grants on top of 1 a second (1 = none assumed).
    slack_post_burst: int = Field(1, ge=1, le=10)
    # Pace deliveries under the platforms' limits (off only for tests against stand-ins without limits).
    delivery_pacing: bool = True
    # This replica's name in leases: a restart of the same replica takes over its predecessor's at once.
    replica_name: str = ""

    # --- e-mail (P-IN-6): the support mailbox, read over IMAP, answered over SMTP -----------------------
    # The channel is on when IMAP_HOST and SMTP_HOST are set. MAIL_ADDRESS is the mailbox's own address (the
    # From of every reply; mail from it is never answered); empty: SUPPORT_EMAIL.
    mail_address: str = ""
    imap_host: str = ""
    imap_port: int = Field(993, ge=1, le=65535)
    imap_security: str = "tls"  # tls (IMAPS) | none (a server on this machine only)
    imap_user: str = ""
    imap_password: str = ""
    imap_oauth2_token: str = ""  # XOAUTH2 (Google Workspace, Microsoft 365) instead of the password
    imap_folder: str = "INBOX"
    imap_poll_seconds: float = Field(60, gt=0)  # when the server offers no IDLE
    imap_max_message_mb: float = Field(25, gt=0)
    smtp_host: str = ""
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_security: str = "starttls"  # starttls | tls | none
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_oauth2_token: str = ""
    mail_ca_file: str = ""  # extra CA certificates (PEM) to trust, for a server with its own certificate
    mail_max_tickets_per_hour: int = Field(5, ge=1)  # per sender: more mail waits in "correo sin cliente"
    mail_default_severity: int = Field(3, ge=1, le=4)  # until the client answers ("severidad por confirmar")
    # Older mail (a first start on a mailbox full of unread mail) waits in "correo sin cliente": no ticket, no reply.
    mail_max_age_days: int = Field(7, ge=1)
    telegram_bot_username: str = ""  # for the deep link e-mail offers to contacts who use Telegram

    # --- retention: how long handled work is kept before a daily prune forgets it ---------------------
    # Inbox entries (done, unparsed, failed) and remembered update keys; platforms redeliver within a day.
    retention_days_inbox: int = Field(14, ge=1, le=3650)
    # Outbox rows sent or dead-lettered (a dead letter is retried by hand before then).
    retention_days_outbox: int = Field(30, ge=1, le=3650)
    # Timers done or cancelled.
    retention_days_timers: int = Field(30, ge=1, le=3650)

    # --- HTTP server and logs ------------------------------------------------------------------
    http_host: str = "127.0.0.1"
    http_port: int = Field(8080, ge=0, le=65535)
    log_level: str = "INFO"
    # "text": one human-readable line; "json": one JSON object a line (for a log collector).
    log_format: str = "text"

    @field_validator("secrets_keys", "extra_days_off", mode="before")
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("slack_card_channels", mode="before")
    @classmethod
    def _card_channels(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        routes: dict[str, str] = {}
        for part in (p.strip() for p in value.split(",")):
            if not part:
                continue
            key, sep, channel = (x.strip() for x in part.partition("="))
            valid_key = re.fullmatch(r"sev[1-4]|client:\d+", key) is not None
            if not sep or not valid_key or not re.fullmatch(r"[A-Z0-9]{2,}", channel):
                raise Expected(
                    "routes", "comma-separated sevN=CHANNEL or client:ID=CHANNEL (a Slack channel id, e.g. C0123)"
                )
            routes[key] = channel
        return routes

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(("postgresql://", "postgres://")):
            raise Expected(
                "database_url", "a postgresql://user:password@host:port/database URL, or empty for the SQLite file"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise Expected("timezone", "an IANA time zone such as America/Mexico_City") from exc
        return value

    @field_validator("business_hours")
    @classmethod
    def _week_spec(cls, value: str) -> str:
        from bot.domain.calendar import parse_week_spec

        parse_week_spec(value)  # raises ValueError with what it expects
        return value

    @field_validator("extra_days_off")
    @classmethod
    def _days_off(cls, value: list[str]) -> list[str]:
        from bot.domain.calendar import parse_day_off

        for item in value:
            parse_day_off(item)
        return value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: str) -> str:
        if value and not _TOKEN_RE.match(value):
            raise Expected("token_chars", "1-256 characters of A-Z a-z 0-9 _ -")
        return value

    @field_validator("imap_security", "smtp_security")
    @classmethod
    def _mail_security(cls, value: str, info: Any) -> str:
        allowed = {"tls", "none"} if info.field_name == "imap_security" else {"starttls", "tls", "none"}
        if value.lower() not in allowed:
            choices = ", ".join(sorted(allowed))
            raise Expected("one_of", f"one of {choices}", choices=choices)
        return value.lower()

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise Expected(
                "one_of",
                "one of DEBUG, INFO, WARNING, ERROR, CRITICAL",
                choices="DEBUG, INFO, WARNING, ERROR, CRITICAL",
            )
        return value.upper()

    @field_validator("log_format")
    @classmethod
    def _format(cls, value: str) -> str:
        if value.lower() not in {"text", "json"}:
            raise Expected("one_of", "one of text, json", choices="text, json")
        return value.lower()

    # --- derived values ------------------------------------------------------------------------
    @property
    def database_location(self) -> str | Path:
        """Where the store is: the PostgreSQL URL when DATABASE_URL is set, else the SQLite file."""
        return self.database_url or self.database_path

    @property
    def database_shown(self) -> str:
        """The database as an operator may see it printed (a URL's password hidden)."""
        if not self.database_url:
            return str(self.database_path)
        from storage.pg import PgLocation

        return PgLocation.parse(self.database_url).shown

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def sla_hours(self) -> dict[Severity, float]:
        return {
            Severity.CRITICAL: self.sla_hours_sev1,
            Severity.HIGH: self.sla_hours_sev2,
            Severity.MEDIUM: self.sla_hours_sev3,
            Severity.LOW: self.sla_hours_sev4,
        }

    @property
    def tier_hours(self) -> dict[Tier, float]:
        return {
            Tier.PER_EVENT: self.tier_hours_por_evento,
            Tier.BASIC: self.tier_hours_basica,
            Tier.BUSINESS: self.tier_hours_empresarial,
            Tier.BUSINESS_PLUS: self.tier_hours_empresarial_plus,
            Tier.CORPORATE: self.tier_hours_corporativo,
        }

    @property
    def onsite_hours(self) -> dict[Tier, float]:
        return {
            Tier.PER_EVENT: 0.0,
            Tier.BASIC: 0.0,
            Tier.BUSINESS: 0.0,
            Tier.BUSINESS_PLUS: self.onsite_hours_empresarial_plus,
            Tier.CORPORATE: self.onsite_hours_corporativo,
        }

    @property
    def office_hours(self) -> dict[Tier, float]:
        """R-POOLS: included in-office advice hours per tier (on-site advice is the other pool)."""
        return {
            Tier.PER_EVENT: 0.0,
            Tier.BASIC: 0.0,
            Tier.BUSINESS: 0.0,
            Tier.BUSINESS_PLUS: self.office_hours_empresarial_plus,
            Tier.CORPORATE: self.office_hours_corporativo,
        }

    @property
    def extra_days_off_parsed(self) -> list[Any]:
        from bot.domain.calendar import parse_day_off

        return [parse_day_off(item) for item in self.extra_days_off]

    @property
    def telegram_file_url(self) -> str:
        """python-telegram-bot's base_file_url: explicit, or derived from the API base URL."""
        if self.telegram_api_file_url:
            return self.telegram_api_file_url
        base = self.telegram_api_base_url
        if base.endswith("/bot"):
            return base[: -len("/bot")] + "/file/bot"
        return base

    @property
    def mail_enabled(self) -> bool:
        """The e-mail channel runs when both servers are configured."""
        return bool(self.imap_host and self.smtp_host)

    @property
    def mailbox_address(self) -> str:
        """The support mailbox's own address: the From of replies, never answered itself."""
        return (self.mail_address or self.support_email).strip()

    @property
    def sandbox_mode(self) -> bool:
        """No tokens at all: `supportbot start` (and `make run`) then runs the sandbox."""
        return not self.telegram_bot_token and not self.slack_bot_token

    def missing_tokens(self) -> list[str]:
        """What `supportbot run` needs and does not have, by setting name."""
        missing = []
        if not self.telegram_bot_token:
            missing.append("TELEGRAM_BOT_TOKEN")
        if not self.slack_bot_token:
            missing.append("SLACK_BOT_TOKEN")
        if not self.slack_signing_secret and not self.slack_app_token:
            missing.append("SLACK_SIGNING_SECRET or SLACK_APP_TOKEN")
        if self.telegram_webhook_url and not self.telegram_webhook_secret:
            # Without it anyone who finds the URL can post updates as any client.
            missing.append("TELEGRAM_WEBHOOK_SECRET (webhook mode needs it)")
        return missing

    def for_sandbox(self) -> Settings:
        """These settings with the sandbox's own database and key file (never the real ones)."""
        return self.model_copy(
            update={
                "database_path": self.sandbox_database_path,
                "database_url": "",
                "secrets_key_file": self.sandbox_key_file,
                "secrets_keys": [],
            }
        )


def describe_error(exc: ValidationError) -> SettingsError:
    """The first bad setting, what it was and what it expects (pydantic's error type as the reason, or a
    validator's Expected)."""
    err = exc.errors()[0]
    name = str(err["loc"][0]).upper() if err.get("loc") else "a setting"
    msg = str(err.get("msg", "invalid value"))
    msg = msg.removeprefix("Value error, ").removeprefix("Input should be ")
    if msg.startswith(("greater", "less")):
        msg = "a number " + msg
    value = err.get("input")
    secret = any(word in name for word in ("KEY", "TOKEN", "SECRET"))
    got = value if isinstance(value, str | int | float) and not secret else None
    ctx = dict(err.get("ctx") or {})
    refusal = ctx.pop("error", None)
    if isinstance(refusal, Expected):
        return SettingsError(name, got, msg, refusal.reason, refusal.params)
    return SettingsError(name, got, msg, str(err.get("type", "")), ctx)


def load_settings(**overrides: Any) -> Settings:
    """Read the settings; a bad value raises SettingsError with one line to show the operator."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise describe_error(exc) from None
