"""The padrón reducido del RUC: import SUNAT's bulk file and look up one taxpayer by RUC.

SUNAT publishes ``padron_reducido_ruc.zip`` (one ``padron_reducido_ruc.txt`` inside): ISO-8859-1,
``|``-delimited, a header row, 15 columns, ``-`` for a missing value, about 15 million rows. Some
rows are malformed; they are skipped and counted by reason, never fatal. A file that is not a
padrón at all (empty, wrong header, corrupt zip) is a :class:`PadronFormatError` and leaves the
data already loaded in place.

Two stores behind :class:`PadronStore`, picked from a URL by :func:`open_padron`:

* SQLite (default): each import writes a new database file next to the live one and
  ``os.replace``-s it in; lookups notice the new inode and reopen, so they see the old or the
  new padrón, never a mix. To reach SUNAT-sized files quickly each valid row is stored verbatim
  as one value and the RUC index is built once at the end; ``-`` becomes ``None`` when a row is
  read (see :class:`SqlitePadron`).
* PostgreSQL (psycopg2, imported only when used): ``COPY`` into a fresh table, primary key built,
  then the tables are swapped by renaming in one transaction.

Shared by the gateway (Python >= 3.11) and the action server (Python 3.10): standard library,
plus psycopg2 for PostgreSQL URLs. Full RUCs and names are never logged at info level.
"""

from __future__ import annotations

import abc
import contextlib
import datetime as dt
import io
import logging
import os
import sqlite3
import threading
import unicodedata
import uuid
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import IO, Any

from bot.knowledge.tax.ruc import PREFIXES, RUC_LENGTH, WEIGHTS, mask_ruc

logger = logging.getLogger(__name__)

COLUMNS = (
    "RUC",
    "NOMBRE O RAZÓN SOCIAL",
    "ESTADO DEL CONTRIBUYENTE",
    "CONDICIÓN DE DOMICILIO",
    "UBIGEO",
    "TIPO DE VÍA",
    "NOMBRE DE VÍA",
    "CÓDIGO DE ZONA",
    "TIPO DE ZONA",
    "NÚMERO",
    "INTERIOR",
    "LOTE",
    "DEPARTAMENTO",
    "MANZANA",
    "KILÓMETRO",
)
#: The txt inside SUNAT's zip.
MEMBER = "padron_reducido_ruc.txt"
MISSING = "-"

_CHUNK_BYTES = 1 << 22  # 4 MiB of file per step: ~40,000 rows, one progress call
_BATCH_ROWS = 40_000

#: Called as progress(rows_read, bytes_read, total_bytes) once per chunk of the file.
Progress = Callable[[int, int, int], None]

# Skip reasons, as shown in the import summary.
EXTRA_COLUMN = "extra column"
MISSING_COLUMNS = "missing columns"
STRAY_QUOTE = "stray quote"
STRAY_BACKSLASH = "stray backslash"
RUC_NOT_11_DIGITS = "RUC not 11 digits"
UNKNOWN_PREFIX = "unknown RUC prefix"
BAD_CHECK_DIGIT = "bad check digit"
BLANK_LINE = "blank line"


class PadronError(Exception):
    """Base class: the padrón can't be imported or consulted."""


class PadronFormatError(PadronError):
    """The file is not a usable padrón (empty, wrong header, corrupt zip); nothing was replaced."""


class PadronUnavailable(PadronError):
    """No padrón has been imported yet, or its database can't be reached."""


class PadronNotLoaded(PadronUnavailable):
    """The database answers, but no padrón has been imported into it yet."""


@dataclass(frozen=True, repr=False)
class PadronEntry:
    """One taxpayer as listed in the padrón; values are stripped, ``None`` where it says ``-``."""

    ruc: str
    nombre: str | None
    estado: str | None
    condicion: str | None
    ubigeo: str | None
    tipo_via: str | None
    nombre_via: str | None
    codigo_zona: str | None
    tipo_zona: str | None
    numero: str | None
    interior: str | None
    lote: str | None
    departamento: str | None
    manzana: str | None
    kilometro: str | None

    def __repr__(self) -> str:  # safe to log: no full RUC, no name
        return (
            f"PadronEntry(ruc={mask_ruc(self.ruc)!r}, estado={self.estado!r}, "
            f"condicion={self.condicion!r})"
        )

    @classmethod
    def from_fields(cls, ruc: str, values: list[str | None]) -> PadronEntry:
        cleaned = [_value(v) for v in values]
        return cls(ruc, *cleaned)


_ENTRY_FIELDS = len(fields(PadronEntry)) - 1  # 14 columns after the RUC


def _value(raw: str | None) -> str | None:
    if raw is None:
        return None
    text = raw.strip()
    return None if not text or text == MISSING else text


@dataclass
class ImportSummary:
    """What an import did: rows read, stored, skipped by reason, and replaced by a later row."""

    source: str
    rows_read: int = 0
    imported: int = 0
    replaced: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


