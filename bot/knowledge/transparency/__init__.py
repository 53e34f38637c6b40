"""SUNAT's budget and spending, from the MEF's open data: import a budget execution CSV and
answer "¿cuánto ha gastado SUNAT este año?" or "¿cuál es el presupuesto 2025?" with the
figure, the date of the data and its source.

* :mod:`~bot.knowledge.transparency.records`: the amounts, a loaded year, the errors, the
  import summary and the :class:`TransparencyStore` interface.
* :mod:`~bot.knowledge.transparency.reader`: the CSV reader (the MEF's headers; checks every
  column and number, sums per year and genérica de gasto).
* :mod:`~bot.knowledge.transparency.store`: SQLite and PostgreSQL behind one query layer; an
  import replaces the years its file holds in one transaction, or stores nothing.
* :mod:`~bot.knowledge.transparency.answers`: what a question asks (which year, budget or
  spending, by genérica) and the answer, worded by the ``transparencia`` article's templates.

Shared by the gateway's command line (Python >= 3.11) and the action server (Python 3.10):
standard library, plus psycopg2 for PostgreSQL URLs.
"""

from __future__ import annotations

from pathlib import Path

from bot.knowledge.store_url import store_location
from bot.knowledge.transparency.records import TransparencyStore
from bot.knowledge.transparency.store import PostgresTransparency, SqliteTransparency


def open_transparency(database_url: str) -> TransparencyStore:
    """The store for a URL: ``sqlite:///var/transparencia.db`` or
    ``postgresql://user@host/db`` (a SQLAlchemy driver suffix such as ``+asyncpg`` is
    ignored, so the gateway's own ``DATABASE_URL`` works as is)."""
    location = store_location(database_url, "figures")
    if isinstance(location, Path):
        return SqliteTransparency(location)
    return PostgresTransparency(location)
