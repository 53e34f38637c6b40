"""Each figure of the dashboard on both databases, from rows written by the test: the figures
are what the rows imply, a day is a day in Lima (its boundary is 05:00 UTC), and the period and
channel filters keep out what they should."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.dashboard import queries
from bot.dashboard.filters import Filters
from bot.dashboard.queries import ChannelDay, HandoffFact, SurveyDay, TicketStatus, UnsureDay
from tests.bot.dashboard.conftest import Seed, lima

JAN = dt.date(2026, 1, 10), dt.date(2026, 1, 11)
D10, D11 = JAN


async def read(engine: AsyncEngine, query: Any, f: Filters, *args: Any) -> Any:
    async with engine.connect() as db:
        return await query(db, f, *args)


async def test_conversations_and_questions_per_channel_and_lima_day(
    engine: AsyncEngine, seed: Seed
) -> None:
    web, web2, whatsapp = (
        await seed.conversation("webchat"),
        await seed.conversation("webchat"),
        await seed.conversation("whatsapp"),
    )
    # 23:59 in Lima is 04:59 UTC the next day: still the 10th. 00:00 in Lima is the 11th.
    await seed.message(web, lima(2026, 1, 10, 23, 59))
    await seed.message(web, lima(2026, 1, 10, 9), status="failed")
    await seed.message(web, lima(2026, 1, 10, 9, 1), direction="out", status="sent")
    await seed.message(web, lima(2026, 1, 11, 0, 0))
    await seed.message(web2, lima(2026, 1, 10, 8), status="to_agent")  # to people
    await seed.message(whatsapp, lima(2026, 1, 11, 4, 59))
    await seed.message(whatsapp, lima(2026, 1, 9, 23, 59))  # before the period
    await seed.message(whatsapp, lima(2026, 1, 12, 0, 0))  # after it

    days = await read(engine, queries.channel_days, Filters(D10, D11))
    assert sorted(days, key=lambda d: (d.day, d.channel)) == [
        ChannelDay(D10, "webchat", conversations=2, messages=3, questions=2),
        ChannelDay(D11, "webchat", conversations=1, messages=1, questions=1),
        ChannelDay(D11, "whatsapp", conversations=1, messages=1, questions=1),
    ]
    only_whatsapp = await read(engine, queries.channel_days, Filters(D10, D11, "whatsapp"))
    assert only_whatsapp == [ChannelDay(D11, "whatsapp", 1, 1, 1)]
    assert await read(engine, queries.channel_days, Filters(D10, D10, "messenger")) == []


async def test_top_topics_count_the_questions_answered_with_each_article(
    engine: AsyncEngine, seed: Seed
) -> None:
    web, messenger = await seed.conversation("webchat"), await seed.conversation("messenger")
    for _ in range(3):
        await seed.message(web, lima(2026, 1, 10), topic="ruc_inscripcion")
    await seed.message(messenger, lima(2026, 1, 11), topic="ruc_inscripcion")
    await seed.message(messenger, lima(2026, 1, 11, 0, 0), topic="igv")
    await seed.message(messenger, lima(2026, 1, 11, 3), topic="clave_sol")
    await seed.message(web, lima(2026, 1, 11))  # answered without an article
    await seed.message(web, lima(2026, 1, 9, 23, 59), topic="igv")  # the day before

    found = await read(engine, queries.topics, Filters(D10, D11))
    assert found == [("ruc_inscripcion", 4), ("clave_sol", 1), ("igv", 1)]
    found = await read(engine, queries.topics, Filters(D11, D11, "messenger"))
    assert found == [("clave_sol", 1), ("igv", 1), ("ruc_inscripcion", 1)]


async def test_questions_not_understood_are_clarifications_that_got_no_article(
    engine: AsyncEngine, seed: Seed
) -> None:
    web, whatsapp = await seed.conversation("webchat"), await seed.conversation("whatsapp")
    offered = await seed.message(web, lima(2026, 1, 10))
    await seed.review(web, offered, lima(2026, 1, 10), ["/igv", "/ruc_inscripcion"])
    lost = await seed.message(web, lima(2026, 1, 10, 23, 59))
    await seed.review(web, lost, lima(2026, 1, 10, 23, 59), [])
    searched = await seed.message(web, lima(2026, 1, 10), topic="igv")  # the search answered
    await seed.review(web, searched, lima(2026, 1, 10), ["/igv"])
    thumbs_down = await seed.message(web, lima(2026, 1, 10))
    await seed.review(web, thumbs_down, lima(2026, 1, 10), [], source="feedback")
    other = await seed.message(whatsapp, lima(2026, 1, 11, 0, 0))
    await seed.review(whatsapp, other, lima(2026, 1, 11, 0, 0), [])

    unsure = await read(engine, queries.unsure_days, Filters(D10, D11))
    assert sorted(unsure, key=lambda u: u.day) == [
        UnsureDay(D10, clarified=1, not_understood=1),
        UnsureDay(D11, clarified=0, not_understood=1),
    ]
    assert await read(engine, queries.unsure_days, Filters(D10, D11, "whatsapp")) == [
        UnsureDay(D11, 0, 1)
    ]


async def test_handoffs_with_their_reason_day_and_wait(engine: AsyncEngine, seed: Seed) -> None:
    web, messenger = await seed.conversation("webchat"), await seed.conversation("messenger")
    await seed.handoff(web, lima(2026, 1, 10, 23, 59), "pedido", dt.timedelta(minutes=3))
    await seed.handoff(messenger, lima(2026, 1, 11, 0, 0), "frustracion")  # never claimed
    await seed.handoff(web, lima(2026, 1, 12, 0, 0), "tema", dt.timedelta(minutes=1))

    facts = await read(engine, queries.handoffs, Filters(D10, D11))
    assert sorted(facts, key=lambda h: h.day) == [
        HandoffFact(D10, "pedido", 180.0),
        HandoffFact(D11, "frustracion", None),
    ]
    assert await read(engine, queries.handoffs, Filters(D10, D11, "webchat")) == [
        HandoffFact(D10, "pedido", 180.0)
    ]


async def test_satisfaction_per_day_asked(engine: AsyncEngine, seed: Seed) -> None:
    web, whatsapp = await seed.conversation("webchat"), await seed.conversation("whatsapp")
    await seed.survey(web, "webchat", lima(2026, 1, 10, 1), 5)
    await seed.survey(web, "webchat", lima(2026, 1, 10, 23, 59), 2)
    await seed.survey(whatsapp, "whatsapp", lima(2026, 1, 10, 8), None)  # not answered
    await seed.survey(whatsapp, "whatsapp", lima(2026, 1, 11, 0, 0), 5)
    await seed.survey(whatsapp, "whatsapp", lima(2026, 1, 12, 0, 0), 1)  # after the period

    days = await read(engine, queries.survey_days, Filters(D10, D11))
    assert sorted(days, key=lambda s: s.day) == [
        SurveyDay(D10, asked=3, answered=2, ratings=(0, 1, 0, 0, 1)),
        SurveyDay(D11, asked=1, answered=1, ratings=(0, 0, 0, 0, 1)),
    ]
    assert await read(engine, queries.survey_days, Filters(D10, D11, "whatsapp")) == [
        SurveyDay(D10, 1, 0, (0, 0, 0, 0, 0)),
        SurveyDay(D11, 1, 1, (0, 0, 0, 0, 1)),
    ]


async def test_comment_sentiment_per_topic_ignores_the_channel(
    engine: AsyncEngine, seed: Seed
) -> None:
    await seed.comment(lima(2026, 1, 10), "igv", "negativo")
    await seed.comment(lima(2026, 1, 10), "igv", "negativo")
    await seed.comment(lima(2026, 1, 11, 0, 0), "igv", "positivo")
    await seed.comment(lima(2026, 1, 11), None, None)  # not analysed yet
    await seed.comment(lima(2026, 1, 9, 23, 59), "igv", "neutral")  # before the period

    for f in (Filters(D10, D11), Filters(D10, D11, "whatsapp")):
        found = await read(engine, queries.comment_sentiments, f)
        assert sorted(found, key=str) == sorted(
            [("igv", "negativo", 2), ("igv", "positivo", 1), (None, None, 1)], key=str
        )


async def test_tickets_per_status_and_missed_deadlines(engine: AsyncEngine, seed: Seed) -> None:
    web, whatsapp = await seed.conversation("webchat"), await seed.conversation("whatsapp")
    opened, now = lima(2026, 1, 10), lima(2026, 1, 20)
    due, passed = lima(2026, 1, 15), lima(2026, 1, 19)
    await seed.ticket(web, "webchat", opened, "recibido", due=lima(2026, 1, 25))  # on time
    await seed.ticket(web, "webchat", opened, "recibido", due=passed)  # open, past its due
    await seed.ticket(web, "webchat", opened, "en_proceso", due=passed)
    await seed.ticket(web, "webchat", opened, "respondido", due=due, answered=lima(2026, 1, 14))
    await seed.ticket(web, "webchat", opened, "respondido", due=due, answered=lima(2026, 1, 16))
    await seed.ticket(whatsapp, "whatsapp", opened, "cerrado", due=due, closed=lima(2026, 1, 17))
    await seed.ticket(web, "webchat", lima(2026, 1, 9, 23, 59), "recibido", due=passed)

    statuses = await read(engine, queries.ticket_statuses, Filters(D10, D11), now)
    assert sorted(statuses, key=lambda t: t.status) == [
        TicketStatus("cerrado", tickets=1, overdue=1),
        TicketStatus("en_proceso", tickets=1, overdue=1),
        TicketStatus("recibido", tickets=2, overdue=1),
        TicketStatus("respondido", tickets=2, overdue=1),
    ]
    assert await read(engine, queries.ticket_statuses, Filters(D10, D11, "whatsapp"), now) == [
        TicketStatus("cerrado", 1, 1)
    ]


async def test_registrations_per_event_made_in_the_period(engine: AsyncEngine, seed: Seed) -> None:
    talk = await seed.event("Charla: tu primer RUC", lima(2026, 2, 1, 10))
    fair = await seed.event("Feria tributaria", lima(2026, 1, 25, 9))
    people = [await seed.conversation(ch) for ch in ("webchat", "whatsapp", "webchat", "webchat")]
    await seed.registration(talk, people[0], lima(2026, 1, 10), "inscrito")
    await seed.registration(talk, people[1], lima(2026, 1, 11), "inscrito")
    await seed.registration(talk, people[2], lima(2026, 1, 11), "en_espera")
    await seed.registration(fair, people[0], lima(2026, 1, 10), "cancelado")
    await seed.registration(fair, people[3], lima(2026, 1, 12, 0, 0), "inscrito")  # later

    events = await read(engine, queries.registrations, Filters(D10, D11))
    assert [(e.title, e.capacity, e.by_status) for e in events] == [
        ("Feria tributaria", 2, {"cancelado": 1}),  # the sooner event first
        ("Charla: tu primer RUC", 2, {"inscrito": 2, "en_espera": 1}),
    ]
    assert events[1].starts_at == lima(2026, 2, 1, 10)
    events = await read(engine, queries.registrations, Filters(D10, D11, "whatsapp"))
    assert [(e.title, e.by_status) for e in events] == [("Charla: tu primer RUC", {"inscrito": 1})]


async def test_figures_over_messages_are_read_through_their_indexes(
    engine: AsyncEngine, seed: Seed
) -> None:
    """The index is on an expression: a query spelled otherwise would scan the table."""
    web = await seed.conversation("webchat")
    await seed.message(web, lima(2026, 1, 10), topic="igv")
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        for query in (queries.channel_days, queries.topics, queries.unsure_days):
            for f in (Filters(D10, D11), Filters(D10, D11, "webchat")):
                statements.clear()
                await read(engine, query, f)
                [(statement, parameters)] = statements
                async with engine.connect() as db:
                    if engine.dialect.name == "sqlite":
                        explain = "EXPLAIN QUERY PLAN "
                    else:
                        await db.execute(text("SET enable_seqscan = off"))
                        explain = "EXPLAIN "
                    plan = (await db.exec_driver_sql(explain + statement, parameters)).all()
                steps = " ".join(str(step) for step in plan)
                assert "ix_messages_inbound_day" in steps, plan
                assert "ix_messages_conversation_id" not in steps, plan
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", capture)
