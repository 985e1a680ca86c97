"""Label rendering benchmark: 1,000 labels on Avery 5160 PDF (goal, issue 5: <= 3 s on this machine).

    .venv/bin/python -m bench.labels [--labels 1000] [--runs 3]

Renders a realistic mix, all distinct so no symbol cache helps: half lot labels (GS1 DataMatrix with
GTIN, expiry and lot) and half place labels (Code 128 own codes), on Avery 5160 (34 pages), then
the same on the 2 x 1 in roll PDF and as ZPL. Prints wall time per run (first run cold: symbols are
encoded), the peak Python heap (tracemalloc, in a separate run because tracing slows it down) and
the process's peak RSS. Nothing is asserted; it prints a table.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time
import tracemalloc
from collections.abc import Callable
from datetime import date, timedelta

from labels import (
    SHEETS,
    Code,
    Label,
    LocationLabel,
    LotLabel,
    gs1_lot,
    render_roll,
    render_sheet,
    render_zpl,
)
from labels.symbols import code128, gs1_datamatrix
from server.core.rules import label_check_char

GTINS = ["09506000134352", "00614141000012", "00012345600012"]


def workload(n: int) -> list[Label]:
    out: list[Label] = []
    for i in range(n):
        if i % 2:
            body = f"L{i:06d}"
            out.append(LocationLabel(f"Exam room {i}", Code.of_text(body + label_check_char(body))))
        else:
            lot, expiry = f"LOT{i:05d}", date(2030, 1, 1) + timedelta(days=i % 700)
            out.append(LotLabel(f"Vaccine {i % 40}", lot, expiry, gs1_lot(GTINS[i % 3], lot, expiry)))
    return out


def _time(render: Callable[[], bytes | str], runs: int) -> tuple[list[float], int]:
    times = []
    size = 0
    for _ in range(runs):
        code128.cache_clear()
        gs1_datamatrix.cache_clear()
        t = time.perf_counter()
        size = len(render())
        times.append(time.perf_counter() - t)
    return times, size


def _peak(render: Callable[[], bytes | str]) -> float:
    code128.cache_clear()
    gs1_datamatrix.cache_clear()
    tracemalloc.start()
    render()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    items = workload(args.labels)
    print(f"# labels bench: {args.labels} labels (half GS1 DataMatrix lots, half Code 128 places)")
    print(
        f"# {platform.python_implementation()} {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} cores, {platform.platform()}"
    )
    cases: list[tuple[str, Callable[[], bytes | str]]] = [
        ("Avery 5160 PDF", lambda: render_sheet(items, SHEETS["avery5160"])),
        ("2x1 in roll PDF", lambda: render_roll(items)),
        ("ZPL 203 dpi", lambda: render_zpl(items, dpi=203)),
    ]
    print(f"{'output':<18}{'runs (s)':<28}{'best s':>8}{'size':>12}{'peak heap MB':>14}")
    for name, render in cases:
        times, size = _time(render, args.runs)
        peak = _peak(render)
        runs = " ".join(f"{t:.2f}" for t in times)
        print(f"{name:<18}{runs:<28}{min(times):>8.2f}{size / 1e3:>10.0f}kB{peak:>14.1f}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the whole run: {rss:.0f} MB")


if __name__ == "__main__":
    main()
