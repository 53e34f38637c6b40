"""The gateway database: SQLite by default (WAL, one file under ``var/``), PostgreSQL at scale.

The schema is owned by Alembic migrations (``bot/storage/migrations``); :func:`migrate` brings a
database to the latest revision and runs at start-up.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event, text
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
    # pool_pre_ping: a pooled connection a database server closed (a PostgreSQL restart) is
    # replaced when taken, instead of failing the request that took it (SQLite has no server).
    engine = create_async_engine(
        database_url, hide_parameters=True, pool_pre_ping=url.get_backend_name() != "sqlite"
    )
    if url.get_backend_name() == "sqlite":
        _sqlite_pragmas(engine.sync_engine)
    return engine


#: PostgreSQL advisory lock held while migrating, so gateways starting together on one database
#: take turns (the later ones find it at the latest revision). Any constant unique to this app.
MIGRATION_LOCK = 0x5A_17_0015


async def migrate(engine: AsyncEngine) -> None:
    """Upgrade the database to the latest migration (idempotent). Safe to call from several
    processes at once: they wait for each other (PostgreSQL: a transaction-scoped advisory lock,
    released at commit; SQLite: the database's write lock, taken first)."""
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
            )
        elif connection.dialect.name == "sqlite":
            # The driver opens no transaction before DDL: take the write lock first (the
            # others wait up to busy_timeout, then find the schema there).
            await connection.exec_driver_sql("BEGIN IMMEDIATE")
        await connection.run_sync(_upgrade)


def _upgrade(connection: Connection) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
