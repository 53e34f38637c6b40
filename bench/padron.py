"""``python -m bench.padron [--rows N]``: import speed, memory and lookup latency of the padrón.

1. Generates an invented padrón of N rows (default 15 million, SUNAT's size) in the real format
   into ``var/tmp/`` with ``scripts/generate_padron.py`` (deleted afterwards).
2. Imports it into a fresh SQLite file in a child process (``bot.knowledge.padron.sqlite``), timed;
the peak RSS is
   the child's ``ru_maxrss`` read through ``getrusage(RUSAGE_CHILDREN)`` (the only child so far).
3. Times 100,000 lookups through ``SqlitePadron.lookup`` (half hits, half misses, shuffled).
4. The obvious baseline: ``pandas.read_csv`` + ``DataFrame.to_sql`` into SQLite (chunked, so it
   fits in memory) plus the RUC index, in a throwaway venv ``var/bench-venv``; reported as
   unavailable if pandas can't be installed.

Prints a Markdown table and writes ``var/results/bench/padron.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import platform
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TMP = ROOT / "var" / "tmp"
RESULTS = ROOT / "var" / "results" / "bench"
BENCH_VENV = ROOT / "var" / "bench-venv"
GENERATOR = ROOT / "scripts" / "generate_padron.py"

_PANDAS_IMPORT = """
import csv, json, resource, sqlite3, sys, time
import pandas as pd
source, target = sys.argv[1], sys.argv[2]
start = time.perf_counter()
db = sqlite3.connect(target)
rows = 0
for chunk in pd.read_csv(
    source, sep="|", encoding="latin-1", dtype=str, na_values=["-"], keep_default_na=False,
    quoting=csv.QUOTE_NONE, on_bad_lines="skip", index_col=False, chunksize=250_000,
):
    chunk.to_sql("padron", db, if_exists="append", index=False)
    rows += len(chunk)
