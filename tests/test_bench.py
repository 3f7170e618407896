"""The benchmarks still run and their correctness checks hold (speed is measured by `make bench`, not here)."""

from __future__ import annotations

import bench.__main__ as bench_main


def test_every_benchmark_runs_quick_and_its_checks_pass(capsys: object) -> None:
    assert "calendar_bench" in bench_main.discover()
    assert bench_main.main(["--quick", "--only", "calendar_bench"]) == 0
