"""Two gateways' desks on one PostgreSQL database, their hubs joined by an in-process bus: an
escalation on one reaches the consoles of the other (as ``may_see`` allows) and is owned there
at once, a close releases it, presence and the end of a session cross over, and a gap of the
bus makes the desk read the owners again from the database."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.accounts.agents import AgentDirectory, AgentInfo, Role
from bot.conversation.store import open_store
from bot.handoff.hub import SESSION_ENDED, ConsoleHub
from bot.handoff.service import HandoffDesk
from bot.handoff.store import HandoffStore
from bot.knowledge.articles import KnowledgeStore
from bot.knowledge.handoff_rules import HandoffRulesStore
from bot.storage.bus import LocalBus, LocalGroup
from bot.storage.database import create_engine
from tests.bot.databases import database_url
from tests.bot.handoff.test_service import ASKED, PASSWORD, Sent

ROOT = Path(__file__).resolve().parents[3]
NOW = dt.datetime(2026, 11, 30, 15, 0, tzinfo=dt.UTC)  # a Monday, 10:00 in Lima


class Gateway:
    def __init__(self, url: str, group: LocalGroup) -> None:
        self.engine = create_engine(url)
        self.hub = ConsoleHub(LocalBus(group))
        self.desk = HandoffDesk(
            HandoffStore(self.engine), AgentDirectory(self.engine),
            KnowledgeStore(ROOT / "data" / "knowledge"),
            HandoffRulesStore(ROOT / "data" / "handoff"), self.hub, clock=lambda: NOW,
        )  # fmt: skip
        self.desk.connect(Sent())

    async def start(self) -> None:
        await self.hub.bus.start()
        await self.desk.start()

    async def stop(self) -> None:
        await self.desk.close()
        await self.hub.bus.close()
        await self.engine.dispose()


@pytest.fixture()
async def url(tmp_path: Path) -> AsyncIterator[str]:
    async with database_url("postgresql", tmp_path) as found:
        store = await open_store(found)
        await store.close()
        yield found


@pytest.fixture()
async def gateways(url: str) -> AsyncIterator[tuple[Gateway, Gateway]]:
    group = LocalGroup()
    a, b = Gateway(url, group), Gateway(url, group)
    await a.start()
    await b.start()
    yield a, b
    await a.stop()
    await b.stop()


async def conversation(url: str, sender: str) -> int:
    store = await open_store(url)
    try:
        return await store.open_conversation("webchat", sender)
    finally:
        await store.close()


async def make_agent(desk: HandoffDesk, name: str, team: str = "orientacion") -> AgentInfo:
    created = await desk.agents.create(name, PASSWORD, Role.AGENT, name.title(), team)
    desk.agents_changed()
    return created


async def test_an_escalation_elsewhere_is_seen_and_owned_here(
    url: str, gateways: tuple[Gateway, Gateway]
) -> None:
    a, b = gateways
    ana = await make_agent(a.desk, "ana")
    other = await make_agent(a.desk, "otro", "atencion")
    console, others_console = a.hub.subscribe(ana, "s1"), a.hub.subscribe(other, "s2")
    b.desk.agents_changed()
    chat = await conversation(url, "c1")
    assert ana.id in await b.desk.online_now()  # her console is open on A
    assert "puesto 1" in str((await b.desk.escalate(chat, "webchat", ASKED))[0]["text"])
    assert a.desk.owns(chat)  # known on A before the citizen was answered on B
    event = console.get_nowait()
    assert event["type"] == "handoff" and event["handoff"]["state"] == "pending"
    assert others_console.empty()  # another team's agent: may not see it

    handoff = (await a.desk.store.open_handoffs())[0]
    await a.desk.claim(handoff.id, ana)
    await a.desk.close_handoff(handoff.id, ana, next(iter(a.desk.rules.desk.resolutions)))
    await a.hub.bus.flush()
    assert not b.desk.owns(chat)


async def test_a_session_ended_elsewhere_closes_the_console_here(
    gateways: tuple[Gateway, Gateway],
) -> None:
    a, b = gateways
    ana = await make_agent(a.desk, "ana")
    here, elsewhere = a.hub.subscribe(ana, "s1"), a.hub.subscribe(ana, "s2")
    b.desk.sessions_ended(ana.id, "s1")  # logged out through B
    await b.hub.bus.flush()
    assert here.get_nowait() is SESSION_ENDED and a.hub.connected() == {ana.id}
    b.desk.sessions_ended(ana.id)  # deactivated through B
    await b.hub.bus.flush()
    assert elsewhere.get_nowait() is SESSION_ENDED
    assert a.hub.connected() == set() and ana.id not in await b.desk.online_now()


async def test_after_a_gap_the_owners_are_read_again(
    url: str, gateways: tuple[Gateway, Gateway]
) -> None:
    a, b = gateways
    await make_agent(a.desk, "ana")
    chat = await conversation(url, "c2")
    lonely = Gateway(url, LocalGroup())  # hears nothing from A and B
    await lonely.start()
    try:
        await b.desk.escalate(chat, "webchat", ASKED)
        assert b.desk.owns(chat) and not lonely.desk.owns(chat)
        await lonely.hub.bus.start()  # (re)connected: news may have been missed
        for _ in range(200):  # the owners are read again in the background
            if lonely.desk.owns(chat):
                break
            await asyncio.sleep(0.02)
        assert lonely.desk.owns(chat)
    finally:
        await lonely.stop()
