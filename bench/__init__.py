"""Benchmarks run by `python -m bench`: every module named `*_bench` here exposes `run(quick) -> BenchResult`."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class BenchResult:
    """What one benchmark module reports: printable lines, and whether its correctness checks passed."""

    name: str
    lines: list[str] = field(default_factory=list)
    ok: bool = True
