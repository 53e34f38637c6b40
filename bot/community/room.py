"""The community events' objects, built together for the app factory (``bot/web/app.py``):
the stores, the notices to citizens, the service in conversations and the reminders' job."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.community.notices import EventNotices
from bot.community.proposals import Parse, ProposalStore, TopicKeys
from bot.community.reminders import EventReminders
from bot.community.service import CommunityEvents
from bot.community.store import EventStore
from bot.conversation.flows import FlowStore
from bot.ops.settings import Settings
from bot.web.rate_limits import RateLimits


@dataclass(frozen=True)
class CommunityRoom:
    events: EventStore
    proposals: ProposalStore
    #: Connected to the gateway's outreach once it is built (``notices.connect``).
    notices: EventNotices
    service: CommunityEvents
    reminders: EventReminders


def community_room(
    engine: AsyncEngine, flows: FlowStore, parse: Parse, limits: RateLimits, settings: Settings
) -> CommunityRoom:
    events, proposals, notices = EventStore(engine), ProposalStore(engine), EventNotices()
    service = CommunityEvents(
        events,
        flows,
        proposals,
        TopicKeys(parse, settings.event_topic_min_confidence),
        notices,
        (limits, settings.limit_event_proposals_per_conversation),
    )
    reminders = EventReminders(
        events,
        notices,
        settings.event_reminder_every_seconds,
        dt.timedelta(hours=settings.event_reminder_hours_before),
    )
    return CommunityRoom(events, proposals, notices, service, reminders)
