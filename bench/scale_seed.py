"""The scale benchmark's PostgreSQL databases: each its own, created and dropped, and one
holding a stored history written fast.

:func:`seed` migrates a database to the gateway's schema (the Alembic migrations, as the
gateway does at start) and writes ``conversations`` web chat conversations of
``per_conversation`` messages each, alternating the citizen's question (``in``, answered) and
the bot's reply (``out``, sent in the HTTP answer), with two ``INSERT … SELECT`` over
``generate_series`` inside PostgreSQL (1,000,000 messages in well under a minute; through the
gateway's services they would take hours). Columns not written take their defaults. The
senders are ``seed-1`` … ``seed-N``; a conversation spans a minute or two on one of the last
365 days. The tables are analysed afterwards, as autovacuum would have done by then.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bench.load_driver import CONVERSATIONS
from bot.storage.database import create_engine, migrate

SENDER_PREFIX = "seed-"
REPLY = (
    "Para inscribirte en el RUC como persona natural necesitas tu DNI. Puedes hacerlo en línea "
    "desde SUNAT Operaciones en Línea o en un centro de servicios. Fuente: sunat.gob.pe"
)

_CONVERSATIONS = text("""
INSERT INTO conversations (channel, sender_id, created_at, updated_at)
SELECT 'webchat', CAST(:prefix AS text) || n,
       now() - (n % 365) * interval '1 day' - interval '2 minutes',
       now() - (n % 365) * interval '1 day'
FROM generate_series(1, CAST(:conversations AS integer)) AS n
""")
#: Turn t (1-based) of a conversation: odd turns are the citizen's (the mix's texts in turn),
#: even ones the bot's reply, 10 seconds apart.
_MESSAGES = text("""
INSERT INTO messages (conversation_id, direction, text, status, created_at)
SELECT c.id,
       CASE WHEN t % 2 = 1 THEN 'in' ELSE 'out' END,
       CASE WHEN t % 2 = 1
            THEN texts[1 + (c.id + t / 2) % cardinality(texts)] ELSE CAST(:reply AS text) END,
       CASE WHEN t % 2 = 1 THEN 'answered' ELSE 'sent' END,
       c.created_at + t * interval '10 seconds'
FROM conversations AS c
     CROSS JOIN generate_series(1, CAST(:per AS integer)) AS t
     CROSS JOIN (SELECT CAST(:texts AS text[]) AS texts) AS mix
WHERE c.channel = 'webchat' AND c.sender_id LIKE CAST(:prefix AS text) || '%'
""")


@dataclass(frozen=True)
class Seeded:
    conversations: int
    messages: int
    seconds: float


async def _admin(admin_url: str, statement: str) -> None:
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


def database_url(admin_url: str, name: str) -> str:
    """``admin_url`` (a ``postgresql+asyncpg://`` URL) naming the database ``name`` instead."""
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def create_database(admin_url: str, name: str) -> str:
    """Create the empty database ``name`` on ``admin_url``'s server; its URL."""
    asyncio.run(_admin(admin_url, f'CREATE DATABASE "{name}"'))
    return database_url(admin_url, name)


def drop_database(admin_url: str, name: str) -> None:
    """Drop ``name`` (its open connections too); nothing when it does not exist."""
    asyncio.run(_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _seed(url: str, conversations: int, per_conversation: int) -> Seeded:
    started = time.monotonic()
    engine = create_engine(url)
    try:
        await migrate(engine)
        texts = [phrase for conversation in CONVERSATIONS for phrase in conversation]
        params = {"prefix": SENDER_PREFIX, "conversations": conversations,
                  "per": per_conversation, "texts": texts, "reply": REPLY}  # fmt: skip
        async with engine.begin() as connection:
            await connection.execute(_CONVERSATIONS, params)
            messages = (await connection.execute(_MESSAGES, params)).rowcount
        async with engine.connect() as connection:
            await connection.execute(text("ANALYZE conversations"))
            await connection.execute(text("ANALYZE messages"))
            await connection.commit()
    finally:
        await engine.dispose()
    return Seeded(conversations, messages, time.monotonic() - started)


def seed(url: str, conversations: int, per_conversation: int) -> Seeded:
    """Migrate the database at ``url`` and store the history described in the module's
    docstring; what was written and how long it took."""
    return asyncio.run(_seed(url, conversations, per_conversation))