def format_summary(summary: ImportSummary, seconds: float) -> str:
    """The closing line of an import, e.g. for ``python -m bot padron import``."""
    rate = summary.rows_read / seconds if seconds > 0 else 0.0
    skipped = ", ".join(f"{reason}: {n:,}" for reason, n in sorted(summary.skipped.items()))
    return (
        f"padrón imported: {summary.imported:,} RUCs from {summary.rows_read:,} rows in "
        f"{seconds:.1f} s ({rate:,.0f} rows/s); skipped {summary.skipped_total:,}"
        + (f" ({skipped})" if skipped else "")
        + f"; replaced by a later row {summary.replaced:,}"
    )


# --- reading the file ------------------------------------------------------------------------


def _header_key(text: str) -> tuple[str, ...]:
    """Header columns compared without accents, case or surrounding spaces (and no BOM)."""
    text = text.lstrip("\ufeff").replace("ï»¿", "", 1).strip()
    if text.endswith("|"):
        text = text[:-1]
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return tuple(col.strip().upper() for col in plain.split("|"))


_EXPECTED_HEADER = _header_key("|".join(COLUMNS))


def _check_header(line: str, source: str) -> None:
    found = _header_key(line)
    if found == _EXPECTED_HEADER:
        return
    where = next(
        (
            f"column {i + 1} is {got!r}, expected {want!r}"
            for i, (got, want) in enumerate(zip(found, _EXPECTED_HEADER, strict=False))
            if got != want
        ),
        f"it has {len(found)} columns, expected {len(COLUMNS)}",
    )
    raise PadronFormatError(
        f"{source}: not a padrón reducido del RUC header ({where}); expected the {len(COLUMNS)} "
        f"columns {' | '.join(COLUMNS)}"
    )


@contextlib.contextmanager
def _open_source(path: Path) -> Iterator[tuple[IO[bytes], int]]:
    """The padrón text as a binary stream, from the .txt or straight out of SUNAT's .zip."""
    try:
        raw = path.open("rb")
    except FileNotFoundError as exc:
        raise PadronFormatError(f"{path}: no such file") from exc
    with raw:
        magic = raw.read(4)
        raw.seek(0)
        if not magic.startswith(b"PK"):
            yield raw, os.fstat(raw.fileno()).st_size
            return
        try:
            archive = zipfile.ZipFile(raw)
        except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:
            raise PadronFormatError(f"{path}: corrupt or truncated zip ({exc})") from exc
        with archive:
            names = archive.namelist()
            txts = [n for n in names if n.lower().endswith(".txt")]
            if MEMBER in names:
                member = MEMBER
            elif len(txts) == 1:
                member = txts[0]
            else:
                raise PadronFormatError(
                    f"{path}: the zip holds no {MEMBER} (found: {', '.join(names) or 'nothing'})"
                )
            with archive.open(member) as stream:
                yield stream, archive.getinfo(member).file_size


def _text_chunks(stream: IO[bytes], source: str) -> Iterator[tuple[list[str], int]]:
    """Complete lines, a few MiB at a time, with the count of bytes read so far."""
    carry = ""
    read = 0
    while True:
        try:
            block = stream.read(_CHUNK_BYTES)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise PadronFormatError(f"{source}: corrupt or truncated zip ({exc})") from exc
        if not block:
            break
        read += len(block)
        text = carry + block.decode("latin-1")
        cut = text.rfind("\n")
        if cut < 0:
            carry = text
            continue
        carry = text[cut + 1 :]
        text = text[:cut]
        if "\r" in text:
            text = text.replace("\r", "")
        yield text.split("\n"), read
    carry = carry.replace("\r", "")
    if carry:
        yield [carry], read


def _weighted_sums(weights: tuple[int, ...], keep: Callable[[str], bool]) -> dict[str, int]:
    return {
        key: sum(w * int(d) for w, d in zip(weights, key, strict=True))
        for key in (f"{n:05d}" for n in range(10**5))
        if keep(key)
    }


# The check digit by table lookups instead of per-digit arithmetic: the hot loop runs once per row.
_HEAD = _weighted_sums(WEIGHTS[:5], lambda key: key[:2] in PREFIXES)
_TAIL = _weighted_sums(WEIGHTS[5:], lambda key: True)
_DIGIT = [str((11 - r) % 10) for r in range(11)]


def _classify(line: str) -> tuple[str | None, str | None]:
    """Why a row the fast path refused is malformed (or the row, if it is fine after all)."""
    if not line.strip():
        return BLANK_LINE, None
    parts = line.split("|")
    if len(parts) > len(COLUMNS) and (len(parts) > len(COLUMNS) + 1 or parts[-1]):
        return EXTRA_COLUMN, None
    if len(parts) < len(COLUMNS):
        return MISSING_COLUMNS, None
    if '"' in line:
        return STRAY_QUOTE, None
    if "\\" in line:
        return STRAY_BACKSLASH, None
    ruc = parts[0]
    if len(ruc) != RUC_LENGTH or not (ruc.isascii() and ruc.isdigit()):
        return RUC_NOT_11_DIGITS, None
    if ruc[:2] not in PREFIXES:
        return UNKNOWN_PREFIX, None
    if _DIGIT[(_HEAD[ruc[:5]] + _TAIL[ruc[5:10]]) % 11] != ruc[10]:
        return BAD_CHECK_DIGIT, None
    return None, "|".join(parts[: len(COLUMNS)])


