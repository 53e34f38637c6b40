"""The analytics tables (migration 0013), on the gateway database's declarative base: daily
counts per Lima day, and the keys of the events already counted.

They live with their room rather than in :mod:`bot.storage.tables`: nothing but analytics reads
or writes them. Their schema is created and changed only by the migrations.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.tables import Base


class SeenEvent(Base):
    """An event already counted (its key, :func:`bot.analytics.events.read_event`), kept
    ``ANALYTICS_SEEN_DAYS`` so that a redelivery counts nothing."""

    __tablename__ = "analytics_seen_events"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


class DailyIntent(Base):
    """Citizens' messages of a day under one intent; ``low_confidence`` of them were below the
    NLU's fallback threshold."""

    __tablename__ = "analytics_daily_intents"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    intent: Mapped[str] = mapped_column(String(100), primary_key=True)
    messages: Mapped[int] = mapped_column(Integer)
    low_confidence: Mapped[int] = mapped_column(Integer)


class DailyAction(Base):
    """Times the assistant ran one action on a day."""

    __tablename__ = "analytics_daily_actions"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    action: Mapped[str] = mapped_column(String(100), primary_key=True)
    runs: Mapped[int] = mapped_column(Integer)


class DailySessions(Base):
    """Conversation sessions started on a day."""

    __tablename__ = "analytics_daily_sessions"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    sessions: Mapped[int] = mapped_column(Integer)
