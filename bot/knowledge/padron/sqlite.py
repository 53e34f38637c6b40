"""The padrón in SQLite (the default store): one file, replaced as a whole by each import.

Each import writes a new database file next to the live one and ``os.replace``-s it in; lookups
notice the new inode and reopen, so they see the old or the new padrón, never a mix. Standard
library only (Python 3.10).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import sqlite3
import threading
import uuid
from pathlib import Path

from bot.knowledge.padron.reader import read_padron
from bot.knowledge.padron.records import (
    ENTRY_FIELDS,
    ImportSummary,
    PadronEntry,
    PadronNotLoaded,
    PadronStore,
    PadronUnavailable,
    Progress,
    lookup_key,
)
from bot.knowledge.tax.ruc import RUC_LENGTH

logger = logging.getLogger(__name__)


def _entry(row: str) -> PadronEntry:
    """A stored row (``RUC|14 fields``, maybe a trailing pipe) as an entry."""
    values: list[str | None] = list(row.split("|", ENTRY_FIELDS + 1)[1 : ENTRY_FIELDS + 1])
    values += [None] * (ENTRY_FIELDS - len(values))
    return PadronEntry.from_fields(row[:RUC_LENGTH], values)


# The RUC as an integer key, computed by SQLite from the stored row (queries must match it).
_SQLITE_KEY = "CAST(substr(fila, 1, 11) AS INTEGER)"
_SQLITE_SCHEMA = """
CREATE TABLE padron (fila TEXT NOT NULL);
CREATE TABLE padron_meta (clave TEXT PRIMARY KEY, valor TEXT NOT NULL);
"""
_SQLITE_INDEX = f"CREATE INDEX padron_ruc ON padron ({_SQLITE_KEY})"
_SQLITE_LOOKUP = f"SELECT fila FROM padron WHERE {_SQLITE_KEY} = ? ORDER BY rowid DESC LIMIT 1"


class SqlitePadron(PadronStore):
    """The padrón in one SQLite file, replaced as a whole by each import.

    Each valid row is stored verbatim, as one value (``fila``), with an index on its RUC built
    after loading. Binding one value per row instead of fifteen, and indexing once at the end
    instead of inserting into a B-tree in random RUC order, is what lets the import keep up with
    a 15-million-row file (measured in ``bench/padron.py``). ``-`` becomes ``None`` when a row is
    read. Duplicate RUCs stay in the table and the last one in the file wins at lookup.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._identity: tuple[int, int, int] | None = None

    # lookups

    def _file_identity(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (st.st_dev, st.st_ino, st.st_mtime_ns)

    def _connection(self) -> sqlite3.Connection:
        """The read connection, reopened when an import has swapped a new file in.

        One ``stat`` per call (about a microsecond) is cheaper than any lookup, so every lookup
        sees a swap immediately.
        """
        identity = self._file_identity()
        if identity is None:
            raise PadronNotLoaded(f"no padrón imported yet ({self.path} does not exist)")
        if self._db is None or identity != self._identity:
            if self._db is not None:
                self._db.close()
                self._db = None
            # Each file is written once and never changed after the swap: immutable skips locks.
            uri = self.path.absolute().as_uri() + "?mode=ro&immutable=1"
            self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
            self._identity = identity
        return self._db

    def lookup(self, ruc: str) -> PadronEntry | None:
        key = lookup_key(ruc)
        with self._lock:
            db = self._connection()
            if key is None:
                return None
            row = db.execute(_SQLITE_LOOKUP, (key,)).fetchone()
        return None if row is None else _entry(row[0])

    def count(self) -> int:
        with self._lock:
            try:
                db = self._connection()
            except PadronUnavailable:
                return 0
            row = db.execute("SELECT valor FROM padron_meta WHERE clave = 'rucs'").fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    # import

    def import_file(self, path: Path | str, progress: Progress | None = None) -> ImportSummary:
        source = Path(path)
        summary = ImportSummary(source=str(source))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fresh = self.path.with_name(f"{self.path.name}.import-{uuid.uuid4().hex[:8]}")
        try:
            db = sqlite3.connect(fresh, isolation_level=None)
            try:
                # Nobody reads this file until it is swapped in: no journal, no fsync per page.
                # The cache bounds the index sort's memory (peak RSS stays well under 500 MB).
                db.executescript(
                    "PRAGMA page_size=16384; PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; "
                    "PRAGMA locking_mode=EXCLUSIVE; PRAGMA cache_size=-131072; "
                    "PRAGMA temp_store=FILE;"
                )
                db.executescript(_SQLITE_SCHEMA)
                db.execute("BEGIN")
                for rows in read_padron(source, summary, progress):
                    db.executemany("INSERT INTO padron VALUES (?)", zip(rows))
                db.execute(_SQLITE_INDEX)
                (stored,) = db.execute(
                    f"SELECT count(*) FROM (SELECT DISTINCT {_SQLITE_KEY} FROM padron)"
                ).fetchone()
                summary.imported = stored
                summary.replaced = summary.rows_read - summary.skipped_total - stored
                db.executemany(
                    "INSERT INTO padron_meta VALUES (?, ?)",
                    [
                        ("rucs", str(stored)),
                        ("source", source.name),
                        ("imported_at", dt.datetime.now(dt.timezone.utc).isoformat()),
                    ],
                )
                db.execute("COMMIT")
            finally:
                db.close()
            with open(fresh, "rb+") as handle:  # on disk before it becomes the live file
                os.fsync(handle.fileno())
            os.replace(fresh, self.path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.remove(fresh)
        logger.info(
            "padrón imported from %s: %d RUCs, %d skipped, %d replaced",
            source.name,
            summary.imported,
            summary.skipped_total,
            summary.replaced,
        )
        return summary
