"""A value loaded from the files of a directory and loaded again when one of them is added,
changed or removed — how knowledge articles, tax figures and due-date calendars are edited
without a restart. Shared with the action server (standard library only)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")
Snapshot = tuple[tuple[str, int, int], ...]


def snapshot(directory: Path, pattern: str) -> Snapshot:
    """Name, modification time and size of each matching file: what a change changes."""
    entries = []
    for path in directory.glob(pattern):
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        entries.append((path.name, stat.st_mtime_ns, stat.st_size))
    return tuple(sorted(entries))


class WatchedDirectory(Generic[T]):
    """``load(directory)`` now, and again when the ``pattern`` files change, checked at most
    every ``check_every`` seconds. A change that ``load`` refuses (one of ``errors``) is logged
    once and the last good value stays; the first load's error is raised."""

    def __init__(
        self,
        directory: Path,
        pattern: str,
        load: Callable[[Path], T],
        errors: tuple[type[Exception], ...],
        what: str,
        check_every: float = 0.0,
    ) -> None:
        self.directory = Path(directory)
        self.check_every = check_every
        self._pattern = pattern
        self._load = load
        self._errors = errors
        self._what = what
        self._lock = threading.Lock()
        self._snapshot = snapshot(self.directory, pattern)
        self._value: T = load(self.directory)
        self._checked_at = time.monotonic()

    @property
    def current(self) -> T:
        now = time.monotonic()
        if now - self._checked_at >= self.check_every:
            with self._lock:
                if now - self._checked_at >= self.check_every:
                    self._checked_at = now
                    self._reload_if_changed()
        return self._value

    def refresh(self) -> T:
        """Check the files now (after this process changed one) and return the value."""
        with self._lock:
            self._checked_at = time.monotonic()
            self._reload_if_changed()
        return self._value

    def _reload_if_changed(self) -> None:
        fresh_snapshot = snapshot(self.directory, self._pattern)
        if fresh_snapshot == self._snapshot:
            return
        # Remembered even when the files are refused: they are not loaded (nor logged) again
        # until they change.
        self._snapshot = fresh_snapshot
        try:
            fresh = self._load(self.directory)
        except self._errors as exc:
            logger.error("%s not reloaded, keeping the previous one: %s", self._what, exc)
            return
        self._value = fresh
        logger.info("%s reloaded", self._what)
