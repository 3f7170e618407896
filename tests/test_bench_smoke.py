"""Every benchmark still runs in its quick form and its correctness checks pass (all delivered, nothing dead,
nothing refused by the stand-ins). Speed is measured by `make bench`, not here: about 30 s in all."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import bench.__main__ as bench_main

ELSEWHERE = {"calendar_bench"}  # tests/test_bench.py runs it


@pytest.fixture(autouse=True)
def _logger_levels() -> Iterator[None]:
    """The benchmarks quiet the bot's loggers for their own process; tests that run later need them back."""
    manager = logging.Logger.manager
    before = {name: lg.level for name, lg in manager.loggerDict.items() if isinstance(lg, logging.Logger)}
    yield
    for name, lg in list(manager.loggerDict.items()):
        if isinstance(lg, logging.Logger):
            lg.setLevel(before.get(name, logging.NOTSET))


@pytest.mark.parametrize("name", sorted(set(bench_main.discover()) - ELSEWHERE))
def test_quick_benchmark_runs_and_its_checks_pass(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The ticket benchmark caches its database in the temporary directory: this test's own.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    status = bench_main.main(["--quick", "--only", name])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "FAILED" not in out


def test_the_benchmarks_are_discovered() -> None:
    assert {"intake_bench", "paced_burst_bench", "confirm_latency_bench", "tickets_bench"} <= set(bench_main.discover())
