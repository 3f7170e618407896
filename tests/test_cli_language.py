"""The `supportbot` command speaks Spanish by default and English with LANG=en: every help text (argparse's own
words included), every usage mistake and the messages of every verb, from the bot's catalogues (`cli.*`)."""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import build_parser, main
from bot.settings import Settings
from bot.wiring import open_store
from storage.records import OutboxStatus

# What argparse says in English when nobody translates it; none of it may reach a Spanish screen.
ARGPARSE_ENGLISH = ("usage:", "options:", "positional arguments", "show this help message", "the following arguments",
                    "invalid choice", "expected one argument", "unrecognized arguments", "not allowed with",
                    "is required", "argument ", "(see `")  # fmt: skip


@pytest.fixture(autouse=True)
def _workdir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


Verb = tuple[tuple[str, ...], argparse.ArgumentParser]


def _verbs(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[Verb]:
    """Every parser a user can ask --help of, with the words that lead to it."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _verbs(child, (*path, name))


def _help(capsys: pytest.CaptureFixture[str], path: tuple[str, ...]) -> str:
    with pytest.raises(SystemExit) as done:
        main([*path, "--help"])
    assert done.value.code == 0
    return capsys.readouterr().out


def test_every_argument_of_every_verb_is_explained_in_both_languages(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, dict[tuple[str, ...], list[str]]] = {}
    for lang in ("es_MX.UTF-8", "en_US.UTF-8"):
        monkeypatch.setenv("LANG", lang)
        texts: dict[tuple[str, ...], list[str]] = {}
        for path, parser in _verbs(build_parser()):
            # (a list of commands or actions is explained by each of its choices)
            helps = [str(a.help) for a in parser._actions if not isinstance(a, argparse._SubParsersAction)]
            assert all(h and h != "None" and not h.startswith("help.") for h in helps), (path, helps)
            texts[path] = [parser.description or "", *helps]
        seen[lang[:2]] = texts
    assert len(seen["es"]) >= 55 and seen["es"].keys() == seen["en"].keys()
    for path, spanish in seen["es"].items():
        english = seen["en"][path]
        # The description and most arguments read differently: a text left in English would be the same in both.
        same = [s for s, e in zip(spanish, english, strict=True) if s == e and not re.fullmatch(r"[A-Z0-9 ()]*", s)]
        assert len(same) <= 1, (path, same)  # e.g. "RFC" or a URL shape may stay as they are


def test_spanish_help_has_no_english_left(capsys: pytest.CaptureFixture[str]) -> None:
    for path, _ in _verbs(build_parser()):
        text = _help(capsys, path)
        assert text.startswith("uso: supportbot"), (path, text[:80])
        assert "opciones:" in text and "muestra esta ayuda y termina" in text, path
        assert not [word for word in ARGPARSE_ENGLISH if word in text], (path, text)
    assert "COMANDO" in _help(capsys, ()) and "ACCIÓN" in _help(capsys, ("clients",))
    assert "pólizas de soporte" in _help(capsys, ())
    text = " ".join(_help(capsys, ("contacts", "edit")).split())
    assert "actúa por toda la empresa" in text and "P-ESC-2, P-CLOSE-2" in text


def test_english_help_with_lang_en(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    text = _help(capsys, ("contracts", "add"))
    assert text.startswith("usage: supportbot contracts add") and "options:" in text
    assert "purchase order; required for por_evento (P-POL-1)" in text and "show this help message and exit" in text


@pytest.mark.parametrize(
    ("argv", "spanish"),
    [
        (["clients"], "faltan estos argumentos: ACCIÓN"),
        (["nonsense"], "argumento COMANDO: 'nonsense' no es una opción (elige entre 'run', "),
        (["agents", "add", "--name", "A", "--slack-id", "U1", "--role", "jefe"], "'jefe' no es una opción"),
        (["contracts", "add", "--client", "1"], "faltan estos argumentos: --number, --tier, --starts"),
        (["clients", "list", "--json", "--color"], "argumentos desconocidos: --color"),
        (["clients", "add"], "faltan estos argumentos: NOMBRE"),
        (["products", "warranty", "1"], "falta uno de estos argumentos: --until --none"),
        (["products", "warranty", "1", "--until", "2027-01-01", "--none"], "no se puede usar junto con --until"),
        (["tickets", "show"], "faltan estos argumentos: NÚMERO"),
        (["outbox", "retry", "x"], "«x» no es un número entero"),
        (["outbox", "list", "--limit", "0"], "«0» debe ser 1 o más"),
        (["sla", "deadline", "--severity", "1", "--opened", "ayer"], "«ayer» no es un instante ISO-8601"),
        (["contracts", "add", "--client", "1", "--number", "X", "--tier", "basica", "--starts", "1/1/26"],
         "«1/1/26» no es una fecha como 2026-03-15"),
        (["invites", "create", "--client", "1", "--name", "A", "--ttl-hours", "-2"], "«-2» no es un número de horas"),
        (["report", "--month", "2026-11", "--from", "2026-11-01"], "no se puede usar junto con --month"),
        (["clients", "list", "--json", "--limit"], "argumentos desconocidos: --limit"),
        (["outbox", "list", "--limit"], "argumento --limit: falta su valor"),
    ],
)  # fmt: skip
def test_usage_mistakes_are_one_spanish_line(capsys: pytest.CaptureFixture[str], argv: list[str], spanish: str) -> None:
    with pytest.raises(SystemExit) as done:
        main(argv)
    err = capsys.readouterr().err
    assert done.value.code == 2 and err.count("\n") == 1, err
    assert spanish in err and "error:" in err and "(ver `supportbot" in err and "--help`)" in err, err
    assert not [word for word in ARGPARSE_ENGLISH if word in err], err


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_older_verbs_speak_spanish_too(capsys: pytest.CaptureFixture[str], _workdir: Path) -> None:
    assert run(capsys, "db", "migrate")[1] == "se creó var/supportbot.db con el esquema actual\n"
    assert run(capsys, "db", "migrate")[1] == "var/supportbot.db está al día\n"
    run(capsys, "clients", "add", "Comercializadora del Valle")
    run(capsys, "contacts", "add", "--client", "1", "--name", "Laura Pérez", "--phone", "222 123 4567")
    code, out, _ = run(capsys, "contacts", "show", "1")
    assert code == 0 and out.splitlines()[0] == "contacto:             1  Laura Pérez"
    assert "actúa por la empresa: no (P-ESC-2, P-CLOSE-2)" in out and "estado:               activo" in out
    assert "tickets:              0 reportados, 0 abiertos" in out and "sin vincular" in out
    code, out, _ = run(capsys, "contacts", "edit", "1", "--acts-for-company", "yes")
    assert out == "contacto 1: Laura Pérez del cliente 1, actúa por la empresa: sí\n"
    code, _, err = run(capsys, "contacts", "edit", "1")
    assert (code, err) == (
        1,
        "supportbot contacts: no hay nada que cambiar: indica --name, --phone o --acts-for-company\n",
    )
    code, _, err = run(capsys, "contacts", "show", "9")
    assert err == "supportbot contacts: no hay un contacto con el id 9 (ver `supportbot contacts list`)\n"
    code, out, _ = run(capsys, "contacts", "list")
    assert out.split()[:3] == ["ID", "CLIENTE", "NOMBRE"] and "Comercializadora del Valle" in out and "activo" in out
    run(capsys, "contracts", "add", "--client", "1", "--number", "POL-1", "--tier", "corporativo", "--starts",
        "2026-03-15")  # fmt: skip
    code, out, _ = run(capsys, "contracts", "show", "POL-1")
    assert "horas:      0 usadas, 70 disponibles de 70 (100 % disponible)" in out
    assert "en sitio:   0 usadas, 5 disponibles de 5 (P-POL-6)" in out
    assert run(capsys, "products", "add", "--client", "1", "--name", "FortiGate 60F", "--area", "firewall")[1] == (
        "producto 1: FortiGate 60F [firewall]\n"
    )
    assert run(capsys, "products", "discontinue", "1")[1] == "producto 1: FortiGate 60F descontinuado\n"
    assert run(capsys, "products", "warranty", "1", "--none")[1] == "producto 1: FortiGate 60F, garantía sin garantía\n"
    code, _, err = run(capsys, "products", "warranty", "9", "--none")
    assert err == "supportbot products: no hay un producto con el id 9 (ver `supportbot products list --client ID`)\n"
    code, _, err = run(capsys, "contracts", "add", "--client", "1", "--number", "POL-2", "--tier", "basica",
                       "--starts", "2026-03-15", "--ends", "2026-01-01")  # fmt: skip
    assert err == "supportbot contracts: la póliza termina (2026-01-01) antes de empezar (2026-03-15)\n"
    code, _, err = run(capsys, "contracts", "add", "--client", "1", "--number", " ", "--tier", "basica",
                       "--starts", "2026-03-15")  # fmt: skip
    assert err == "supportbot contracts: una póliza necesita un número, como POL-2026-001\n"
    assert run(capsys, "outbox", "list")[1] == "nada por enviar\n"
    assert run(capsys, "outbox", "list", "--dead")[1] == "no hay mensajes fallidos\n"
    assert run(capsys, "inbox", "list", "--failed")[1] == "no hay eventos fallidos ni ilegibles\n"
    code, _, err = run(capsys, "outbox", "retry", "999")
    assert err == "supportbot outbox: no hay un mensaje 999 por enviar (ver `supportbot outbox list --dead`)\n"
    code, _, err = run(capsys, "db", "backup", "var/supportbot.db")
    assert err == "supportbot db: var/supportbot.db ya existe; da un nombre de archivo nuevo\n"
    code, out, _ = run(capsys, "contacts", "forget", "1")
    assert out.startswith("contacto 1 eliminado: nombre, teléfono e id de Telegram borrados, 0 borradores y 0 secretos")
    code, _, err = run(capsys, "contacts", "edit", "1", "--name", "Laura")
    assert code == 1 and err.startswith("supportbot contacts: el contacto 1 se eliminó el ")


async def test_outbox_and_inbox_lists_have_json_for_scripts(capsys: pytest.CaptureFixture[str]) -> None:
    """--json on every list: every field a script needs, never a payload (it may carry what a client wrote)."""
    import asyncio
    from datetime import UTC, datetime

    at = datetime(2026, 11, 24, 16, 15, tzinfo=UTC)
    store = await open_store(Settings(_env_file=None))  # type: ignore[call-arg]
    try:
        async with store.transaction() as tx:
            waiting = await tx.enqueue("telegram", "chat:1", "message", {"chat_id": 1, "text": "k9#Lm2"}, at=at)
            dead = await tx.enqueue("slack", "C0SUPPORT", "card", {"ticket_id": 7}, at=at)
            assert waiting is not None and dead is not None
            await tx.mark_dead(dead, "channel_not_found")
            entry = await tx.add_inbox("telegram", "77", "chat:5", "update", {"text": "k9#Lm2"}, at=at)
    finally:
        await store.close()
    code, out, _ = await asyncio.to_thread(run, capsys, "outbox", "list", "--json")
    [row] = json.loads(out)
    assert code == 0 and row["id"] == waiting and row["status"] == OutboxStatus.PENDING.value
    assert (row["kind"], row["destination"], row["attempts"], row["created_at"]) == (
        "message", "telegram", 0, "2026-11-24T16:15:00+00:00"
    )  # fmt: skip
    assert "k9#Lm2" not in out and "payload" not in row
    code, out, _ = await asyncio.to_thread(run, capsys, "outbox", "list", "--dead", "--json")
    [row] = json.loads(out)
    assert (row["id"], row["status"], row["last_error"]) == (dead, "dead", "channel_not_found")
    code, out, _ = await asyncio.to_thread(run, capsys, "inbox", "list", "--json")
    [row] = json.loads(out)
    assert (row["id"], row["source"], row["key"], row["status"]) == (entry, "telegram", "77", "pending")
    assert "k9#Lm2" not in out and "payload" not in row
    code, out, _ = await asyncio.to_thread(run, capsys, "inbox", "list", "--failed", "--json")
    assert (code, json.loads(out)) == (0, [])


@pytest.mark.parametrize(
    ("name", "value", "line"),
    [
        ("SLA_HOURS_SEV2", "diez", "supportbot: ajuste SLA_HOURS_SEV2 (valor 'diez'): se esperaba un número válido\n"),
        ("RETENTION_DAYS_INBOX", "0",
         "supportbot: ajuste RETENTION_DAYS_INBOX (valor '0'): se esperaba un número mayor o igual que 1\n"),
        ("LOG_FORMAT", "xml", "supportbot: ajuste LOG_FORMAT (valor 'xml'): se esperaba uno de text, json\n"),
        ("TIMEZONE", "Mars/Olympus",
         "supportbot: ajuste TIMEZONE (valor 'Mars/Olympus'): se esperaba una zona horaria IANA como "
         "America/Mexico_City\n"),
        ("TELEGRAM_WEBHOOK_SECRET", "con espacio",  # a secret's value is never shown
         "supportbot: ajuste TELEGRAM_WEBHOOK_SECRET: se esperaba de 1 a 256 caracteres entre A-Z a-z 0-9 _ -\n"),
    ],
)  # fmt: skip
def test_a_bad_setting_is_one_spanish_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, name: str, value: str, line: str
) -> None:
    monkeypatch.setenv(name, value)
    code, out, err = run(capsys, "clients", "list")
    assert (code, out, err) == (2, "", line)
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    code, _, err = run(capsys, "clients", "list")
    assert code == 2 and err.startswith(f"supportbot: setting {name}") and "expected" in err
