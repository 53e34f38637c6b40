"""A gateway database as a busy year leaves it, written fast: 1,000,000 messages in 100,000
conversations over the last 365 days (Lima), with the handoffs, review items, surveys, fanpage
comments, tickets and event registrations such traffic brings.

Rows go in with ``sqlite3``'s ``executemany`` in one transaction per table (not through the
gateway's services: a million messages through them would take hours), in the formats the
gateway itself writes (moments as SQLAlchemy stores them in SQLite: naive UTC text). The schema
is the migrations' (the dashboard's indexes included). Used by ``bench/dashboard.py`` and by the
dashboard's speed test.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.dashboard.filters import LIMA, lima_today
from bot.knowledge.articles import load_knowledge
from bot.ops.settings import ROOT
from bot.storage.database import create_engine, migrate

#: Channels and how much of the traffic each brings.
CHANNEL_WEIGHTS = {"webchat": 40, "messenger": 25, "whatsapp": 30, "twilio": 5}
REASONS = ("pedido", "tema", "frustracion", "no_entiende", "repite")
QUESTIONS = (
    "hola buenas tardes, como saco mi ruc si soy persona natural",
    "cuanto cuesta sacar el ruc",
    "que es la clave sol y como la obtengo",
    "cuando vence mi declaracion mensual, mi ruc termina en 7",
    "boleta o factura? vendo ropa por instagram",
    "me conviene el nuevo rus o el rer",
    "gracias!!",
    "quiero hablar con un asesor por favor",
)
ANSWER = (
    "Para inscribirte en el RUC como persona natural necesitas tu DNI. Puedes hacerlo en línea "
    "desde SUNAT Operaciones en Línea o en un centro de servicios. Fuente: sunat.gob.pe"
)
BUTTONS = json.dumps(
    {"buttons": [{"title": "Requisitos", "payload": "/ruc_requisitos"},
                 {"title": "Hablar con un asesor", "payload": "/pedir_humano"}]},
    ensure_ascii=False,
)  # fmt: skip
#: SQLAlchemy's text for a moment on SQLite (naive, UTC).
MOMENT = "%Y-%m-%d %H:%M:%S.%f"


@dataclass(frozen=True)
class Filled:
    conversations: int
    messages: int
    review_items: int
    handoffs: int
    surveys: int
    comments: int
    tickets: int
    registrations: int
    seconds: float
    first_day: dt.date
    last_day: dt.date


def _at(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime(MOMENT)


def _topics() -> tuple[list[str], list[float]]:
    """The knowledge base's article ids, the first ones asked far more often (Zipf)."""
    ids = sorted(a.id for a in load_knowledge(ROOT / "data" / "knowledge").articles)
    random.Random(3).shuffle(ids)
    return ids, [1 / (rank + 1) for rank in range(len(ids))]


def fill(
    path: Path,
    messages: int = 1_000_000,
    per_conversation: int = 10,
    days: int = 365,
    seed: int = 7,
    today: dt.date | None = None,
) -> Filled:
    """Migrate the SQLite database at ``path`` (a new file) and fill it; how long it took."""
    started = time.monotonic()
    url = f"sqlite+aiosqlite:///{path}"

    async def migrated() -> None:
        engine = create_engine(url)
        try:
            await migrate(engine)
        finally:
            await engine.dispose()

    asyncio.run(migrated())
    today = today or lima_today()
    first_day = today - dt.timedelta(days=days - 1)
    rows = _Rows(random.Random(seed), dt.datetime.combine(first_day, dt.time(), LIMA), days)
    conversations = messages // per_conversation
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=OFF")
        db.execute("PRAGMA cache_size=-200000")
        counts = rows.write(db, conversations, per_conversation)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    return Filled(
        conversations=conversations,
        seconds=time.monotonic() - started,
        first_day=first_day,
        last_day=today,
        **counts,
    )


