"""The store at scale: PostgreSQL through asyncpg (or any database SQLAlchemy's ``AsyncEngine``
drives), one transaction per write, the queries of :mod:`bot.conversation.store_queries`."""

from __future__ import annotations

import logging
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.conversation.store_queries import Query, QueryStore, select_one

logger = logging.getLogger(__name__)

T = TypeVar("T")


class SqlStore(QueryStore):
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def _read(self, query: Query[T]) -> T:
        async with self._engine.connect() as db:
            return await db.run_sync(query)

    async def _write(self, query: Query[T]) -> T:
        async with self._engine.begin() as db:
            return await db.run_sync(query)

    async def ping(self) -> bool:
        try:
            await self._read(select_one)
        except Exception:
            logger.warning("database health check failed", exc_info=True)
            return False
        return True

    async def close(self) -> None:
        await self._engine.dispose()
