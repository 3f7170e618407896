"""The office's `supportbot` verbs: Spanish by default and English with LANG=en, names in tables, --json on
every list, one-line errors for every constraint, validated names and phones, the new verbs, the certificate PDF
and the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pypdf import PdfReader

from bot.cli import main
from bot.cli.text import friendly
from bot.settings import Settings
from bot.validation import FieldError, check_email, check_name, check_phone


@pytest.fixture(autouse=True)
def _workdir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def company(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "clients", "add", "Comercializadora del Valle", "--phone", "222 123 4567")[0] == 0
    assert run(capsys, "contracts", "add", "--client", "1", "--number", "POL-2026-001", "--tier", "empresarial",
               "--starts", "2026-03-15")[0] == 0  # fmt: skip
    assert run(capsys, "products", "add", "--client", "1", "--name", "FortiGate 60F", "--area", "firewall",
               "--contract", "1", "--warranty-until", "2027-01-31")[0] == 0  # fmt: skip


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("222 123 4567", "+52 222 123 4567"),
        ("(55) 1234-5678", "+52 55 1234 5678"),
        ("+52 1 222 123 4567", "+52 222 123 4567"),  # the mobile "1" Mexico dropped in 2019
        ("044 222 123 4567", "+52 222 123 4567"),
        ("01 81 8000 0000", "+52 81 8000 0000"),
        ("+1 415 555 2671", "+1 415-555-2671"),
        ("", ""),
    ],
)
def test_mexican_phone_formats_are_written_one_way(typed: str, stored: str) -> None:
    assert check_phone(typed) == stored


@pytest.mark.parametrize("typed", ["hola", "123", "222 123 45", "+52 000 000 0000"])
def test_a_phone_that_is_no_phone_is_refused(typed: str) -> None:
    with pytest.raises(FieldError):
        check_phone(typed)


def test_names_and_emails() -> None:
    assert check_name("  Comercializadora   del Valle ") == "Comercializadora del Valle"
    for bad in ("", "   ", "1234", "x" * 121, "Ana\x00"):
        with pytest.raises(FieldError):
            check_name(bad)
    assert check_email(" laura@Example.COM ") == "laura@example.com"
    with pytest.raises(FieldError):
        check_email("laura@")


def test_spanish_by_default_and_english_with_lang_en(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(capsys, "clients", "add", "Comercializadora del Valle")[1] == "cliente 1: Comercializadora del Valle\n"
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert run(capsys, "clients", "add", "Ferretería del Norte")[1] == "client 2: Ferretería del Norte\n"
    out = run(capsys, "clients", "list")[1]
    assert out.splitlines()[0].split()[:2] == ["ID", "NAME"]
    monkeypatch.setenv("LANG", "es_MX.UTF-8")
    assert run(capsys, "clients", "list")[1].splitlines()[0].split()[:2] == ["ID", "NOMBRE"]


def test_every_constraint_is_one_clean_line(capsys: pytest.CaptureFixture[str]) -> None:
    company(capsys)
    cases = [
        (["contracts", "add", "--client", "1", "--number", "POL-2026-001", "--tier", "basica", "--starts",
          "2026-01-01"], "supportbot contracts: ya existe una póliza con el número POL-2026-001\n"),
        (["clients", "add", "comercializadora DEL valle"],
         "supportbot clients: ya existe un cliente llamado Comercializadora del Valle (id 1)\n"),
        (["clients", "add", "Otra", "--phone", "hola"], None),
        (["clients", "edit", "9", "--name", "X"],
         "supportbot clients: no hay un cliente con el id 9 (ver `supportbot clients list`)\n"),
        (["contacts", "add", "--client", "1", "--name", "Laura", "--phone", "12"], None),
        (["agents", "role", "7", "--role", "agent"], None),
        (["invites", "revoke", "NOPE2026"], None),
        (["contracts", "certificate", "POL-9"], None),
        (["tickets", "show", "SOP-2026-000009"], None),
    ]  # fmt: skip
    for argv, expected in cases:
        code, out, err = run(capsys, *argv)
        assert code == 1 and out == "" and err.count("\n") == 1, (argv, err)
        assert "constraint" not in err and "Traceback" not in err
        if expected is not None:
            assert err == expected
    assert "«hola» no es un teléfono válido" in run(capsys, "clients", "add", "Otra", "--phone", "hola")[2]
    run(capsys, "agents", "add", "--name", "Marco", "--slack-id", "U0MARCO", "--role", "agent")
    err = run(capsys, "agents", "add", "--name", "Otro", "--slack-id", "U0MARCO", "--role", "agent")[2]
    assert err == "supportbot agents: ya existe un agente con el id de Slack U0MARCO (Marco)\n"


def test_a_raw_constraint_message_becomes_words(monkeypatch: pytest.MonkeyPatch) -> None:
    assert friendly("UNIQUE constraint failed: contracts.number") == (
        "ya existe un registro con ese valor de número de póliza"
    )
    assert friendly("FOREIGN KEY constraint failed") == "el dato hace referencia a algo que no existe"
    # As the store words them from either backend (PostgreSQL's detail follows in parentheses).
    pg = 'UNIQUE constraint failed: invites.code (duplicate key value violates unique constraint "invites_pkey")'
    assert friendly(pg) == "ya existe un registro con ese valor de código de invitación"
    assert friendly("a referenced row does not exist (FOREIGN KEY constraint failed)") == (
        "el dato hace referencia a algo que no existe"
    )
    monkeypatch.setenv("LANG", "en")
    assert friendly("UNIQUE constraint failed: agents.slack_user_id") == "a row with that Slack id already exists"


def test_lists_show_names_and_every_list_has_json(capsys: pytest.CaptureFixture[str]) -> None:
    company(capsys)
    run(capsys, "agents", "add", "--name", "Marco", "--slack-id", "U0MARCO", "--role", "agent")
    run(capsys, "invites", "create", "--client", "1", "--name", "Laura Pérez")
    run(capsys, "contacts", "add", "--client", "1", "--name", "Laura Pérez", "--phone", "222 765 4321")
    for argv in (["clients", "list"], ["contracts", "list"], ["contracts", "expiring", "--within-days", "400"],
                 ["products", "list", "--client", "1"], ["agents", "list"], ["invites", "list"],
                 ["tickets", "list"], ["contacts", "list"]):  # fmt: skip
        code, out, _ = run(capsys, *argv, "--json")
        assert code == 0 and isinstance(json.loads(out), list), argv
    [client] = json.loads(run(capsys, "clients", "list", "--json")[1])
    assert (client["name"], client["phone"], client["contract"]) == (
        "Comercializadora del Valle", "+52 222 123 4567", "POL-2026-001",
    )  # fmt: skip
    table = run(capsys, "contracts", "list")[1].splitlines()
    assert "Comercializadora del Valle" in table[1]
    assert table[0].index("CLIENTE") == table[1].index("Comercializadora")  # aligned under its header
    [invite] = json.loads(run(capsys, "invites", "list", "--json")[1])
    assert invite["client"] == "Comercializadora del Valle" and "." not in invite["expires_at"]  # no microseconds
    [contact] = json.loads(run(capsys, "contacts", "list", "--json")[1])
    assert contact["phone"] == "+52 222 765 4321"


def test_clients_edit(capsys: pytest.CaptureFixture[str]) -> None:
    company(capsys)
    code, out, _ = run(capsys, "clients", "edit", "1", "--phone", "(222) 248-0000", "--tax-id", "CVA990101AB1")
    assert (code, out) == (0, "cliente 1: Comercializadora del Valle · +52 222 248 0000\n")
    assert json.loads(run(capsys, "clients", "list", "--json")[1])[0]["tax_id"] == "CVA990101AB1"


def test_contracts_renew_moves_the_products_and_writes_the_certificate(capsys: pytest.CaptureFixture[str]) -> None:
    company(capsys)
    code, out, err = run(capsys, "contracts", "renew", "POL-2026-001", "--out", "cert.pdf")
    assert code == 0, err
    assert out.splitlines()[0] == (
        "POL-2026-001 renovada como POL-2027-001: del 2027-03-15 al 2028-03-14, 20 h;"
        " 1 productos pasan a la nueva póliza"
    )
    rows = {r["number"]: r for r in json.loads(run(capsys, "contracts", "list", "--json")[1])}
    assert rows["POL-2027-001"]["hours_left"] == 20.0 and rows["POL-2027-001"]["starts_on"] == "2027-03-15"
    [product] = json.loads(run(capsys, "products", "list", "--client", "1", "--json")[1])
    assert product["contract"] == "POL-2027-001"
    text = PdfReader("cert.pdf").pages[0].extract_text()
    assert "POL-2027-001" in text and "FortiGate 60F" in text
    assert run(capsys, "contracts", "renew", "POL-2026-001")[2] == (
        "supportbot contracts: ya existe una póliza con el número POL-2027-001\n"
    )


def test_the_certificate_pdf_reads_back(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """P-POL-8: number, tier, validity, products, the company's details."""
    company(capsys)
    run(capsys, "clients", "edit", "1", "--tax-id", "CVA990101AB1")
    code, out, _ = run(capsys, "contracts", "certificate", "POL-2026-001")
    assert (code, out) == (0, "certificado escrito en certificates/POL-2026-001.pdf\n")
    text = " ".join(PdfReader("certificates/POL-2026-001.pdf").pages[0].extract_text().split())
    for fragment in ("Certificado de póliza POL-2026-001", "Comercializadora del Valle", "CVA990101AB1", "Empresarial",
                     "del 2026-03-15 al 2027-03-14", "20 h contratadas", "FortiGate 60F",
                     "garantía hasta el 2027-01-31",
                     "Intecnia", "soporte@intecnia.com.mx"):  # fmt: skip
        assert fragment in text, fragment
    monkeypatch.setenv("LANG", "en")
    run(capsys, "contracts", "certificate", "POL-2026-001", "--out", "en.pdf")
    assert "Contract certificate POL-2026-001" in PdfReader("en.pdf").pages[0].extract_text()