db.execute('CREATE INDEX padron_ruc ON padron ("RUC")')
db.commit()
db.close()
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "rows": rows, "pandas": pd.__version__,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _generate(out: Path, rows: int, seed: int) -> float:
    """Run the generator in this process (so it is not counted among the measured children)."""
    spec = importlib.util.spec_from_file_location("generate_padron", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    start = time.perf_counter()
    module.write_padron(out, rows, seed=seed, malformed=0.001)
    return time.perf_counter() - start


def _import_child(source: str, target: str) -> None:
    """Child side of step 2: import and report as JSON on stdout."""
    from bot.knowledge.padron.sqlite import SqlitePadron

    store = SqlitePadron(target)
    start = time.perf_counter()
    summary = store.import_file(source)
    seconds = time.perf_counter() - start
    store.close()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "rows_read": summary.rows_read,
                "imported": summary.imported,
                "skipped": summary.skipped,
                "replaced": summary.replaced,
                "self_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def _run_import(source: Path, target: Path) -> dict[str, Any]:
    child = subprocess.run(
        [sys.executable, "-m", "bench.padron", "--import-child", str(source), str(target)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    # Linux reports ru_maxrss in KiB; the importer is the only child process so far.
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return result


def _lookups(target: Path, count: int, seed: int) -> dict[str, float]:
    """Latency of ``lookup`` through the store's public API: half hits, half misses."""
    from bot.knowledge.padron.sqlite import SqlitePadron
    from bot.knowledge.tax.ruc import check_digit

    rng = random.Random(seed)
    with sqlite3.connect(target) as db:
        (last,) = db.execute("SELECT max(rowid) FROM padron").fetchone()
        rowids = [rng.randint(1, last) for _ in range(count // 2)]
        hits = [
            db.execute("SELECT substr(fila, 1, 11) FROM padron WHERE rowid = ?", (r,)).fetchone()[0]
            for r in rowids
        ]
    # Prefix 17 with a body below 10,000,000: valid RUCs the generator never writes.
    bodies = (f"17{rng.randrange(10**7):08d}" for _ in range(count - len(hits)))
    misses = [body + str(check_digit(body)) for body in bodies]
    queries = hits + misses
    rng.shuffle(queries)
    store = SqlitePadron(target)
    found = 0
    timings: list[float] = []
    for ruc in queries[:1000]:  # warm-up: open the connection, touch the index root
        store.lookup(ruc)
    for ruc in queries:
        start = time.perf_counter_ns()
        entry = store.lookup(ruc)
        timings.append((time.perf_counter_ns() - start) / 1e6)
        found += entry is not None
    store.close()
    timings.sort()
    return {
        "n": len(timings),
        "hits": found,
        "p50_ms": statistics.median(timings),
        "p99_ms": timings[int(len(timings) * 0.99)],
        "max_ms": timings[-1],
    }


def _pandas_python() -> tuple[Path | None, str]:
    """The throwaway venv's interpreter, with pandas installed; or None and why not."""
    python = BENCH_VENV / "bin" / "python"
    try:
        if not python.exists():
            subprocess.run(
                [sys.executable, "-m", "venv", str(BENCH_VENV)], check=True, capture_output=True
            )
        probe = subprocess.run([str(python), "-c", "import pandas"], capture_output=True)
        if probe.returncode != 0:
            subprocess.run(
                [str(python), "-m", "pip", "install", "--quiet", "pandas"],
                check=True,
                capture_output=True,
                timeout=900,
            )
        return python, ""
    except (subprocess.SubprocessError, OSError) as exc:
        return None, f"pandas baseline unavailable ({type(exc).__name__})"


def _run_pandas(source: Path, target: Path) -> dict[str, Any]:
    python, why = _pandas_python()
    if python is None:
        return {"unavailable": why}
    try:
        child = subprocess.run(
            [str(python), "-c", _PANDAS_IMPORT, str(source), str(target)],
            check=True,
            capture_output=True,
            text=True,
        )
    except subprocess.CalledProcessError as exc:
        tail = (exc.stderr or "").strip().splitlines()[-1:] or ["no output"]
        return {"unavailable": f"pandas baseline failed: {tail[0]}"}
    result: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    return result


def _table(results: dict[str, Any]) -> str:
    rows = results["rows"]
    ours, lookups, base = results["import"], results["lookup"], results["pandas_baseline"]
    lines = [
        "| import of the padrón into SQLite | rows/s | seconds | peak RSS (MB) |",
        "|---|---:|---:|---:|",
        "| bot.knowledge.padron (validated, atomic swap, RUC index) "
        f"| {rows / ours['seconds']:,.0f} "
        f"| {ours['seconds']:.1f} | {ours['peak_rss_mb']:.0f} |",
    ]
    if "unavailable" in base:
        lines.append(f"| pandas read_csv + to_sql (baseline) | — | — | — ({base['unavailable']}) |")
    else:
        lines.append(
            f"| pandas {base['pandas']} read_csv + to_sql + index (baseline, no validation) "
            f"| {rows / base['seconds']:,.0f} | {base['seconds']:.1f} | {base['peak_rss_mb']:.0f} |"
        )
    lines += [
        "",
        f"Lookups (`SqlitePadron.lookup`, {lookups['n']:,}, {lookups['hits']:,} hits, warm page "
        f"cache): p50 {lookups['p50_ms']:.3f} ms, p99 {lookups['p99_ms']:.3f} ms, "
        f"max {lookups['max_ms']:.2f} ms.",
        "",
        f"{rows:,} rows ({results['file_mb']:,.0f} MB file), {results['machine']}; "
        f"command: `{results['command']}`",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="padrón import and lookup benchmark")
    parser.add_argument("--rows", type=int, default=15_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--lookups", type=int, default=100_000)
    parser.add_argument("--no-baseline", action="store_true", help="skip the pandas baseline")
    parser.add_argument(
        "--import-child", nargs=2, metavar=("SOURCE", "TARGET"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.import_child:
        _import_child(*args.import_child)
        return 0

    TMP.mkdir(parents=True, exist_ok=True)
    stamp = f"{os.getpid()}"
    source = TMP / f"bench_padron_{stamp}.txt"
    ours_db = TMP / f"bench_padron_{stamp}.db"
    pandas_db = TMP / f"bench_padron_pandas_{stamp}.db"
    given = sys.argv[1:] if argv is None else argv
    command = " ".join([".venv/bin/python -m bench.padron", *given])
    try:
        print(f"generating {args.rows:,} rows …", file=sys.stderr)
        generate_seconds = _generate(source, args.rows, args.seed)
        print("importing (bot.knowledge.padron.sqlite) …", file=sys.stderr)
        ours = _run_import(source, ours_db)
        print("lookups …", file=sys.stderr)
        lookups = _lookups(ours_db, args.lookups, args.seed)
        ours_db.unlink()
        if args.no_baseline:
            base: dict[str, Any] = {"unavailable": "skipped (--no-baseline)"}
        else:
            print("pandas baseline …", file=sys.stderr)
            base = _run_pandas(source, pandas_db)
        results: dict[str, Any] = {
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "command": command,
            "rows": args.rows,
            "file_mb": source.stat().st_size / 1e6,
            "generate_seconds": generate_seconds,
            "import": {**ours, "rows_per_s": args.rows / ours["seconds"]},
            "lookup": lookups,
            "pandas_baseline": base,
            "machine": (
                f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
                f"SQLite {sqlite3.sqlite_version}, {platform.system()} {platform.release()}"
            ),
        }
        if "seconds" in base:
            base["rows_per_s"] = args.rows / base["seconds"]
    finally:
        for path in (source, ours_db, pandas_db):
            path.unlink(missing_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "padron.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(_table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
