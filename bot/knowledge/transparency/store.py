"""The figures in a database: one query layer over SQLite (the default, its own file beside the
gateway's) and PostgreSQL (psycopg2, imported only when used).

Two tables: ``transparencia_anios`` (one row per year: the date of the figures, their source,
whether they are the invented sample) and ``transparencia_montos`` (one row per year and
genérica de gasto, ``categoria = ''`` for the year's total; amounts in céntimos). An import
reads and checks the whole file first, then replaces the years it holds in one transaction
(imports one at a time: SQLite's write lock, a PostgreSQL advisory lock); real figures also
remove every year of the invented sample. A year is read with one statement, so a reader sees
the old figures or the new ones, never a mix.
"""

from __future__ import annotations

import abc
import contextlib
import datetime as dt
import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any

from bot.knowledge.transparency.reader import BudgetFile, metadata_date, read_budget
from bot.knowledge.transparency.records import (
    DEFAULT_SOURCE,
    DEFAULT_SOURCE_URL,
    Amounts,
    Category,
    ImportSummary,
    Progress,
    TransparencyError,
    TransparencyFormatError,
    TransparencyNotLoaded,
    TransparencyStore,
    TransparencyUnavailable,
    YearFigures,
)

logger = logging.getLogger(__name__)

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS transparencia_anios (anio INTEGER PRIMARY KEY, "
    "fecha_corte TEXT NOT NULL, fuente TEXT NOT NULL, fuente_url TEXT NOT NULL, "
    "ejemplo INTEGER NOT NULL, archivo TEXT NOT NULL, importado_en TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS transparencia_montos (anio INTEGER NOT NULL, "
    "categoria TEXT NOT NULL, pia BIGINT NOT NULL, pim BIGINT NOT NULL, "
    "devengado BIGINT NOT NULL, certificado BIGINT, comprometido BIGINT, girado BIGINT, "
    "PRIMARY KEY (anio, categoria))",
)
_YEARS = "SELECT anio FROM transparencia_anios ORDER BY anio"
_YEAR = (
    "SELECT a.fecha_corte, a.fuente, a.fuente_url, a.ejemplo, m.categoria, m.pia, m.pim, "
    "m.devengado, m.certificado, m.comprometido, m.girado FROM transparencia_anios a "
    "JOIN transparencia_montos m ON m.anio = a.anio WHERE a.anio = ? "
    "ORDER BY m.pim DESC, m.categoria"
)
_DELETE = (
    "DELETE FROM transparencia_montos WHERE anio = ?",
    "DELETE FROM transparencia_anios WHERE anio = ?",
)
#: Real figures replace the whole invented sample, so the two are never mixed.
_DELETE_SAMPLE = (
    "DELETE FROM transparencia_montos WHERE anio IN "
    "(SELECT anio FROM transparencia_anios WHERE ejemplo = 1)",
    "DELETE FROM transparencia_anios WHERE ejemplo = 1",
)
_INSERT_YEAR = "INSERT INTO transparencia_anios VALUES (?, ?, ?, ?, ?, ?, ?)"
_INSERT_AMOUNTS = "INSERT INTO transparencia_montos VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
#: Metadata values that mark the file as the invented sample.
_NOT_SAMPLE = {"", "no", "false", "0"}


