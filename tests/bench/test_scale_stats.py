"""Locust's CSV files as the scale benchmark reads them, and its CPU and memory accounting."""

from __future__ import annotations

import math
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.scale_stats import (
    ProcessReading,
    cpu_ms_per_message,
    cpu_seconds,
    read_backends,
    read_locust,
    read_tree,
    role,
    rss_by_role,
)

# As locust 2.47 writes them (header and rows), a run with one failing reason.
STATS = """\
Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,\
Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,\
90%,95%,98%,99%,99.9%,99.99%,100%
POST,webchat 5-turn conversations,180,3,120,150.2,40,900,310.0,12.0,0.2,120,140,160,170,250,\
410,700,850,900,900,900
POST,webchat long conversations,20,0,300,320.5,200,600,300.0,1.3,0.0,300,320,340,360,500,\
550,600,600,600,600,600
,Aggregated,200,3,130,167.2,40,900,309.0,13.3,0.2,130,150,170,190,300,450,700,850,900,900,900
"""
FAILURES = """\
Method,Name,Error,Occurrences
POST,webchat 5-turn conversations,CatchResponseError('HTTP 502'),2
POST,webchat 5-turn conversations,CatchResponseError('the engine failed (error_servicio notice)'),1
"""
EMPTY = """\
Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,\
Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,\
90%,95%,98%,99%,99.9%,99.99%,100%
,Aggregated,0,0,0,0,0,0,0,0,0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A
"""


def _write(tmp_path: Path, stats: str, failures: str | None = None) -> Path:
    prefix = tmp_path / "run"
    Path(f"{prefix}_stats.csv").write_text(stats)
    if failures is not None:
        Path(f"{prefix}_failures.csv").write_text(failures)
    return prefix


def test_the_aggregated_row_with_its_percentiles_and_failures_by_reason(tmp_path: Path) -> None:
    stats = read_locust(_write(tmp_path, STATS, FAILURES))
    assert (stats.requests, stats.failures, stats.answered) == (200, 3, 197)
    assert (stats.p50_ms, stats.p95_ms, stats.p99_ms) == (130, 450, 850)
    assert stats.failures_by_reason == {
        "HTTP 502": 2,
        "the engine failed (error_servicio notice)": 1,
    }


def test_one_kind_of_request_has_its_own_row_and_failures(tmp_path: Path) -> None:
    prefix = _write(tmp_path, STATS, FAILURES)
    long = read_locust(prefix, "webchat long conversations")
    assert (long.requests, long.answered, long.p95_ms) == (20, 20, 550)
    assert long.failures_by_reason == {}
    with pytest.raises(KeyError):
        read_locust(prefix, "no such kind")


def test_a_run_without_requests_has_no_percentiles(tmp_path: Path) -> None:
    stats = read_locust(_write(tmp_path, EMPTY))  # and no _failures.csv at all
    assert stats.requests == 0 and stats.failures_by_reason == {}
    assert math.isnan(stats.p95_ms)


def _reading(pid: int, started: int, role: str, cpu: float, rss: int = 0) -> ProcessReading:
    return ProcessReading(pid, started, role, cpu, rss)


def test_cpu_per_message_counts_only_the_window_by_process() -> None:
    before = [
        _reading(10, 1, "gateway", 5.0),
        _reading(11, 1, "Rasa", 100.0),
        _reading(12, 1, "Rasa", 7.0),  # ends during the window: nothing more is counted
        _reading(13, 1, "action server", 3.0),  # its pid is taken by a new process below
    ]
    after = [
        _reading(10, 1, "gateway", 6.5),
        _reading(11, 1, "Rasa", 104.0),
        _reading(13, 9, "action server", 0.25),  # same pid, another start: counts from zero
        _reading(14, 9, "gateway", 0.25),  # started during the window
    ]
    spent = cpu_seconds(before, after)
    assert spent == {"gateway": 1.75, "Rasa": 4.0, "action server": 0.25}
    # 6 s of CPU over 1,200 messages: 5 ms each.
    assert cpu_ms_per_message(spent, 1_200) == pytest.approx(5.0)
    assert math.isnan(cpu_ms_per_message(spent, 0))


def test_memory_is_summed_by_kind_of_process() -> None:
    readings = [_reading(1, 1, "gateway", 0, 100), _reading(2, 1, "gateway", 0, 50),
                _reading(3, 1, "Rasa", 0, 7)]  # fmt: skip
    assert rss_by_role(readings) == {"gateway": 150, "Rasa": 7}


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/x/.venv/bin/python -m bot up --scale 2", "supervisor"),
        ("/x/.venv/bin/python -m bot serve", "gateway"),
        ("/x/.venv-rasa/bin/python -m bot.engine.launcher run --enable-api", "Rasa"),
        ("/x/.venv-rasa/bin/rasa run actions --actions actions --port 5056", "action server"),
        ("/x/.venv/bin/python -m bot consume-events", "event consumer"),
        ("nginx: worker process", "load balancer"),
        ("postgres: 15/main: postgres bench_db 127.0.0.1(4242) idle", "PostgreSQL"),
        ("sleep 5", "other"),
    ],
)
def test_each_process_of_the_topology_is_named_by_its_command(command: str, expected: str) -> None:
    assert role(command) == expected


def test_the_tree_holds_a_child_in_its_own_session_and_its_cpu() -> None:
    # Like ``bot up``'s children: another session, still a descendant.
    burner = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\n"
    script = f"import subprocess, sys, time\n{burner}" + (
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)'], "
        "start_new_session=True)\ntime.sleep(30)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 10
        while len(tree := read_tree(parent.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(tree) == 2
        mine = next(r for r in tree if r.pid == parent.pid)
        assert mine.cpu_seconds >= 0.25 and mine.rss_bytes > 1_000_000
    finally:
        for reading in read_tree(parent.pid):
            subprocess.run(["kill", str(reading.pid)], check=False)
        parent.wait()
    assert read_tree(parent.pid) == []


def test_no_backends_for_a_database_nobody_is_connected_to() -> None:
    assert read_backends("bench_no_such_database_here") == []
