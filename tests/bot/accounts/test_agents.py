"""Accounts on both databases: wrong passwords lock an account exactly as often when they arrive
all at once as one by one, an expired lock counts from one again, and checking passwords (Argon2,
about 0.1 s of CPU each) never stalls the event loop."""

from __future__ import annotations

import asyncio
import datetime as dt
import statistics
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.accounts.agents import LOCKOUT, MAX_FAILED_LOGINS, AgentDirectory, LoginRefused, Role
from bot.conversation.store import open_store
from bot.storage.database import create_engine
from bot.storage.tables import Agent
from bot.storage.time import utcnow
from tests.bot.databases import BACKENDS, database_url

PASSWORD = "una-clave-larga-123"


@pytest.fixture(params=BACKENDS)
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with database_url(request.param, tmp_path) as url:
        store = await open_store(url)  # migrations
        await store.close()
        created = create_engine(url)
        yield created
        await created.dispose()


@pytest.fixture()
def directory(engine: AsyncEngine) -> AgentDirectory:
    return AgentDirectory(engine)


async def attempt(directory: AgentDirectory, username: str, password: str) -> str:
    """What a login attempt came to: "ok", "refused" or "locked"."""
    try:
        await directory.login(username, password)
    except LoginRefused as refused:
        return "locked" if refused.locked_until is not None else "refused"
    return "ok"


async def test_concurrent_wrong_passwords_lock_exactly_as_sequential_ones(
    directory: AgentDirectory,
) -> None:
    one_by_one = await directory.create("ana", PASSWORD, Role.AGENT)
    all_at_once = await directory.create("beto", PASSWORD, Role.AGENT)

    sequential = [await attempt(directory, "ana", "no-es-la-clave") for _ in range(20)]
    concurrent = await asyncio.gather(
        *(attempt(directory, "beto", "no-es-la-clave") for _ in range(20))
    )

    expected = ["refused"] * (MAX_FAILED_LOGINS - 1) + ["locked"] * (21 - MAX_FAILED_LOGINS)
    assert sequential == expected
    assert sorted(concurrent) == sorted(expected)
    for account in (one_by_one, all_at_once):
        failed, locked_until = await directory.failed_logins(account.id)
        assert failed == MAX_FAILED_LOGINS
        assert locked_until is not None and locked_until > utcnow() + LOCKOUT / 2
    # Locked: the right password waits too.
    assert await attempt(directory, "beto", PASSWORD) == "locked"


async def test_an_expired_lock_counts_from_one_again(
    directory: AgentDirectory, engine: AsyncEngine
) -> None:
    ana = await directory.create("ana", PASSWORD, Role.AGENT)
    for _ in range(MAX_FAILED_LOGINS):
        await attempt(directory, "ana", "no-es-la-clave")
    async with engine.begin() as db:  # the lock ran out
        await db.execute(
            update(Agent)
            .where(Agent.id == ana.id)
            .values(locked_until=utcnow() - dt.timedelta(seconds=1))
        )
    assert await attempt(directory, "ana", "no-es-la-clave") == "refused"
    failed, locked_until = await directory.failed_logins(ana.id)
    assert (failed, locked_until) == (1, None)
    assert await attempt(directory, "ana", PASSWORD) == "ok"
    assert await directory.failed_logins(ana.id) == (0, None)


async def test_password_checks_leave_the_event_loop_free(directory: AgentDirectory) -> None:
    await directory.create("ana", PASSWORD, Role.AGENT)
    hasher = PasswordHasher()
    stored = hasher.hash(PASSWORD)
    checks = []
    for _ in range(3):
        started = time.perf_counter()
        hasher.verify(stored, PASSWORD)
        checks.append(time.perf_counter() - started)
    one_check = statistics.median(checks)  # how long the loop would stop for each one

    gaps: list[float] = []
    done = asyncio.Event()

    async def heartbeat() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    beating = asyncio.create_task(heartbeat())
    await asyncio.sleep(0.02)
    outcomes = await asyncio.gather(
        *(attempt(directory, "ana", PASSWORD if i % 2 else "otra-clave-larga") for i in range(6)),
        attempt(directory, "nadie", PASSWORD),
    )
    done.set()
    await asyncio.wait_for(beating, timeout=5)

    assert outcomes.count("ok") == 3 and outcomes.count("refused") == 4
    # Seven checks ran; on the loop, the heartbeat would have stopped for each one.
    assert max(gaps) < one_check, (max(gaps), one_check)
