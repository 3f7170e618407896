"""Runs every benchmark module of this package (`*_bench.py`) and exits non-zero if any check failed."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import platform
import sys
from collections.abc import Callable, Sequence
from typing import cast

import bench
from bench import BenchResult


def discover() -> list[str]:
    """Names of the benchmark modules, e.g. ["calendar_bench"]; a new module is picked up without registration."""
    return sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.endswith("_bench"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny runs, to check the benchmarks still work")
    parser.add_argument("--only", action="append", default=[], metavar="NAME", help="run only this module")
    args = parser.parse_args(argv)
    names = discover()
    unknown = sorted(set(args.only) - set(names))
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(names)}")
    print(f"python {platform.python_version()} on {platform.machine()}, {platform.system()}")
    failed: list[str] = []
    for name in names:
        if args.only and name not in args.only:
            continue
        module = importlib.import_module(f"bench.{name}")
        run = cast(Callable[[bool], BenchResult], module.run)
        result = run(args.quick)
        print(f"## {result.name}")
        for line in result.lines:
            print(line)
        if not result.ok:
            failed.append(result.name)
    if failed:
        print(f"FAILED checks in: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
