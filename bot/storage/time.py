"""Moments as the gateway stores them: timezone-aware, in UTC; and their day in Lima, in SQL."""

from __future__ import annotations

import datetime as dt
from typing import Any, overload

from sqlalchemy import Date
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@overload
def aware(moment: dt.datetime) -> dt.datetime: ...
@overload
def aware(moment: None) -> None: ...
def aware(moment: dt.datetime | None) -> dt.datetime | None:
    """SQLite gives naive datetimes back (stored in UTC): the same moment, marked UTC."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class LimaDay(FunctionElement[dt.date]):
    """The day in Lima (UTC-5 all year: Peru keeps no daylight saving time) of a moment stored
    in UTC, as each database spells it (:func:`lima_day`)."""

    type = Date()
    inherit_cache = True


def lima_day(moment: Any) -> LimaDay:
    """``moment``'s day in Lima, in SQL. The dashboard's index on ``messages`` is on this
    expression, and serves only queries written with it."""
    return LimaDay(moment)


@compiles(LimaDay, "sqlite")
def _lima_day_sqlite(element: LimaDay, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)}, '-5 hours')"


@compiles(LimaDay, "postgresql")
def _lima_day_postgresql(element: LimaDay, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(timezone(INTERVAL '-05:00', {compiler.process(element.clauses, **kw)}) AS DATE)"
