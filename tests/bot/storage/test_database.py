"""Migrations at start-up: several gateways starting together on one empty database."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.storage.database import create_engine, migrate
from tests.bot.databases import BACKENDS, database_url


@pytest.mark.parametrize("backend", BACKENDS)
async def test_gateways_starting_together_migrate_once(backend: str, tmp_path: Path) -> None:
    async with database_url(backend, tmp_path) as url:
        engines = [create_engine(url) for _ in range(4)]
        try:
            # Four gateways at once: without the lock, PostgreSQL refuses the second CREATE
            # TABLE of the same name (or the alembic_version row is written twice).
            await asyncio.gather(*(migrate(engine) for engine in engines))
            async with engines[0].connect() as connection:
                versions = (
                    await connection.execute(text("SELECT version_num FROM alembic_version"))
                ).all()
                conversations = (
                    await connection.execute(text("SELECT count(*) FROM conversations"))
                ).scalar()
            assert len(versions) == 1
            assert conversations == 0
            await migrate(engines[1])  # and again later: nothing to do
        finally:
            for engine in engines:
                await engine.dispose()