def prepared_years(
    budget: BudgetFile,
    summary: ImportSummary,
    fecha_corte: dt.date | None,
    fuente: str | None,
    fuente_url: str | None,
    today: dt.date | None = None,
) -> list[YearFigures]:
    """The years of a file read whole, with the date and source from the command line, else
    from the file's ``#`` lines, else (the source only) the MEF's open data. No date, a date
    in the future or a source URL that is not https:// is a
    :class:`TransparencyFormatError`."""
    meta = budget.metadata
    if fecha_corte is None and meta.get("fecha_corte"):
        fecha_corte = metadata_date(meta["fecha_corte"])
    if fecha_corte is None:
        raise TransparencyFormatError(
            "Falta la fecha de corte de las cifras (la fecha a la que corresponden): indícala "
            "con --fecha-corte AAAA-MM-DD. Nada se guardó."
        )
    if fecha_corte > (today or dt.date.today()):
        raise TransparencyFormatError(
            f"La fecha de corte {fecha_corte.isoformat()} está en el futuro. Nada se guardó."
        )
    label = (fuente or meta.get("fuente") or DEFAULT_SOURCE).strip()
    url = (fuente_url or meta.get("fuente_url") or DEFAULT_SOURCE_URL).strip()
    if not url.startswith("https://"):
        raise TransparencyFormatError(
            f"La dirección de la fuente debe empezar con https:// («{url}»). Nada se guardó."
        )
    sample = meta.get("ejemplo", "").strip().lower() not in _NOT_SAMPLE
    years = []
    for anio in budget.years():
        total, categories = budget.amounts(anio)
        years.append(
            YearFigures(
                anio=anio,
                fecha_corte=fecha_corte,
                fuente=label,
                fuente_url=url,
                ejemplo=sample,
                total=total,
                categorias=tuple(Category(n, a) for n, a in categories),
            )
        )
    summary.years = [y.anio for y in years]
    summary.categories = len({c.nombre for y in years for c in y.categorias})
    summary.fecha_corte, summary.fuente, summary.ejemplo = fecha_corte, label, sample
    return years


def _amount_row(anio: int, categoria: str, a: Amounts) -> tuple[Any, ...]:
    return (anio, categoria, a.pia, a.pim, a.devengado, a.certificado, a.comprometido, a.girado)


def _year_from_rows(anio: int, rows: list[tuple[Any, ...]]) -> YearFigures | None:
    if not rows:
        return None
    fecha, fuente, url, ejemplo = rows[0][:4]
    total: Amounts | None = None
    categories = []
    for row in rows:
        amounts = Amounts(
            pia=int(row[5]),
            pim=int(row[6]),
            devengado=int(row[7]),
            certificado=None if row[8] is None else int(row[8]),
            comprometido=None if row[9] is None else int(row[9]),
            girado=None if row[10] is None else int(row[10]),
        )
        if row[4] == "":
            total = amounts
        else:
            categories.append(Category(str(row[4]), amounts))
    if total is None:  # pragma: no cover - every import writes the total
        return None
    return YearFigures(
        anio=anio,
        fecha_corte=dt.date.fromisoformat(str(fecha)),
        fuente=str(fuente),
        fuente_url=str(url),
        ejemplo=bool(ejemplo),
        total=total,
        categorias=tuple(categories),
    )


