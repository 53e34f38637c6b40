"""Keeping ``python -m bot up``'s processes running: a child that stops by itself is started
again, after 1, 2, 4… up to 30 seconds (back to 1 once it had stayed up for a minute).

Each stop and each restart is one line on the terminal. What happened is kept in a status file
(``var/run/up-<gateway port>.json``, written whole each time) from which the gateway's
``/health`` shows the restarts. Only :meth:`Supervisor.stop` stops the children for good.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.ops.settings import ROOT

if TYPE_CHECKING:
    from bot.ops.processes import Child

RUN_DIR = ROOT / "var" / "run"


def status_path(gateway_port: int, run_dir: Path | None = None) -> Path:
    """Where the ``bot up`` serving this gateway port keeps its status."""
    return (run_dir or RUN_DIR) / f"up-{gateway_port}.json"


@dataclass(frozen=True)
class Backoff:
    """Seconds before a restart: ``first``, doubled for each stop in a row, at most
    ``longest``; a child that stayed up ``reset_after`` seconds starts the series again."""

    first: float = 1.0
    longest: float = 30.0
    reset_after: float = 60.0

    def delay(self, stops_in_a_row: int) -> float:
        return float(min(self.first * 2 ** max(stops_in_a_row - 1, 0), self.longest))


@dataclass
class Supervised:
    name: str
    start: Callable[[], Child]
    child: Child | None = None
    started_at: float = 0.0
    stops_in_a_row: int = 0
    restarts: int = 0
    last_restart: str | None = None
    last_exit: int | None = None
    #: When the next start is due (``None`` while running).
    restart_at: float | None = None

    def status(self) -> dict[str, Any]:
        running = self.restart_at is None and self.child is not None
        return {
            "pid": self.child.process.pid if running and self.child is not None else None,
            "state": "running" if running else "restarting",
            "restarts": self.restarts,
            "last_restart": self.last_restart,
            "last_exit": self.last_exit,
        }


def _utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class Supervisor:
    """Starts the children in order and restarts those that stop; :meth:`check` does one round
    (``bot up`` calls it every half second)."""

    def __init__(
        self,
        starts: list[tuple[str, Callable[[], Child]]],
        status_file: Path | None = None,
        backoff: Backoff | None = None,
        say: Callable[[str], None] = lambda line: print(line, flush=True),
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], str] = _utc_now,
    ) -> None:
        self._processes = [Supervised(name, start) for name, start in starts]
        self._status_file = status_file
        self._backoff = backoff or Backoff()
        self._say = say
        self._clock = clock
        self._wall_clock = wall_clock

    def start(self) -> None:
        for supervised in self._processes:
            supervised.child = supervised.start()
            supervised.started_at = self._clock()
            self._write_status()

    def children(self) -> list[Child]:
        return [s.child for s in self._processes if s.child is not None]

    def check(self) -> None:
        """Notice children that stopped, start those whose wait is over."""
        changed = False
        for supervised in self._processes:
            child = supervised.child
            now = self._clock()
            if supervised.restart_at is None and child is not None:
                code = child.process.poll()
                if code is None:
                    continue
                _kill_group(child)  # what the child left behind in its group goes with it
                up_for = now - supervised.started_at
                fresh = up_for >= self._backoff.reset_after
                supervised.stops_in_a_row = 1 if fresh else supervised.stops_in_a_row + 1
                supervised.last_exit = code
                delay = self._backoff.delay(supervised.stops_in_a_row)
                supervised.restart_at = now + delay
                self._say(
                    f"{supervised.name} stopped unexpectedly (exit {code}) after {up_for:.0f} s; "
                    f"restarting in {delay:g} s (see {child.log})"
                )
                changed = True
            if supervised.restart_at is not None and now >= supervised.restart_at:
                supervised.child = supervised.start()
                supervised.started_at = self._clock()
                supervised.restart_at = None
                supervised.restarts += 1
                supervised.last_restart = self._wall_clock()
                self._say(
                    f"{supervised.name} restarted (pid {supervised.child.process.pid}, "
                    f"restart {supervised.restarts})"
                )
                changed = True
        if changed:
            self._write_status()

    def stop(self, stop_children: Callable[[list[Child]], None]) -> None:
        """Stop every child (the last started first) and remove the status file."""
        with contextlib.suppress(OSError):
            if self._status_file is not None:
                self._status_file.unlink(missing_ok=True)
        stop_children(list(reversed(self.children())))

    def status(self) -> dict[str, Any]:
        return {
            "supervisor_pid": os.getpid(),
            "updated": self._wall_clock(),
            "processes": {s.name: s.status() for s in self._processes},
        }

    def _write_status(self) -> None:
        if self._status_file is None:
            return
        self._status_file.parent.mkdir(parents=True, exist_ok=True)
        partial = self._status_file.with_suffix(".tmp")
        partial.write_text(json.dumps(self.status(), indent=2), encoding="utf-8")
        partial.replace(self._status_file)  # readers see the old or the new status, whole


def _kill_group(child: Child) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.process.pid, signal.SIGKILL)


def read_status(path: Path, supervisor_pid: int | None = None) -> dict[str, Any] | None:
    """The status ``bot up`` wrote, if any (and if written by ``supervisor_pid`` when given:
    a file left by an earlier run that was killed is not this run's)."""
    try:
        status = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(status, dict) or not isinstance(status.get("processes"), dict):
        return None
    if supervisor_pid is not None and status.get("supervisor_pid") != supervisor_pid:
        return None
    return status


def restarts(status: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Per process restarted or waiting to be: how many times, when last, the exit that caused
    it and whether it runs now."""
    if status is None:
        return {}
    return {
        name: {
            "count": entry.get("restarts"),
            "last": entry.get("last_restart"),
            "last_exit": entry.get("last_exit"),
            "state": entry.get("state"),
        }
        for name, entry in status["processes"].items()
        if isinstance(entry, dict) and (entry.get("restarts") or entry.get("state") != "running")
    }


def restarts_seen_by_parent(gateway_port: int) -> dict[str, dict[str, Any]]:
    """For a gateway started by ``bot up``: the restarts its parent made (see :func:`restarts`);
    empty otherwise."""
    return restarts(read_status(status_path(gateway_port), supervisor_pid=os.getppid()))
