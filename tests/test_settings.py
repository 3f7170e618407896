"""Settings: one module reads them; a bad value is one clear line; .env.example documents every one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Settings read .env from the working directory: run where there is none.
    monkeypatch.chdir(tmp_path)
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)


def _example_values() -> dict[str, str]:
    values = {}
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    return values


def test_env_example_lists_every_setting_once() -> None:
    lines = [
        line.partition("=")[0]
        for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    assert len(lines) == len(set(lines)), "a setting appears twice in .env.example"
    assert set(lines) == {name.upper() for name in Settings.model_fields}


def test_env_example_shows_the_defaults() -> None:
    """Loading .env.example as it is gives exactly the defaults."""
    from_example = Settings(_env_file=ROOT / ".env.example")  # type: ignore[call-arg]
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    assert from_example.model_dump() == defaults.model_dump()


def test_every_setting_has_a_comment_in_env_example() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    blocks = re.split(r"\n(?=# ---)", text)
    assert all("#" in block for block in blocks)


def test_policy_defaults() -> None:
    """P-SLA-1..5 and P-POL-1/6 defaults."""
    s = load_settings()
    assert [s.sla_hours[sev] for sev in sorted(s.sla_hours)] == [8, 10, 12, 24]
    assert s.timezone == "America/Mexico_City"
    assert s.business_hours == "mon-fri 09:00-14:00,16:00-19:00"
    assert sorted(s.tier_hours.values()) == [1, 5, 20, 50, 70]
    assert sorted(s.onsite_hours.values()) == [0, 0, 0, 3, 5]


@pytest.mark.parametrize(
    ("name", "value", "expect"),
    [
        ("TIMEZONE", "Mars/Olympus", "setting TIMEZONE (got 'Mars/Olympus'): expected an IANA time zone"),
        (
            "SLA_HOURS_SEV1",
            "-3",
            "setting SLA_HOURS_SEV1 (got '-3'): expected a number greater than 0",
        ),
        ("HTTP_PORT", "eighty", "setting HTTP_PORT (got 'eighty'): expected"),
        ("BUSINESS_HOURS", "lunes 9-2", "setting BUSINESS_HOURS (got 'lunes 9-2'): expected"),
        ("EXTRA_DAYS_OFF", "2026-13-45", "setting EXTRA_DAYS_OFF"),
        (
            "TELEGRAM_WEBHOOK_SECRET",
            "has space",
            "setting TELEGRAM_WEBHOOK_SECRET: expected 1-256 characters",
        ),
        ("LOG_LEVEL", "LOUD", "setting LOG_LEVEL (got 'LOUD'): expected one of DEBUG"),
        ("LOG_FORMAT", "xml", "setting LOG_FORMAT (got 'xml'): expected one of text, json"),
        (
            "RETENTION_DAYS_INBOX",
            "0",
            "setting RETENTION_DAYS_INBOX (got '0'): expected a number greater than or equal to 1",
        ),
        ("RETENTION_DAYS_OUTBOX", "a month", "setting RETENTION_DAYS_OUTBOX (got 'a month'): expected"),
    ],
)
def test_bad_value_is_one_line_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expect: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(expect), message


def test_retention_and_log_format_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    s = load_settings()
    assert (s.retention_days_inbox, s.retention_days_outbox, s.retention_days_timers) == (14, 30, 30)
    assert s.log_format == "text"
    monkeypatch.setenv("LOG_FORMAT", "JSON")
    assert load_settings().log_format == "json"


def test_secret_values_are_never_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "s3cr3t value!")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert "s3cr3t" not in str(info.value)


def test_file_url_derived_from_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", "http://127.0.0.1:9000/bot")
    assert load_settings().telegram_file_url == "http://127.0.0.1:9000/file/bot"
    monkeypatch.setenv("TELEGRAM_API_FILE_URL", "http://files.example/file/bot")
    assert load_settings().telegram_file_url == "http://files.example/file/bot"


def test_lists_split_on_commas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXTRA_DAYS_OFF", "2026-12-24 14:00-19:00, 2026-12-31")
    assert load_settings().extra_days_off == ["2026-12-24 14:00-19:00", "2026-12-31"]


def test_sandbox_mode_without_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    s = load_settings()
    assert s.sandbox_mode
    assert s.missing_tokens() == ["TELEGRAM_BOT_TOKEN", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET or SLACK_APP_TOKEN"]
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    s = load_settings()
    assert not s.sandbox_mode
    assert s.missing_tokens() == ["TELEGRAM_BOT_TOKEN", "SLACK_SIGNING_SECRET or SLACK_APP_TOKEN"]


def test_webhook_mode_without_a_secret_is_missing_something(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue "safe by default": without the secret anyone who finds the URL can post updates as any client."""
    for name, value in {"TELEGRAM_BOT_TOKEN": "1:a", "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}.items():
        monkeypatch.setenv(name, value)
    assert load_settings().missing_tokens() == []
    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", "https://bot.example.com/telegram/webhook")
    assert load_settings().missing_tokens() == ["TELEGRAM_WEBHOOK_SECRET (webhook mode needs it)"]
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "s3cret")
    assert load_settings().missing_tokens() == []


def test_the_sandbox_never_uses_the_real_database_or_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRETS_KEYS", "k1")
    s = load_settings().for_sandbox()
    assert (s.database_path, s.secrets_key_file, s.secrets_keys) == (
        Path("var/sandbox.db"),
        Path("var/sandbox.key"),
        [],
    )