class SqlTransparency(TransparencyStore):
    """The queries, written once; a subclass says how to connect and how to lock for a write."""

    #: The DB-API parameter marker of the driver (queries are written with ``?``).
    marker = "?"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._db: Any = None

    @abc.abstractmethod
    def _reader(self) -> Any:
        """An open connection for reads (kept), raising :class:`TransparencyUnavailable`."""

    @abc.abstractmethod
    def _read(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """Run one read statement; a missing table is :class:`TransparencyNotLoaded`."""

    @abc.abstractmethod
    def _write(self, years: list[YearFigures], source: str) -> None:
        """Replace ``years`` in one transaction."""

    def _sql(self, sql: str) -> str:
        return sql.replace("?", self.marker)

    def years(self) -> list[int]:
        return [int(row[0]) for row in self._read(_YEARS, ())]

    def year(self, anio: int) -> YearFigures | None:
        return _year_from_rows(anio, self._read(_YEAR, (anio,)))

    def import_file(
        self,
        path: Path | str,
        fecha_corte: dt.date | None = None,
        fuente: str | None = None,
        fuente_url: str | None = None,
        pliego: str | None = None,
        progress: Progress | None = None,
    ) -> ImportSummary:
        source = Path(path)
        summary = ImportSummary(source=str(source))
        budget = read_budget(source, summary, pliego, progress)
        years = prepared_years(budget, summary, fecha_corte, fuente, fuente_url)
        self._write(years, source.name)
        logger.info(
            "transparency figures imported from %s: years %s, %d rows",
            source.name,
            summary.years,
            summary.rows_read,
        )
        return summary

    def _statements(self, years: list[YearFigures], source: str) -> list[tuple[str, list[Any]]]:
        """What an import runs after the schema: per statement, its rows."""
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        deletes: list[tuple[str, list[Any]]] = [
            (self._sql(sql), [(y.anio,) for y in years]) for sql in _DELETE
        ]
        if not any(y.ejemplo for y in years):
            deletes = [(sql, [()]) for sql in _DELETE_SAMPLE] + deletes
        year_rows = [
            (y.anio, y.fecha_corte.isoformat(), y.fuente, y.fuente_url, int(y.ejemplo), source, now)
            for y in years
        ]
        amount_rows = [_amount_row(y.anio, "", y.total) for y in years] + [
            _amount_row(y.anio, c.nombre, c.amounts) for y in years for c in y.categorias
        ]
        return [
            *deletes,
            (self._sql(_INSERT_YEAR), year_rows),
            (self._sql(_INSERT_AMOUNTS), amount_rows),
        ]

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


class SqliteTransparency(SqlTransparency):
    """The figures in one SQLite file (created by the first import)."""

    def __init__(self, path: Path | str) -> None:
        super().__init__()
        self.path = Path(path)

    def _reader(self) -> sqlite3.Connection:
        if self._db is None:
            if not self.path.exists():
                raise TransparencyNotLoaded(f"no figures imported yet ({self.path} does not exist)")
            uri = self.path.absolute().as_uri() + "?mode=ro"
            self._db = sqlite3.connect(uri, uri=True, timeout=10, check_same_thread=False)
        db: sqlite3.Connection = self._db
        return db

    def _read(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self._lock:
            db = self._reader()
            try:
                return list(db.execute(sql, params).fetchall())
            except sqlite3.OperationalError as exc:
                if "no such table" in str(exc):
                    raise TransparencyNotLoaded("no figures imported yet") from exc
                raise TransparencyUnavailable(f"figures database unavailable ({exc})") from exc

    def _write(self, years: list[YearFigures], source: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            for statement in _SCHEMA:
                db.execute(statement)
            db.execute("BEGIN IMMEDIATE")  # one writer at a time; readers go on meanwhile
            try:
                for sql, rows in self._statements(years, source):
                    db.executemany(sql, rows)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise TransparencyError(f"import into {self.path} failed ({exc})") from exc
        finally:
            db.close()


class PostgresTransparency(SqlTransparency):
    """The figures in PostgreSQL (the gateway's database by default)."""

    marker = "%s"
    _LOCK_KEY = 0x5452_4E53  # advisory lock: one import at a time

    def __init__(self, dsn: str) -> None:
        super().__init__()
        self.dsn = dsn

    def _connect(self) -> Any:
        try:
            import psycopg2  # type: ignore[import-untyped]  # only needed for PostgreSQL URLs
        except ImportError as exc:  # pragma: no cover - both environments ship it
            raise TransparencyUnavailable("psycopg2 is not installed") from exc
        try:
            return psycopg2.connect(self.dsn)
        except psycopg2.Error as exc:
            raise TransparencyUnavailable(
                f"cannot connect to the figures database ({exc})"
            ) from exc

    def _reader(self) -> Any:
        if self._db is None or self._db.closed:
            self._db = self._connect()
            self._db.autocommit = True
        return self._db

    def _read(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        import psycopg2

        with self._lock:
            db = self._reader()
            try:
                with db.cursor() as cur:
                    cur.execute(self._sql(sql), params)
                    return list(cur.fetchall())
            except psycopg2.errors.UndefinedTable as exc:
                raise TransparencyNotLoaded("no figures imported yet") from exc
            except psycopg2.Error as exc:
                db.close()
                raise TransparencyUnavailable(f"figures database unavailable ({exc})") from exc

    def _write(self, years: list[YearFigures], source: str) -> None:
        import psycopg2

        db = self._connect()
        try:
            with db.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (self._LOCK_KEY,))
                for statement in _SCHEMA:
                    cur.execute(statement)
                for sql, rows in self._statements(years, source):
                    cur.executemany(sql, rows)
            db.commit()
        except psycopg2.Error as exc:
            db.rollback()
            raise TransparencyError(f"import into PostgreSQL failed ({exc})") from exc
        except BaseException:
            db.rollback()
            raise
        finally:
            with contextlib.suppress(psycopg2.Error):
                db.close()