class _Rows:
    def __init__(self, rnd: random.Random, start: dt.datetime, days: int) -> None:
        self.rnd = rnd
        self.start = start
        self.span = days * 86_400
        self.end = start + dt.timedelta(days=days - 1, hours=20)
        self.channels = list(CHANNEL_WEIGHTS)
        self.weights = list(CHANNEL_WEIGHTS.values())
        self.topics, self.topic_weights = _topics()

    def moment(self, span: int | None = None) -> dt.datetime:
        # Lima's days: more traffic in office hours (8:00–20:00) than at night.
        day = self.rnd.randrange((span or self.span) // 86_400)
        hour = self.rnd.choice((8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 23, 2))
        second = self.rnd.randrange(3600)
        return self.start + dt.timedelta(days=day, hours=hour, seconds=second)

    def write(self, db: sqlite3.Connection, conversations: int, per: int) -> dict[str, int]:
        rnd = self.rnd
        convs: list[tuple[Any, ...]] = []
        msgs: list[tuple[Any, ...]] = []
        for cid in range(1, conversations + 1):
            channel = rnd.choices(self.channels, self.weights)[0]
            first = self.moment()
            sessions = [(first, per)]
            later = first + dt.timedelta(days=rnd.randint(1, 20), minutes=rnd.randint(0, 600))
            if rnd.random() < 0.3 and later < self.end:  # came back a few days later
                sessions = [(first, per - 4), (later, 4)]
            last = first
            for begins, count in sessions:
                for k in range(count):
                    at = begins + dt.timedelta(seconds=40 * k + rnd.randint(0, 20))
                    last = at
                    msgs.append((cid, k % 2 == 0, at))
            convs.append((cid, channel, f"bench-{cid}", _at(first), _at(last)))
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO conversations (id, channel, sender_id, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?)",
            convs,
        )
        db.execute("COMMIT")
        msgs.sort(key=lambda m: m[2])  # ids in time order, as the gateway writes them
        reviews: list[tuple[Any, ...]] = []
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO messages (id, conversation_id, direction, text, payload, status, "
            "created_at, attempts, topic) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)",
            self._messages(msgs, reviews),
        )
        db.execute("COMMIT")
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO review_items (conversation_id, message_id, text, intents, offered, "
            "created_at, status, source) VALUES (?, ?, ?, '[]', ?, ?, 'open', ?)",
            reviews,
        )
        db.execute("COMMIT")
        channel_of = {c[0]: c[1] for c in convs}
        counts = {"messages": len(msgs), "review_items": len(reviews)}
        counts.update(self._people(db, conversations, channel_of))
        counts.update(self._community(db, conversations))
        return counts

    def _messages(
        self, msgs: list[tuple[int, bool, dt.datetime]], reviews: list[tuple[Any, ...]]
    ) -> Iterator[tuple[Any, ...]]:
        rnd = self.rnd
        for mid, (cid, inbound, at) in enumerate(msgs, 1):
            moment = _at(at)
            if not inbound:
                yield (mid, cid, "out", ANSWER, BUTTONS, "read", moment, None)
                continue
            status = rnd.choices(("answered", "to_agent", "failed"), (96, 3, 1))[0]
            topic = None
            if status == "answered" and rnd.random() < 0.75:
                topic = rnd.choices(self.topics, self.topic_weights)[0]
            elif status == "answered" and rnd.random() < 0.4:  # the assistant was unsure
                offered = rnd.choice(("[]", '["/igv", "/ruc_inscripcion"]'))
                reviews.append((cid, mid, "no se", offered, moment, "clarification"))
            text = rnd.choice(QUESTIONS)
            yield (mid, cid, "in", text, None, status, moment, topic)

    def _people(
        self, db: sqlite3.Connection, conversations: int, channel_of: dict[int, str]
    ) -> dict[str, int]:
        rnd = self.rnd
        handoffs, surveys = [], []
        for cid in rnd.sample(range(1, conversations + 1), conversations * 3 // 100):
            at = self.moment()
            claimed = (
                at + dt.timedelta(seconds=rnd.randint(20, 1500)) if rnd.random() < 0.85 else None
            )
            state = "closed" if claimed else "pending"
            handoffs.append((cid, state, rnd.choice(REASONS), "orientacion", _at(at),
                             _at(claimed) if claimed else None))  # fmt: skip
        for cid in rnd.sample(range(1, conversations + 1), conversations * 12 // 100):
            at = self.moment()
            rating = rnd.choices((None, 1, 2, 3, 4, 5), (40, 4, 4, 8, 20, 24))[0]
            answered = _at(at + dt.timedelta(minutes=2)) if rating else None
            surveys.append((cid, 1, channel_of[cid], "despedida", _at(at), rating, answered))
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO handoffs (conversation_id, state, reason, team, created_at, claimed_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            handoffs,
        )
        db.executemany(
            "INSERT INTO satisfaction_surveys (conversation_id, number, channel, trigger, "
            "asked_at, rating, answered_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            surveys,
        )
        db.execute("COMMIT")
        return {"handoffs": len(handoffs), "surveys": len(surveys)}

    def _community(self, db: sqlite3.Connection, conversations: int) -> dict[str, int]:
        rnd = self.rnd
        comments = []
        for n in range(5_000):
            at = _at(self.moment())
            topic = rnd.choices(self.topics, self.topic_weights)[0] if rnd.random() < 0.9 else None
            sentiment = rnd.choices(("positivo", "neutral", "negativo", None), (30, 40, 25, 5))[0]
            comments.append((f"bench-{n}", "post-1", "comentario", at, at, topic, sentiment, at))
        tickets = []
        for n in range(1, 2_001):
            opened = self.moment()
            due = opened + dt.timedelta(days=15)
            status = rnd.choices(("recibido", "en_proceso", "respondido", "cerrado"), (2, 2, 3, 3))[
                0
            ]
            answered = (
                opened + dt.timedelta(days=rnd.randint(1, 25))
                if status in ("respondido", "cerrado")
                else None
            )
            cid = rnd.randint(1, conversations)
            settled = _at(answered) if answered else None
            ticket = ("reclamo", status, "Un reclamo.", cid, rnd.choice(self.channels))
            tickets.append((f"SR-B-{n:06d}", *ticket, _at(opened), _at(due), _at(opened), settled))
        events, registrations = [], []
        for n in range(1, 25):
            starts = self.start + dt.timedelta(days=15 * n, hours=15)
            title = f"Charla tributaria n.º {n}"
            created = _at(starts - dt.timedelta(days=30))
            events.append(
                (n, title, "charla", _at(starts), 150, _at(starts), "Una charla.", created)
            )
            for cid in rnd.sample(range(1, conversations + 1), 125):
                signed = starts - dt.timedelta(days=rnd.randint(1, 29), hours=rnd.randint(0, 12))
                status = rnd.choices(("inscrito", "en_espera", "cancelado"), (80, 10, 10))[0]
                registrations.append((n, cid, status, "Ana", "ana@example.com", _at(signed)))
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO page_comments (platform_id, post_id, text, created_at, received_at, "
            "topic, sentiment, status, flagged, analysed_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 'nuevo', 0, ?)",
            comments,
        )
        db.executemany(
            "INSERT INTO tickets (code, kind, status, description, conversation_id, channel, "
            "created_at, due_at, updated_at, answered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            tickets,
        )
        db.executemany(
            "INSERT INTO community_events (id, title, kind, starts_at, capacity, "
            "registration_deadline, description, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            events,
        )
        db.executemany(
            "INSERT INTO event_registrations (event_id, conversation_id, status, name, contact, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?)",
            registrations,
        )
        db.execute("COMMIT")
        return {
            "comments": len(comments),
            "tickets": len(tickets),
            "registrations": len(registrations),
        }
