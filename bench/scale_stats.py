"""What the scale benchmark reads: locust's CSV files and the lines bench/locustfile.py
prints, and the CPU time and memory of the processes of a topology (from ``/proc``, Linux).

- :func:`read_locust` gives one row of ``<prefix>_stats.csv`` (the "Aggregated" row by default)
  and the failures by reason from ``<prefix>_failures.csv``.
- :func:`read_tree` reads a process and all its descendants (the topology started by
  ``python -m bot up``, whose children run in their own sessions but are still its children),
  :func:`read_backends` the PostgreSQL server processes serving one database; each reading has
  the process's CPU time so far and resident memory.
- :func:`cpu_seconds` is the CPU time spent between two readings of the same processes:
  a process is the same when its pid *and* start time match; one that started in between
  counts from zero, one that ended in between counts nothing after the first reading (its last
  moments are lost: readings are taken while the load runs, when processes do not end).
"""

from __future__ import annotations

import csv
import math
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

#: What bench/locustfile.py prints when its window starts and ends (then the window's seconds),
#: and the names of its requests (rows of the CSV files).
MEASURING = "bench.locustfile: measuring"
MEASURED = "bench.locustfile: measured"
SHORT, LONG = "webchat 5-turn conversations", "webchat long conversations"

PROC = Path("/proc")
_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class LocustStats:
    """One row of locust's ``_stats.csv``: counts, and percentiles in milliseconds (NaN when
    no request was made). ``failures_by_reason`` comes from ``_failures.csv``."""

    name: str
    requests: int
    failures: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    failures_by_reason: dict[str, int]

    @property
    def answered(self) -> int:
        return self.requests - self.failures


def _number(value: str) -> float:
    try:
        return float(value)
    except ValueError:  # locust writes "N/A" for a percentile of no requests
        return math.nan


def read_locust(prefix: Path, name: str = "Aggregated") -> LocustStats:
    """The row ``name`` of ``<prefix>_stats.csv`` and the failures of that row's requests
    (all of them for "Aggregated") from ``<prefix>_failures.csv``; KeyError if no such row."""
    with Path(f"{prefix}_stats.csv").open(newline="", encoding="utf-8") as stats_file:
        rows = {row["Name"]: row for row in csv.DictReader(stats_file)}
    row = rows[name]
    reasons: Counter[str] = Counter()
    failures_path = Path(f"{prefix}_failures.csv")
    if failures_path.exists():
        with failures_path.open(newline="", encoding="utf-8") as failures_file:
            for failure in csv.DictReader(failures_file):
                if name in ("Aggregated", failure["Name"]):
                    reasons[_reason(failure["Error"])] += int(failure["Occurrences"])
    return LocustStats(
        name=name,
        requests=int(row["Request Count"]),
        failures=int(row["Failure Count"]),
        p50_ms=_number(row["50%"]),
        p95_ms=_number(row["95%"]),
        p99_ms=_number(row["99%"]),
        failures_by_reason=dict(reasons),
    )


def _reason(error: str) -> str:
    # locust writes a failure set by the user as "CatchResponseError('reason')".
    for prefix in ("CatchResponseError('", 'CatchResponseError("'):
        if error.startswith(prefix):
            return error[len(prefix) : -2]
    return error


@dataclass(frozen=True)
class ProcessReading:
    pid: int
    #: When it started, in clock ticks after boot (with the pid, tells one process from another).
    started: int
    role: str
    cpu_seconds: float
    rss_bytes: int


def role(command: str) -> str:
    """What a process of the topology is, from its command line."""
    if "nginx" in command or "haproxy" in command:
        return "load balancer"
    if "consume-events" in command:
        return "event consumer"
    if "run actions" in command or "rasa_sdk" in command:
        return "action server"
    if "bot.engine.launcher" in command or "rasa run" in command:
        return "Rasa"
    if command.startswith("postgres"):
        return "PostgreSQL"
    if "bot serve" in command or "uvicorn" in command:
        return "gateway"
    if "bot up" in command:
        return "supervisor"
    return "other"


def _read(pid: int) -> tuple[int, ProcessReading] | None:
    """(parent pid, reading) of ``pid``; None when it is gone or not readable."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
        command = (
            (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) ", from the state on
    parent, utime, stime, started, rss = (int(fields[i]) for i in (1, 11, 12, 19, 21))
    reading = ProcessReading(
        pid, started, role(command.strip()), (utime + stime) / _TICKS, rss * _PAGE
    )
    return parent, reading


def _all() -> dict[int, tuple[int, ProcessReading]]:
    found = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit() and (read := _read(int(entry.name))) is not None:
            found[int(entry.name)] = read
    return found


def read_tree(root: int) -> list[ProcessReading]:
    """``root`` and all its descendants (empty when ``root`` is gone)."""
    processes = _all()
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in processes.items():
        children.setdefault(parent, []).append(pid)
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in processes:
            tree.append(processes[pid][1])
            todo.extend(children.get(pid, []))
    return tree


def read_backends(database: str) -> list[ProcessReading]:
    """PostgreSQL's server processes connected to ``database`` (their title is
    ``postgres: [cluster: ]user database host(port) state``)."""
    found = []
    for pid, (_, reading) in _all().items():
        if reading.role != "PostgreSQL":
            continue
        try:
            title = (PROC / str(pid) / "cmdline").read_bytes().split(b"\0")[0].decode()
        except OSError:
            continue
        words = title.split()[1:]  # after "postgres:"
        if words and words[0].endswith(":"):  # the cluster's name (cluster_name)
            words = words[1:]
        if len(words) > 1 and words[1] == database:
            found.append(reading)
    return found


def cpu_seconds(
    before: Iterable[ProcessReading], after: Iterable[ProcessReading]
) -> dict[str, float]:
    """CPU seconds spent between two readings, by role (see the module's docstring)."""
    start = {(r.pid, r.started): r.cpu_seconds for r in before}
    spent: dict[str, float] = {}
    for reading in after:
        used = reading.cpu_seconds - start.get((reading.pid, reading.started), 0.0)
        spent[reading.role] = spent.get(reading.role, 0.0) + max(used, 0.0)
    return spent


def cpu_ms_per_message(spent: dict[str, float], answered: int) -> float:
    """Milliseconds of CPU, all roles together, per message answered (NaN for none)."""
    return 1000 * sum(spent.values()) / answered if answered else math.nan


def rss_by_role(readings: Iterable[ProcessReading]) -> dict[str, int]:
    """Resident memory in bytes, by role."""
    total: dict[str, int] = {}
    for reading in readings:
        total[reading.role] = total.get(reading.role, 0) + reading.rss_bytes
    return total
