"""Run the benchmarks and print their figures: ``python -m benchmarks [--size small|full]``."""
from __future__ import annotations

import argparse
import os
import platform
import sys

from benchmarks import (
    backfill,
    deadlines,
    fairness,
    feed,
    fleet,
    full_pass,
    housekeeping,
    ingest,
    latency,
    outlook_check,
    preview,
)
from benchmarks.common import machine_reference_ms


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--size", choices=("small", "full"), default="full")
    parser.add_argument("--runs", type=int, default=None, help="runs per figure (median); default 3 full, 1 small")
    parser.add_argument("--only", default="B1,B3,B4,B5,B6,B7,B8,B9,B10,B11,B12",
                        help="comma-separated: B1 (with B2), B3, B4, B5, B6 (calendar feeds), B7 (preview), "
                             "B8 (Outlook-side check), B9 (fair claiming between accounts), "
                             "B10 (workers on 1, 2, 3 hosts; needs root), B11 (the worker's housekeeping), "
                             "B12 (a course's deadlines)")
    parser.add_argument("--postgresql", default=os.environ.get(
        "OUTLOOK_SYNC_BENCH_POSTGRESQL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    runs = args.runs or (3 if args.size == "full" else 1)
    only = {name.strip().upper() for name in args.only.split(",")}
    print(f"benchmarks: size={args.size} runs={runs} python={platform.python_version()} "
          f"cpus={os.cpu_count()} machine={platform.machine()} load average={os.getloadavg()[0]:.2f}", flush=True)
    print(f"machine reference: {machine_reference_ms():.1f} ms of CPU for a fixed JSON, instant and SQLite "
          "workload (benchmarks.common.machine_reference_ms; lower: a faster machine)", flush=True)
    if "B1" in only:
        _show(backfill.run(args.size, runs, None))
        if args.size == "full":
            _show(backfill.run(args.size, runs, args.postgresql, naive_too=False))
    if "B3" in only:
        _show(ingest.run(args.size, runs, args.postgresql))
    if "B4" in only:
        _show(latency.run(args.size, runs, None))
        _show(latency.run(args.size, runs, args.postgresql))
    if "B5" in only:
        _show(full_pass.run(args.size, runs, None))
        if args.size == "full":
            _show(full_pass.run(args.size, runs, args.postgresql))
    if "B6" in only:
        _show(feed.run(args.size, runs, None))
        if args.size == "full":
            _show(feed.run(args.size, runs, args.postgresql))
    if "B7" in only:
        _show(preview.run(args.size, runs, None))
    if "B8" in only:
        _show(outlook_check.run(args.size, runs, None))
        if args.size == "full":
            _show(outlook_check.run(args.size, runs, args.postgresql))
    if "B9" in only:
        _show(fairness.run(args.size, 1, None))
        if args.size == "full":
            _show(fairness.run(args.size, 1, args.postgresql))
    if "B10" in only:
        _show(fleet.run(args.size, runs))
    if "B11" in only:
        _show(housekeeping.run(args.size, runs, None))
        if args.size == "full":
            _show(housekeeping.run(args.size, runs, args.postgresql))
    if "B12" in only:
        _show(deadlines.run(args.size, runs, None))
        if args.size == "full":
            _show(deadlines.run(args.size, runs, args.postgresql))
    return 0


def _show(lines: list[str]) -> None:
    """Print a benchmark's figures, each followed by the machine's load average when it ended (what
    else was running shows there: figures are comparable only at like loads)."""
    for line in lines:
        print(line, flush=True)
    one, five, fifteen = os.getloadavg()
    print(f"    (load average at the end: {one:.2f} / {five:.2f} / {fifteen:.2f} over 1 / 5 / 15 minutes)", flush=True)


if __name__ == "__main__":
    sys.exit(main())
