"""The padrón in PostgreSQL: ``COPY`` into a fresh table, primary key built, then the tables
are swapped by renaming in one transaction.

psycopg2 is imported only when the store is used (both environments ship it).
"""

from __future__ import annotations

import contextlib
import io
import logging
import threading
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

from bot.knowledge.padron.reader import read_padron
from bot.knowledge.padron.records import (
    ImportSummary,
    PadronEntry,
    PadronError,
    PadronNotLoaded,
    PadronStore,
    PadronUnavailable,
    Progress,
    lookup_key,
)

logger = logging.getLogger(__name__)


class PostgresPadron(PadronStore):
    """The padrón in PostgreSQL: ``COPY`` into a new table, then swap table names atomically."""

    _LOCK_KEY = 0x5055_4E41  # advisory lock: one import at a time

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._lock = threading.Lock()
        self._db: Any = None

    def _connect(self) -> Any:
        try:
            import psycopg2  # type: ignore[import-untyped]  # only needed for PostgreSQL URLs
        except ImportError as exc:  # pragma: no cover - both environments ship it
            raise PadronUnavailable("psycopg2 is not installed") from exc
        try:
            return psycopg2.connect(self.dsn)
        except psycopg2.Error as exc:
            raise PadronUnavailable(f"cannot connect to the padrón database ({exc})") from exc

    def _reader(self) -> Any:
        if self._db is None or self._db.closed:
            self._db = self._connect()
            self._db.autocommit = True
        return self._db

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        import psycopg2

        with self._lock:
            db = self._reader()
            try:
                with db.cursor() as cur:
                    cur.execute(sql, params)
                    return cur.fetchone()
            except psycopg2.errors.UndefinedTable as exc:
                raise PadronNotLoaded("no padrón imported yet") from exc
            except psycopg2.OperationalError as exc:
                db.close()
                raise PadronUnavailable(f"padrón database unavailable ({exc})") from exc

    def lookup(self, ruc: str) -> PadronEntry | None:
        key = lookup_key(ruc)
        if key is None:
            self._query("SELECT 1 FROM padron LIMIT 0")  # still report a missing padrón
            return None
        row = self._query(f"SELECT {', '.join(_PG_COLUMNS)} FROM padron WHERE ruc = %s", (key,))
        return None if row is None else PadronEntry.from_fields(f"{key:011d}", list(row[1:]))

    def count(self) -> int:
        try:
            row = self._query("SELECT valor FROM padron_meta WHERE clave = 'rucs'")
        except PadronUnavailable:
            return 0
        return int(row[0]) if row else 0

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def import_file(self, path: Path | str, progress: Progress | None = None) -> ImportSummary:
        import psycopg2

        source = Path(path)
        summary = ImportSummary(source=str(source))
        stream = _CopyStream(read_padron(source, summary, progress))
        db = self._connect()
        try:
            with db.cursor() as cur:
                cur.execute("SELECT pg_try_advisory_lock(%s)", (self._LOCK_KEY,))
                if not cur.fetchone()[0]:
                    raise PadronError("another padrón import is running")
                cols = ", ".join(f"{c} text" for c in _PG_COLUMNS[1:])
                cur.execute("DROP TABLE IF EXISTS padron_carga, padron_nuevo")
                cur.execute(
                    f"CREATE UNLOGGED TABLE padron_carga (linea bigint, ruc bigint, {cols})"
                )
                cur.copy_expert(
                    f"COPY padron_carga (linea, {', '.join(_PG_COLUMNS)}) FROM STDIN "
                    "WITH (FORMAT text, DELIMITER '|', NULL '-')",
                    stream,
                )
                # The last row for a RUC wins, as in the SQLite store.
                cur.execute(
                    "CREATE TABLE padron_nuevo AS SELECT DISTINCT ON (ruc) "
                    f"{', '.join(_PG_COLUMNS)} FROM padron_carga ORDER BY ruc, linea DESC"
                )
                cur.execute("DROP TABLE padron_carga")
                cur.execute(
                    "ALTER TABLE padron_nuevo ADD CONSTRAINT padron_nuevo_pkey PRIMARY KEY (ruc)"
                )
                cur.execute("SELECT count(*) FROM padron_nuevo")
                summary.imported = cur.fetchone()[0]
                summary.replaced = summary.rows_read - summary.skipped_total - summary.imported
                cur.execute(
                    "CREATE TABLE IF NOT EXISTS padron_meta "
                    "(clave text PRIMARY KEY, valor text NOT NULL)"
                )
                db.commit()
                # The swap: readers wait for this short transaction, then see the new table.
                cur.execute("DROP TABLE IF EXISTS padron_anterior")
                cur.execute("ALTER TABLE IF EXISTS padron RENAME TO padron_anterior")
                cur.execute("ALTER INDEX IF EXISTS padron_pkey RENAME TO padron_anterior_pkey")
                cur.execute("ALTER TABLE padron_nuevo RENAME TO padron")
                cur.execute("ALTER INDEX padron_nuevo_pkey RENAME TO padron_pkey")
                cur.execute("DELETE FROM padron_meta")
                cur.execute(
                    "INSERT INTO padron_meta VALUES ('rucs', %s), ('source', %s), "
                    "('imported_at', now()::text)",
                    (str(summary.imported), source.name),
                )
                db.commit()
                cur.execute("DROP TABLE IF EXISTS padron_anterior")
                db.commit()
        except psycopg2.Error as exc:
            db.rollback()
            if stream.error is not None:  # psycopg2 reports a failed read as a COPY error
                raise stream.error from None
            raise PadronError(f"padrón import into PostgreSQL failed ({exc})") from exc
        except BaseException:
            db.rollback()
            raise
        finally:
            with contextlib.suppress(psycopg2.Error):
                if not db.closed:
                    db.rollback()
                    with db.cursor() as cur:
                        cur.execute("DROP TABLE IF EXISTS padron_carga, padron_nuevo")
                    db.commit()
            db.close()
        logger.info(
            "padrón imported from %s: %d RUCs, %d skipped, %d replaced",
            source.name,
            summary.imported,
            summary.skipped_total,
            summary.replaced,
        )
        return summary


_PG_COLUMNS = ("ruc", *(f.name for f in fields(PadronEntry)[1:]))


class _CopyStream(io.RawIOBase):
    """A file-like view of the parsed rows in COPY text format (``linea|ruc|fields``).

    Rows holding backslashes were skipped while parsing, so no COPY escaping is needed. A read
    error is kept in :attr:`error` because psycopg2 turns it into a generic COPY failure.
    """

    def __init__(self, batches: Iterator[list[str]]) -> None:
        self._batches = batches
        self._buffer = b""
        self._line = 0
        self.error: BaseException | None = None

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while not self._buffer:
            try:
                rows = next(self._batches)
            except StopIteration:
                return b""
            except BaseException as exc:
                self.error = exc
                raise
            start = self._line
            self._line += len(rows)
            self._buffer = "".join(
                f"{n}|{row[:-1] if row.count('|') == 15 else row}\n"
                for n, row in enumerate(rows, start)
            ).encode("utf-8")
        if size < 0 or size >= len(self._buffer):
            out, self._buffer = self._buffer, b""
        else:
            out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out
