"""The embedded store: an SQLite file, one writer thread, group commit.

One thread owns the ``sqlite3`` connection and runs every query of :mod:`store_queries
<bot.conversation.store_queries>` in arrival order. It commits whatever accumulated while the
previous commit ran in one transaction, each query in its own savepoint so one failure stays its
own. A caller's ``await`` returns only after its own write is committed, so "stored before the
engine sees it" holds, at a fraction of the cost of a transaction per message.

The queries' SQLAlchemy statements are compiled for SQLite once each (:class:`_Connection`) and
run by ``sqlite3`` itself: the writer thread is the store's bottleneck, and SQLAlchemy's
execution costs several times what SQLite takes for these small statements.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql import ClauseElement, Executable, Select
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.types import DateTime, TypeEngine

from bot.conversation.store_queries import Db, Params, Query, QueryStore, select_one

logger = logging.getLogger(__name__)

T = TypeVar("T")

_STOP = object()


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _moment(value: str | None) -> dt.datetime | None:
    """A moment as SQLAlchemy stores it on SQLite (its own parser is a regular expression, ten
    times slower for the history's rows)."""
    return None if value is None else dt.datetime.fromisoformat(value)


#: The JSON is written as the rest of the gateway's text: UTF-8, not ``\\u`` escapes.
_DIALECT = sqlite.dialect(paramstyle="named", json_serializer=_json)


@dataclass(frozen=True)
class _Compiled:
    """A statement compiled for SQLite, with SQLAlchemy's conversions of its values."""

    statement: Executable
    compiled: SQLCompiler
    #: Python-side column defaults of an INSERT (``attempts`` 0, …), by parameter name.
    defaults: dict[str, Any]
    binds: Mapping[str, Callable[[Any], Any]]
    #: The result columns that need converting (JSON, moments), by position.
    results: Sequence[tuple[int, Callable[[Any], Any]]]

    @classmethod
    def of(cls, statement: Executable, keys: Sequence[str]) -> _Compiled:
        assert isinstance(statement, ClauseElement)
        compiled = statement.compile(dialect=_DIALECT, column_keys=list(keys))
        assert isinstance(compiled, SQLCompiler)
        defaults = {}
        for column in compiled.insert_prefetch:
            default = column.default
            if default is None or not default.is_scalar:
                raise NotImplementedError(f"{column}: only constant defaults are supported")
            defaults[column.key] = default.arg  # type: ignore[attr-defined]
        binds = {}
        for bind, name in compiled.bind_names.items():
            process = bind.type.dialect_impl(_DIALECT).bind_processor(_DIALECT)
            if process is not None:
                binds[name] = process
        types: list[TypeEngine[Any]] = []
        if isinstance(statement, Select):
            types = [column.type for column in statement.selected_columns]
        elif isinstance(statement, UpdateBase):
            types = [column["type"] for column in statement.returning_column_descriptions]
        results = []
        for index, type_ in enumerate(types):
            if isinstance(type_, DateTime):
                results.append((index, _moment))
            elif process := type_.dialect_impl(_DIALECT).result_processor(_DIALECT, None):
                results.append((index, process))
        return cls(statement, compiled, defaults, binds, results)

    def parameters(self, params: Params) -> tuple[str, MutableMapping[str, Any]]:
        """The SQL (``IN`` lists expanded) and its parameters, converted for ``sqlite3``."""
        if self.defaults:
            params = {**self.defaults, **params}
        values: MutableMapping[str, Any]
        if self.compiled.post_compile_params:
            state = self.compiled.construct_expanded_state(params)
            sql, values = state.statement, dict(state.parameters)
        else:
            sql, values = self.compiled.string, self.compiled.construct_params(params)
        for name, process in self.binds.items():
            if name in values:
                values[name] = process(values[name])
        return sql, values

    def rows(self, cursor: sqlite3.Cursor) -> list[tuple[Any, ...]]:
        rows = cursor.fetchall()
        if not self.results:
            return rows
        converted = []
        for row in rows:
            values = list(row)
            for index, process in self.results:
                values[index] = process(values[index])
            converted.append(tuple(values))
        return converted


#: By statement and parameter names (the statements are the queries' module constants).
_COMPILED: dict[tuple[int, tuple[str, ...]], _Compiled] = {}


@dataclass(frozen=True)
class _Rows:
    rows: list[tuple[Any, ...]]
    rowcount: int

    def all(self) -> list[tuple[Any, ...]]:
        return self.rows

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.rows)


