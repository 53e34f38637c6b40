"""The charts built from the figures: every day of the period has its row, totals and rates
are what the figures imply, the most asked topics come first, and codes get their labels."""

from __future__ import annotations

import datetime as dt

from bot.dashboard import charts
from bot.dashboard.filters import Filters
from bot.dashboard.queries import (
    ChannelDay,
    EventRegistrations,
    HandoffFact,
    SurveyDay,
    TicketStatus,
    UnsureDay,
)

D1, D2, D3 = dt.date(2026, 1, 1), dt.date(2026, 1, 2), dt.date(2026, 1, 3)
PERIOD = Filters(D1, D3)


def titles(topic: str) -> str:
    return {"igv": "¿Qué es el IGV?"}.get(topic, topic)


def test_conversations_have_a_row_per_day_and_a_column_per_channel() -> None:
    chart = charts.conversations(
        PERIOD,
        [ChannelDay(D1, "webchat", 3, 5, 4), ChannelDay(D1, "whatsapp", 1, 1, 1),
         ChannelDay(D3, "facebook_nuevo", 2, 2, 2)],
    )  # fmt: skip
    assert [c.key for c in chart.columns] == [
        "day", "webchat", "messenger", "whatsapp", "twilio", "facebook_nuevo", "total",
    ]  # fmt: skip
    assert chart.rows[0] == {
        "day": D1, "webchat": 3, "messenger": 0, "whatsapp": 1, "twilio": 0,
        "facebook_nuevo": 0, "total": 4,
    }  # fmt: skip
    assert chart.rows[1]["total"] == 0 and chart.rows[2]["facebook_nuevo"] == 2
    assert chart.plot == {"type": "columns", "x": "day", "series": chart.plot["series"]}
    one = charts.conversations(Filters(D1, D1, "whatsapp"), [ChannelDay(D1, "whatsapp", 1, 1, 1)])
    assert [c.key for c in one.columns] == ["day", "whatsapp", "total"]
    assert one.public()["rows"] == [{"day": "2026-01-01", "whatsapp": 1, "total": 1}]


def test_top_topics_keep_the_ten_most_asked_with_their_share() -> None:
    counts = [("igv", 50)] + [(f"tema_{n:02d}", 10 - n // 2) for n in range(12)]
    chart = charts.topics(counts, titles)
    assert len(chart.rows) == charts.TOP_TOPICS
    total = 50 + sum(10 - n // 2 for n in range(12))
    assert chart.rows[0] == {
        "topic": "igv", "title": "¿Qué es el IGV?", "questions": 50,
        "share": round(100 * 50 / total, 1),
    }  # fmt: skip
    assert chart.rows[1]["title"] == "tema_00"  # no article of that id: its code
    assert charts.topics([], titles).rows == []


def test_not_understood_rate_is_over_the_questions_the_assistant_handled() -> None:
    days = [ChannelDay(D1, "webchat", 2, 9, 8), ChannelDay(D1, "whatsapp", 1, 2, 2)]
    chart = charts.not_understood(PERIOD, days, [UnsureDay(D1, 1, 2), UnsureDay(D2, 1, 0)])
    assert chart.rows[0] == {
        "day": D1, "questions": 10, "clarified": 1, "not_understood": 2, "rate": 30.0,
    }  # fmt: skip
    assert chart.rows[1]["rate"] is None  # no question that day: no rate
    assert chart.rows[2] == {
        "day": D3, "questions": 0, "clarified": 0, "not_understood": 0, "rate": None,
    }  # fmt: skip


def test_handoffs_per_reason_with_the_median_and_p90_wait() -> None:
    facts = [HandoffFact(D1, "pedido", s) for s in (60.0, 120.0, 180.0, 240.0, 600.0)]
    facts += [HandoffFact(D1, "frustracion", None), HandoffFact(D2, "nuevo_motivo", 30.0)]
    chart = charts.handoffs(PERIOD, facts)
    first = chart.rows[0]
    assert (first["pedido"], first["frustracion"], first["handoffs"], first["attended"]) == (
        5, 1, 6, 5,
    )  # fmt: skip
    assert first["wait_median"] == 3.0  # 180 s
    assert first["wait_p90"] == 7.6  # 456 s, between 240 s and 600 s
    assert chart.rows[1]["nuevo_motivo"] == 1 and chart.rows[1]["wait_median"] == 0.5
    assert chart.rows[2]["wait_median"] is None
    labels = {c.key: c.label for c in chart.columns}
    assert labels["pedido"] == "Pidió una persona" and labels["nuevo_motivo"] == "nuevo_motivo"


def test_satisfaction_average_is_of_the_ratings_given() -> None:
    chart = charts.satisfaction(PERIOD, [SurveyDay(D2, 4, 3, (1, 0, 0, 0, 2))])
    assert chart.rows[1]["average"] == round((1 + 5 + 5) / 3, 2)
    assert (chart.rows[1]["asked"], chart.rows[1]["answered"], chart.rows[1]["rating_5"]) == (
        4, 3, 2,
    )  # fmt: skip
    assert chart.rows[0]["average"] is None


def test_comments_per_topic_and_sentiment_the_rest_summed() -> None:
    found: list[tuple[str | None, str | None, int]] = [
        ("igv", "negativo", 5), ("igv", "positivo", 1), (None, None, 2),
    ]  # fmt: skip
    found += [(f"tema_{n:02d}", "neutral", 1) for n in range(10)]
    chart = charts.comments(found, titles)
    assert chart.rows[0] == {
        "topic": "igv", "title": "¿Qué es el IGV?", "positivo": 1, "neutral": 0,
        "negativo": 5, "sin_clasificar": 0, "total": 6,
    }  # fmt: skip
    assert chart.rows[1]["title"] == "Sin tema" and chart.rows[1]["sin_clasificar"] == 2
    assert len(chart.rows) == charts.TOP_TOPICS + 1
    assert chart.rows[-1]["title"] == "Otros temas (2)" and chart.rows[-1]["neutral"] == 2


def test_tickets_show_every_status_with_on_time_and_overdue() -> None:
    chart = charts.tickets([TicketStatus("respondido", 5, 2), TicketStatus("archivado", 1, 0)])
    assert [(r["status"], r["on_time"], r["overdue"], r["tickets"]) for r in chart.rows] == [
        ("Recibida", 0, 0, 0),
        ("En proceso", 0, 0, 0),
        ("Respondida", 3, 2, 5),
        ("Cerrada", 0, 0, 0),
        ("archivado", 1, 0, 1),
    ]


def test_registrations_per_event_with_its_day_in_lima() -> None:
    starts = dt.datetime(2026, 2, 2, 3, tzinfo=dt.UTC)  # 1 February, 22:00 in Lima
    chart = charts.registrations(
        [EventRegistrations(1, "Charla", starts, 40, {"inscrito": 3, "cancelado": 1})]
    )
    assert chart.rows == [
        {"event": "Charla", "starts": dt.date(2026, 2, 1), "capacity": 40, "inscrito": 3,
         "en_espera": 0, "cancelado": 1, "total": 4},
    ]  # fmt: skip