def test_agents_deactivate_and_role(capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "agents", "add", "--name", "Marco", "--slack-id", "U0MARCO", "--role", "agent")
    assert (
        run(capsys, "agents", "role", "1", "--role", "quality_manager")[1] == "Marco ahora es responsable de calidad\n"
    )
    code, out, _ = run(capsys, "agents", "deactivate", "1")
    assert code == 0 and out.startswith("Marco (U0MARCO) desactivado")
    [agent] = json.loads(run(capsys, "agents", "list", "--json")[1])
    assert (agent["role"], agent["active"]) == ("quality_manager", False)


def test_invites_revoke(capsys: pytest.CaptureFixture[str]) -> None:
    company(capsys)
    run(capsys, "invites", "create", "--client", "1", "--name", "Laura Pérez")
    [invite] = json.loads(run(capsys, "invites", "list", "--json")[1])
    code, out, _ = run(capsys, "invites", "revoke", invite["code"].lower())
    assert (code, out) == (0, f"invitación {invite['code']} para Laura Pérez retirada: ya no sirve\n")
    assert json.loads(run(capsys, "invites", "list", "--json")[1])[0]["state"] == "expired"
    assert "vencida" in run(capsys, "invites", "list")[1]


def test_report_writes_the_folder_for_a_month_a_range_and_a_client(capsys: pytest.CaptureFixture[str]) -> None:
    company(capsys)
    code, out, err = run(capsys, "report", "--month", "2026-11")
    assert code == 0, err
    assert out.splitlines()[0] == "Tickets abiertos: 0 (0 en garantía)."
    assert Path("reports/2026-11/index.html").exists() and len(list(Path("reports/2026-11").glob("*.png"))) == 7
    assert run(capsys, "report", "--from", "2026-11-01", "--to", "2026-11-15", "--client", "1", "--out", "r")[0] == 0
    rows = dict(line.split(",", 1) for line in Path("r/summary.csv").read_text().splitlines()[1:])
    assert rows["client"] == "Comercializadora del Valle" and rows["period_end"].startswith("2026-11-16T00:00")
    for argv, fragment in (
        (["report"], "--month"),
        (["report", "--month", "2026-13"], "2026-13"),
        (["report", "--from", "2026-11-15", "--to", "2026-11-01"], "antes de empezar"),
        (["report", "--month", "2026-11", "--client", "9"], "no hay un cliente con el id 9"),
    ):
        code, _, err = run(capsys, *argv)
        assert code == 1 and fragment in err and err.count("\n") == 1, err
