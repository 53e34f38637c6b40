"""The one form open per conversation, in the database (``bot/conversation/flows.py``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.conversation.flows import FLOW_IDLE, FlowStore
from bot.conversation.store import ConversationStore


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 12, 2, 15, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


async def test_a_form_is_kept_moved_on_replaced_and_ended(
    store: ConversationStore, inspect: AsyncEngine
) -> None:
    ana = await store.open_conversation("webchat", "ana")
    luis = await store.open_conversation("whatsapp", "51999")
    flows = FlowStore(inspect)
    assert await flows.get(ana) is None
    await flows.put(ana, "ticket", "tipo", {})
    await flows.put(ana, "ticket", "detalle", {"tipo": "queja"})
    flow = await flows.get(ana)
    assert flow is not None
    assert (flow.service, flow.step, flow.data) == ("ticket", "detalle", {"tipo": "queja"})
    assert await flows.get(ana, "ticket") == flow
    assert await flows.get(ana, "survey") is None
    assert await flows.get(luis) is None
    # Another service's form replaces it: one form at a time per conversation.
    await flows.put(ana, "survey", "nota", {})
    replaced = await flows.get(ana)
    assert replaced is not None and (replaced.service, replaced.data) == ("survey", {})
    await flows.end(ana)
    assert await flows.get(ana) is None
    await flows.end(ana)  # ending twice is harmless


async def test_a_form_left_alone_too_long_is_forgotten(
    store: ConversationStore, inspect: AsyncEngine
) -> None:
    ana = await store.open_conversation("webchat", "ana")
    clock = Clock()
    flows = FlowStore(inspect, clock=clock)
    await flows.put(ana, "event", "nombre", {"evento": 3})
    clock.now += FLOW_IDLE
    assert await flows.get(ana) is not None
    clock.now += dt.timedelta(seconds=1)
    assert await flows.get(ana) is None
    # A new form starts afresh over the stale one.
    await flows.put(ana, "event", "nombre", {"evento": 4})
    flow = await flows.get(ana)
    assert flow is not None and flow.data == {"evento": 4}
