"""A handoff as the console shows it: in the queue, in a chat's header, in live events."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.handoff.store import Handoff
from bot.storage.time import utcnow


def summary(handoff: Handoff, now: dt.datetime | None = None) -> dict[str, Any]:
    """A handoff as the console's queue shows it."""
    now = now or utcnow()
    return {
        "id": handoff.id,
        "state": handoff.state.value,
        "channel": handoff.channel,
        "reason": handoff.reason,
        "team": handoff.team,
        "intent": handoff.intent,
        "confidence": handoff.confidence,
        "agent_id": handoff.agent_id,
        "agent": handoff.agent_name,
        "created_at": handoff.created_at.isoformat(),
        "waiting_seconds": round((now - handoff.created_at).total_seconds()),
        "claimed_at": handoff.claimed_at.isoformat() if handoff.claimed_at else None,
        "closed_at": handoff.closed_at.isoformat() if handoff.closed_at else None,
        "resolution": handoff.resolution,
        "last_message": handoff.last_message,
        "last_message_at": handoff.last_message_at.isoformat() if handoff.last_message_at else None,
    }
