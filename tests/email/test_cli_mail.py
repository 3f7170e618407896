"""`supportbot mail`: the office lists "correo sin cliente", attaches a message to a company, sets addresses."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from bot.cli import main
from bot.domain.types import Tier
from bot.settings import Settings
from bot.wiring import open_store
from storage.mail_records import UnmatchedReason
from tests.storage.contract_support import T0


@pytest.fixture(autouse=True)
def _workdir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    return tmp_path


async def _seed() -> tuple[int, int, int]:
    store = await open_store(Settings(_env_file=None))  # type: ignore[call-arg]
    try:
        async with store.transaction() as tx:
            client = await tx.add_client("Comercializadora del Valle", at=T0)
            await tx.add_contract(number="POL-1", client_id=client.id, tier=Tier.BUSINESS, starts_on=date(2026, 1, 1),
                                  ends_on=date(2026, 12, 31), minutes_total=1200)  # fmt: skip
            contact = await tx.add_contact(client.id, "Laura", at=T0)
            kept = await tx.add_unmatched_mail(
                message_id="<u1@x.test>", address="rosa@comercializadora.test", name="Rosa Díaz", subject="Sin red",
                body="No hay red", files=[], reason=UnmatchedReason.UNKNOWN_SENDER, at=T0,
            )  # fmt: skip
            assert kept is not None
            return client.id, contact.id, kept.id
    finally:
        await store.close()


async def test_the_office_lists_and_attaches_mail_without_a_client(capsys: pytest.CaptureFixture[str]) -> None:
    client_id, contact_id, kept_id = await _seed()
    assert await _run("mail", "list") == 0
    out = capsys.readouterr().out
    assert "rosa@comercializadora.test" in out and "«Sin red»" in out and "remitente desconocido" in out
    assert await _run("mail", "contact", str(contact_id), "--email", "Laura@Comercializadora.test") == 0
    assert "laura@comercializadora.test" in capsys.readouterr().out
    assert await _run("mail", "attach", str(kept_id), "--client", str(client_id)) == 0
    assert "SOP-" in capsys.readouterr().out
    assert await _run("mail", "attach", str(kept_id), "--client", str(client_id)) == 1
    assert "ya se había asignado" in capsys.readouterr().err
    assert await _run("mail", "list") == 0
    assert capsys.readouterr().out.strip() == "(ninguno)"
    assert await _run("mail", "contact", "999", "--email", "x@y.test") == 1
    assert "no hay un contacto con el id 999" in capsys.readouterr().err
    assert await _run("mail", "contact", str(contact_id), "--email", "laura@") == 1
    err = capsys.readouterr().err
    assert err == "supportbot mail: «laura@» no es un correo válido.\n"
    assert await _run("mail", "list", "--all", "--json") == 0
    [row] = json.loads(capsys.readouterr().out)
    assert (row["reason"], row["state"], row["subject"]) == ("unknown_sender", "attached", "Sin red")


async def _run(*argv: str) -> int:
    import asyncio

    return await asyncio.to_thread(main, list(argv))