class _Connection:
    """The writer's ``sqlite3`` connection as the queries see it (a :class:`Db
    <bot.conversation.store_queries.Db>`): each statement is compiled once per set of parameter
    names, then run by ``sqlite3`` with SQLAlchemy's conversions of the values (moments, JSON)."""

    dialect = _DIALECT

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    @staticmethod
    def _compile(statement: Executable, params: Params) -> _Compiled:
        key = (id(statement), tuple(params))
        compiled = _COMPILED.get(key)
        if compiled is None or compiled.statement is not statement:
            compiled = _COMPILED[key] = _Compiled.of(statement, list(params))
        return compiled

    def execute(self, statement: Executable, parameters: Params | list[Params]) -> _Rows:
        if isinstance(parameters, list):  # executemany: no IN lists, nothing returned
            if not parameters:
                return _Rows([], 0)
            compiled = self._compile(statement, parameters[0])
            sql = compiled.parameters(parameters[0])[0]
            values = [compiled.parameters(params)[1] for params in parameters]
            return _Rows([], self._db.executemany(sql, values).rowcount)
        compiled = self._compile(statement, parameters)
        cursor = self._db.execute(*compiled.parameters(parameters))
        # Fetched at once: a statement left unfinished would hold the savepoint open.
        return _Rows(compiled.rows(cursor), cursor.rowcount)

    def scalar(self, statement: Executable, parameters: Params | None = None) -> Any:
        rows = self.execute(statement, parameters or {}).rows
        return rows[0][0] if rows else None


def _connect(path: Path) -> sqlite3.Connection:
    """The writer's connection: it controls the transactions itself (no implicit ``BEGIN``)."""
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA busy_timeout=5000")
        db.execute("PRAGMA foreign_keys=ON")
    except BaseException:
        db.close()
        raise
    return db


class SqliteStore(QueryStore):
    """The embedded store. Every operation runs on the writer thread, in arrival order."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="sqlite-writer", daemon=True)
        self._ready = threading.Event()
        self._open_error: BaseException | None = None
        self._stopping = False

    @classmethod
    async def open(cls, path: Path) -> SqliteStore:
        store = cls(path)
        store._thread.start()
        await asyncio.to_thread(store._ready.wait)
        if store._open_error is not None:
            raise store._open_error
        return store

    async def _read(self, query: Query[T]) -> T:
        return await self._call(query)

    async def _write(self, query: Query[T]) -> T:
        return await self._call(query)

    async def _call(self, job: Query[T]) -> T:
        if self._stopping or not self._thread.is_alive():
            raise RuntimeError("the SQLite writer is not running")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((job, future, loop))
        return await future

    def _run(self) -> None:
        try:
            db = _connect(self._path)
        except BaseException as exc:  # reported to open()
            self._open_error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            while True:
                batch = [self._jobs.get()]
                while True:
                    try:
                        batch.append(self._jobs.get_nowait())
                    except queue.Empty:
                        break
                stopping = any(item is _STOP for item in batch)
                jobs = [item for item in batch if item is not _STOP]
                if jobs:
                    self._commit(db, jobs)
                if stopping:
                    return
        finally:
            db.close()
            # Whatever is still queued will never run: its callers must not wait forever.
            leftover: list[Any] = []
            while True:
                try:
                    item = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if item is not _STOP:
                    leftover.append(item)
            error = RuntimeError("the SQLite writer stopped")
            for _job, future, loop in leftover:
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(_settle, [(future, None, error)])

    @staticmethod
    def _commit(db: sqlite3.Connection, jobs: list[Any]) -> None:
        """Run ``jobs`` in one transaction, each in a savepoint so one failure stays its own."""
        queries: Db = _Connection(db)
        outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        try:
            db.execute("BEGIN IMMEDIATE")
            for job, future, _loop in jobs:
                db.execute("SAVEPOINT job")
                try:
                    outcomes.append((future, job(queries), None))
                    db.execute("RELEASE job")
                except Exception as exc:
                    db.execute("ROLLBACK TO job")
                    db.execute("RELEASE job")
                    outcomes.append((future, None, exc))
            db.execute("COMMIT")
        except Exception as exc:  # the transaction itself failed: nothing in it was stored
            logger.error("SQLite commit failed: %s", type(exc).__name__)
            if db.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
            outcomes = [(future, None, exc) for _job, future, _loop in jobs]
        by_loop: dict[asyncio.AbstractEventLoop, list[Any]] = {}
        for (_job, _future, loop), outcome in zip(jobs, outcomes, strict=True):
            by_loop.setdefault(loop, []).append(outcome)
        for loop, settled in by_loop.items():
            # A closed loop has nobody waiting any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, settled)

    async def close(self) -> None:
        self._stopping = True
        if self._thread.is_alive():
            self._jobs.put(_STOP)
            await asyncio.to_thread(self._thread.join)

    async def ping(self) -> bool:
        try:
            return await asyncio.wait_for(self._call(select_one), timeout=3.0)
        except (TimeoutError, RuntimeError, sqlite3.Error, SQLAlchemyError):
            logger.warning("database health check failed", exc_info=True)
            return False


def _settle(outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for future, result, error in outcomes:
        if future.cancelled():
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)
