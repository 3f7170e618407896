"""deploy/supportbot.service, checked by systemd's own `systemd-analyze verify` and `security`.

systemd-analyze comes with Debian's systemd (scripts/install-systemd.sh installs it as root, as `make test` does
in CI). Without it this test skips with the reason, except in CI, where it must run.
"""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.deploy.slack_usage import ROOT

UNIT = ROOT / "deploy" / "supportbot.service"
INSTALLED_AT = "/opt/supportbot/bin/supportbot"  # where the unit expects the virtualenv's command


def require_systemd_analyze(which: Callable[[str], str | None] = shutil.which) -> str:
    found = which("systemd-analyze")
    if found:
        return found
    reason = "systemd-analyze is missing: install Debian's systemd (scripts/install-systemd.sh, as root) to run this"
    if os.environ.get("CI"):
        pytest.fail(f"CI is set, so the service unit test must run, but {reason}")
    print(f"skipping the service unit test: {reason}")
    pytest.skip(reason)


def _unit() -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text(encoding="utf-8"))
    return parser


def _checkable_copy(tmp_path: Path) -> Path:
    """The unit with ExecStart pointing at this checkout's `supportbot` (verify insists the command exists)."""
    here = Path(sys.prefix) / "bin" / "supportbot"
    assert here.exists(), f"{here} is missing: install the project first (make test does)"
    text = UNIT.read_text(encoding="utf-8")
    assert f"ExecStart={INSTALLED_AT} run" in text
    copy = tmp_path / "supportbot.service"
    copy.write_text(text.replace(f"ExecStart={INSTALLED_AT}", f"ExecStart={here}"), encoding="utf-8")
    return copy


def test_systemd_verifies_the_unit_without_a_word(tmp_path: Path) -> None:
    """verify exits 0 even for an unknown key or a bad value (it only warns): any output is a failure too."""
    tool = require_systemd_analyze()
    result = subprocess.run(  # noqa: S603 - a fixed tool on a file the test wrote
        [tool, "verify", "--man=no", str(_checkable_copy(tmp_path))], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and not result.stdout.strip() and not result.stderr.strip(), (
        result.stdout + result.stderr
    )


def test_the_unit_is_hardened(tmp_path: Path) -> None:
    tool = require_systemd_analyze()
    result = subprocess.run(  # noqa: S603
        [tool, "security", "--offline=true", "--no-pager", str(_checkable_copy(tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    last = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr
    assert "Overall exposure level" in last, result.stdout + result.stderr
    exposure = float(last.split(":")[1].split()[0])
    assert exposure <= 2.0, f"exposure {exposure} (systemd's scale: 0 safest, 10 unprotected)\n{result.stdout}"


def test_the_unit_runs_supportbot_as_a_dynamic_user_and_restarts_it_on_failure() -> None:
    service = _unit()["Service"]
    assert service["ExecStart"] == f"{INSTALLED_AT} run"
    assert service["DynamicUser"] == "yes" and service["StateDirectory"].split()[0] == "supportbot"
    assert service["WorkingDirectory"] == "/var/lib/supportbot"
    assert service["Restart"] == "on-failure"
    assert service["ProtectSystem"] == "strict" and service["NoNewPrivileges"] == "yes"
    assert service["EnvironmentFile"] == "/etc/supportbot/supportbot.env"
    assert _unit()["Install"]["WantedBy"] == "multi-user.target"


def test_without_systemd_analyze_it_skips_with_a_reason_but_fails_in_ci(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="systemd-analyze is missing"):
        require_systemd_analyze(which=lambda name: None)
    assert "skipping the service unit test" in capsys.readouterr().out
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI is set"):
        require_systemd_analyze(which=lambda name: None)
