"""The gateway database: SQLite by default (WAL, one file under ``var/``), PostgreSQL at scale.

The schema is owned by Alembic migrations (``bot/storage/migrations``); :func:`migrate` brings a
database to the latest revision and runs at start-up.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


def create_engine(database_url: str) -> AsyncEngine:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    # hide_parameters: a failed statement's error must not carry a citizen's message into logs.
    engine = create_async_engine(database_url, hide_parameters=True)
    if url.get_backend_name() == "sqlite":
        _sqlite_pragmas(engine.sync_engine)
    return engine


async def migrate(engine: AsyncEngine) -> None:
    """Upgrade the database to the latest migration (idempotent)."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


def _upgrade(connection: Connection) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