def _parse(lines: list[str], skipped: dict[str, int]) -> list[str]:
    """The valid rows, verbatim (``RUC|14 fields``, trailing pipe or not); the rest counted.

    Deliberately minimal per-row work, measured: count the pipes, look for quotes and
    backslashes, check the RUC with two table lookups. Anything unusual goes to
    :func:`_classify`.
    """
    rows: list[str] = []
    append = rows.append
    head, tail, digit = _HEAD, _TAIL, _DIGIT
    for line in lines:
        pipes = line.count("|")
        if (
            ((pipes == 15 and line[-1] == "|") or pipes == 14)
            and line[11] == "|"
            and '"' not in line
            and "\\" not in line
            and (h := head.get(line[:5])) is not None
            and (t := tail.get(line[5:10])) is not None
            and digit[(h + t) % 11] == line[10]
        ):
            append(line)
            continue
        reason, row = _classify(line)
        if row is not None:
            append(row)
        elif reason is not None:
            skipped[reason] = skipped.get(reason, 0) + 1
    return rows


def read_padron(
    path: Path, summary: ImportSummary, progress: Progress | None = None
) -> Iterator[list[str]]:
    """Batches of valid rows (``RUC|14 fields``) from a padrón file, counted into ``summary``.

    Raises :class:`PadronFormatError` for an empty file, a wrong header, a corrupt zip or a file
    without a single valid row, so a caller never replaces good data with nothing.
    """
    source = str(path)
    with _open_source(path) as (stream, total):
        header_seen = False
        accepted = 0
        for lines, read in _text_chunks(stream, source):
            if not header_seen:
                while lines and not lines[0].strip():
                    lines = lines[1:]
                if not lines:
                    continue
                _check_header(lines[0], source)
                header_seen = True
                lines = lines[1:]
            summary.rows_read += len(lines)
            for start in range(0, len(lines), _BATCH_ROWS):
                rows = _parse(lines[start : start + _BATCH_ROWS], summary.skipped)
                accepted += len(rows)
                if rows:
                    yield rows
            if progress is not None:
                progress(summary.rows_read, read, total)
    if not header_seen:
        raise PadronFormatError(f"{source}: the file is empty")
    if accepted == 0:
        raise PadronFormatError(
            f"{source}: no valid rows (read {summary.rows_read:,}, skipped "
            f"{summary.skipped_total:,}); the padrón in use was kept"
        )


# --- stores ----------------------------------------------------------------------------------


class PadronStore(abc.ABC):
    """Where the padrón lives: look up one RUC; replace everything from a SUNAT file."""

    @abc.abstractmethod
    def lookup(self, ruc: str) -> PadronEntry | None:
        """The taxpayer with this RUC, ``None`` if the padrón doesn't list it.

        Raises :class:`PadronUnavailable` if no padrón has been imported yet.
        """

    @abc.abstractmethod
    def import_file(self, path: Path | str, progress: Progress | None = None) -> ImportSummary:
        """Replace the whole padrón with ``path`` (.txt or .zip) atomically."""

    @abc.abstractmethod
    def count(self) -> int:
        """RUCs in the padrón in use (0 before the first import)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections; the store must not be used afterwards."""

    def __enter__(self) -> PadronStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _lookup_key(ruc: str) -> int | None:
    ruc = ruc.strip()
    if len(ruc) != RUC_LENGTH or not (ruc.isascii() and ruc.isdigit()):
        return None
    return int(ruc)


def _entry(row: str) -> PadronEntry:
    """A stored row (``RUC|14 fields``, maybe a trailing pipe) as an entry."""
    values: list[str | None] = list(row.split("|", _ENTRY_FIELDS + 1)[1 : _ENTRY_FIELDS + 1])
    values += [None] * (_ENTRY_FIELDS - len(values))
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
        key = _lookup_key(ruc)
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
        key = _lookup_key(ruc)
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


def open_padron(database_url: str) -> PadronStore:
    """The store for a URL: ``sqlite:///var/padron.db`` or ``postgresql://user@host/db``.

    A SQLAlchemy driver suffix (``sqlite+aiosqlite``, ``postgresql+asyncpg``) is ignored, so the
    gateway's own ``DATABASE_URL`` works as is.
    """
    scheme, sep, rest = database_url.partition("://")
    if not sep:
        raise ValueError(f"not a database URL: {database_url.split('@')[-1]!r}")
    dialect = scheme.split("+", 1)[0].lower()
    if dialect == "sqlite":
        path = rest[1:] if rest.startswith("/") else rest
        if not path or path == ":memory:":
            raise ValueError("the padrón needs an SQLite file, not an in-memory database")
        return SqlitePadron(Path(path))
    if dialect in ("postgresql", "postgres"):
        return PostgresPadron(f"postgresql://{rest}")
    raise ValueError(f"unsupported padrón database: {dialect!r} (use sqlite or postgresql)")
