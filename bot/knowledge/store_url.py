"""Where a knowledge store lives (the padrón, the budget figures), read from a database URL:
``sqlite:///var/padron.db`` or ``postgresql://user@host/db``. A SQLAlchemy driver suffix
(``sqlite+aiosqlite``, ``postgresql+asyncpg``) is ignored, so the gateway's own
``DATABASE_URL`` works as is."""

from __future__ import annotations

from pathlib import Path


def store_location(database_url: str, what: str) -> Path | str:
    """The SQLite file, or the PostgreSQL URL (plain ``postgresql://``, for psycopg2), that
    ``database_url`` names; ``ValueError`` naming ``what`` (e.g. "padrón") otherwise. The
    error never repeats the URL's credentials."""
    scheme, sep, rest = database_url.partition("://")
    if not sep:
        raise ValueError(f"not a database URL: {database_url.split('@')[-1]!r}")
    dialect = scheme.split("+", 1)[0].lower()
    if dialect == "sqlite":
        path = rest[1:] if rest.startswith("/") else rest
        if not path or path == ":memory:":
            raise ValueError(f"the {what} store needs an SQLite file, not an in-memory database")
        return Path(path)
    if dialect in ("postgresql", "postgres"):
        return f"postgresql://{rest}"
    raise ValueError(f"unsupported {what} database: {dialect!r} (use sqlite or postgresql)")
