"""The dashboard's charts as tables: each chart is its rows and labelled columns (the same
rows the console draws, lists under the chart, and gives as CSV), and how to plot them.

A plot is ``columns`` (one column per day, the ``series`` stacked, and optionally a ``line``
on its own scale) or ``bars`` (one horizontal bar per row, labelled by the column ``label``,
the ``series`` stacked). Column kinds: ``day``, ``text``, ``count``, ``percent``, ``minutes``,
``rating``.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.dashboard.filters import CHANNELS, LIMA, Filters
from bot.dashboard.queries import (
    ChannelDay,
    EventRegistrations,
    HandoffFact,
    SurveyDay,
    TicketStatus,
    UnsureDay,
)

#: Topics shown (the most asked), and fanpage topics (the rest are summed as "Otros temas").
TOP_TOPICS = 10
#: A label's text for a code, the code itself when unknown.
Title = Callable[[str], str]

CHANNEL_LABELS = {
    "webchat": "Web",
    "messenger": "Messenger",
    "whatsapp": "WhatsApp",
    "twilio": "WhatsApp (Twilio)",
}
REASON_LABELS = {
    "pedido": "Pidió una persona",
    "tema": "Tema derivado",
    "frustracion": "Molestia",
    "no_entiende": "No se le entendió",
    "repite": "Repite la pregunta",
}
SENTIMENT_LABELS = {"positivo": "Positivo", "neutral": "Neutral", "negativo": "Negativo"}
TICKET_LABELS = {
    "recibido": "Recibida",
    "en_proceso": "En proceso",
    "respondido": "Respondida",
    "cerrado": "Cerrada",
}
PLACE_LABELS = {
    "inscrito": "Inscritos",
    "en_espera": "En lista de espera",
    "cancelado": "Cancelados",
}
#: Comments without a topic or a sentiment yet (the engine or the model was not available).
NO_TOPIC, NO_SENTIMENT = "sin_tema", "sin_clasificar"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str


@dataclass(frozen=True)
class Chart:
    name: str
    title: str
    #: What the figures count, in words.
    note: str
    plot: dict[str, Any]
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "note": self.note,
            "plot": self.plot,
            "columns": [{"key": c.key, "label": c.label, "kind": c.kind} for c in self.columns],
            "rows": [{k: _json(v) for k, v in row.items()} for row in self.rows],
        }


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _ordered(known: Iterable[str], found: Iterable[str]) -> list[str]:
    """The known codes in their order, then any other code found (sorted)."""
    known = list(known)
    return known + sorted(set(found) - set(known))


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _minutes(seconds: Sequence[float], quantile: float) -> float | None:
    """The quantile (0.5: the median, 0.9) of waits in seconds, in minutes."""
    if not seconds:
        return None
    if len(seconds) == 1:
        return round(seconds[0] / 60, 1)
    cuts = statistics.quantiles(seconds, n=10, method="inclusive")
    return round(cuts[round(quantile * 10) - 1] / 60, 1)


# --- the charts ---------------------------------------------------------------------------------


def conversations(f: Filters, days: list[ChannelDay]) -> Chart:
    channels = [f.channel] if f.channel else _ordered(CHANNELS, (d.channel for d in days))
    counts = {(d.day, d.channel): d.conversations for d in days}
    rows = []
    for day in f.days():
        row: dict[str, Any] = {"day": day}
        row.update({ch: counts.get((day, ch), 0) for ch in channels})
        row["total"] = sum(row[ch] for ch in channels)
        rows.append(row)
    columns = [Column("day", "Día", "day")]
    columns += [Column(ch, CHANNEL_LABELS.get(ch, ch), "count") for ch in channels]
    columns.append(Column("total", "Total", "count"))
    return Chart(
        "conversations",
        "Conversaciones por canal y día",
        "Conversaciones en las que el ciudadano escribió ese día (día en hora de Lima).",
        {"type": "columns", "x": "day", "series": channels},
        columns,
        rows,
    )


def topics(counts: list[tuple[str, int]], title: Title) -> Chart:
    answered = sum(n for _, n in counts)
    rows = [
        {"topic": topic, "title": title(topic), "questions": n, "share": _share(n, answered)}
        for topic, n in counts[:TOP_TOPICS]
    ]
    return Chart(
        "topics",
        "Temas más consultados",
        f"Los {TOP_TOPICS} artículos con que el asistente respondió más preguntas en el periodo "
        f"({answered:,} preguntas respondidas con un artículo).",
        {"type": "bars", "label": "title", "series": ["questions"]},
        [
            Column("topic", "Artículo", "text"),
            Column("title", "Tema", "text"),
            Column("questions", "Preguntas", "count"),
            Column("share", "% de las respondidas con un artículo", "percent"),
        ],
        rows,
    )


def not_understood(f: Filters, days: list[ChannelDay], unsure: list[UnsureDay]) -> Chart:
    questions: Counter[dt.date] = Counter()
    for d in days:
        questions[d.day] += d.questions
    by_day = {u.day: u for u in unsure}
    rows = []
    for day in f.days():
        u = by_day.get(day, UnsureDay(day, 0, 0))
        asked = questions[day]
        rows.append(
            {
                "day": day,
                "questions": asked,
                "clarified": u.clarified,
                "not_understood": u.not_understood,
                "rate": _share(u.clarified + u.not_understood, asked),
            }
        )
    return Chart(
        "not_understood",
        "Preguntas no entendidas",
        "Preguntas que el asistente no respondió con un artículo: ofreció opciones («¿Quisiste "
        "decir…?») o dijo que no entendió; el porcentaje es sobre las preguntas que atendió.",
        {"type": "columns", "x": "day", "series": ["clarified", "not_understood"], "line": "rate"},
        [
            Column("day", "Día", "day"),
            Column("questions", "Preguntas atendidas por el asistente", "count"),
            Column("clarified", "Con opciones («¿Quisiste decir…?»)", "count"),
            Column("not_understood", "No entendidas", "count"),
            Column("rate", "% no entendidas", "percent"),
        ],
        rows,
    )


def handoffs(f: Filters, facts: list[HandoffFact]) -> Chart:
    reasons = _ordered(REASON_LABELS, (h.reason for h in facts))
    by_day: dict[dt.date, list[HandoffFact]] = defaultdict(list)
    for h in facts:
        by_day[h.day].append(h)
    rows = []
    for day in f.days():
        today = by_day.get(day, [])
        waits = sorted(h.wait_seconds for h in today if h.wait_seconds is not None)
        row: dict[str, Any] = {"day": day}
        row.update({r: sum(1 for h in today if h.reason == r) for r in reasons})
        row.update(
            {
                "handoffs": len(today),
                "attended": len(waits),
                "wait_median": _minutes(waits, 0.5),
                "wait_p90": _minutes(waits, 0.9),
            }
        )
        rows.append(row)
    columns = [Column("day", "Día", "day")]
    columns += [Column(r, REASON_LABELS.get(r, r), "count") for r in reasons]
    columns += [
        Column("handoffs", "Derivaciones", "count"),
        Column("attended", "Atendidas por un asesor", "count"),
        Column("wait_median", "Espera mediana (min)", "minutes"),
        Column("wait_p90", "Espera p90 (min)", "minutes"),
    ]
    return Chart(
        "handoffs",
        "Derivaciones a asesores y tiempos de espera",
        "Pedidos de atención por una persona, por motivo; la espera va del pedido hasta que un "
        "asesor toma la conversación (solo las atendidas).",
        {"type": "columns", "x": "day", "series": reasons, "line": "wait_median"},
        columns,
        rows,
    )


def satisfaction(f: Filters, surveys: list[SurveyDay]) -> Chart:
    by_day = {s.day: s for s in surveys}
    rows = []
    for day in f.days():
        s = by_day.get(day, SurveyDay(day, 0, 0, (0, 0, 0, 0, 0)))
        total = sum(s.ratings)
        average = sum(n * (i + 1) for i, n in enumerate(s.ratings)) / total if total else None
        row: dict[str, Any] = {
            "day": day,
            "asked": s.asked,
            "answered": s.answered,
            "average": round(average, 2) if average is not None else None,
        }
        row.update({f"rating_{i + 1}": n for i, n in enumerate(s.ratings)})
        rows.append(row)
    return Chart(
        "satisfaction",
        "Satisfacción en el tiempo",
        "Encuestas de satisfacción enviadas al final de las conversaciones, respuestas y nota "
        "promedio del día (1 = muy mala, 5 = excelente).",
        {"type": "columns", "x": "day", "series": ["answered"], "line": "average", "line_max": 5},
        [
            Column("day", "Día", "day"),
            Column("asked", "Encuestas enviadas", "count"),
            Column("answered", "Respuestas", "count"),
            Column("average", "Nota promedio (1 a 5)", "rating"),
            *(Column(f"rating_{n}", f"Nota {n}", "count") for n in range(1, 6)),
        ],
        rows,
    )


def comments(found: list[tuple[str | None, str | None, int]], title: Title) -> Chart:
    sentiments = _ordered(SENTIMENT_LABELS, (s or NO_SENTIMENT for _, s, _ in found))
    by_topic: dict[str, Counter[str]] = defaultdict(Counter)
    for topic, sentiment, n in found:
        by_topic[topic or NO_TOPIC][sentiment or NO_SENTIMENT] += n
    ranked = sorted(by_topic.items(), key=lambda item: (-item[1].total(), item[0]))
    shown, rest = ranked[:TOP_TOPICS], ranked[TOP_TOPICS:]
    rows = []
    for topic, counts in shown:
        name = "Sin tema" if topic == NO_TOPIC else title(topic)
        rows.append(_sentiment_row(topic, name, counts, sentiments))
    if rest:
        others: Counter[str] = sum((counts for _, counts in rest), Counter())
        rows.append(_sentiment_row("otros", f"Otros temas ({len(rest)})", others, sentiments))
    columns = [Column("topic", "Tema (código)", "text"), Column("title", "Tema", "text")]
    columns += [
        Column(s, SENTIMENT_LABELS.get(s, "Sin clasificar" if s == NO_SENTIMENT else s), "count")
        for s in sentiments
    ]
    columns.append(Column("total", "Comentarios", "count"))
    return Chart(
        "comments",
        "Sentimiento de los comentarios por tema",
        "Comentarios de la página escritos en el periodo, por tema y sentimiento (los "
        "comentarios no pertenecen a un canal de conversación: el filtro de canal no se aplica).",
        {"type": "bars", "label": "title", "series": sentiments},
        columns,
        rows,
    )


def _sentiment_row(
    topic: str, name: str, counts: Counter[str], sentiments: list[str]
) -> dict[str, Any]:
    row: dict[str, Any] = {"topic": topic, "title": name}
    row.update({s: counts.get(s, 0) for s in sentiments})
    row["total"] = counts.total()
    return row


def tickets(statuses: list[TicketStatus]) -> Chart:
    by_status = {t.status: t for t in statuses}
    rows = []
    for status in _ordered(TICKET_LABELS, by_status):
        t = by_status.get(status, TicketStatus(status, 0, 0))
        rows.append(
            {
                "status": TICKET_LABELS.get(status, status),
                "on_time": t.tickets - t.overdue,
                "overdue": t.overdue,
                "tickets": t.tickets,
            }
        )
    return Chart(
        "tickets",
        "Solicitudes por estado y plazos vencidos",
        "Reclamos, quejas, sugerencias y pedidos de información registrados en el periodo, por su "
        "estado actual; plazo vencido: respondidos después del plazo, o sin respuesta y con el "
        "plazo ya cumplido.",
        {"type": "bars", "label": "status", "series": ["on_time", "overdue"]},
        [
            Column("status", "Estado", "text"),
            Column("on_time", "Dentro del plazo", "count"),
            Column("overdue", "Plazo vencido", "count"),
            Column("tickets", "Total", "count"),
        ],
        rows,
    )


def registrations(events: list[EventRegistrations]) -> Chart:
    places = _ordered(PLACE_LABELS, (s for e in events for s in e.by_status))
    rows = []
    for e in events:
        row: dict[str, Any] = {
            "event": e.title,
            "starts": e.starts_at.astimezone(LIMA).date(),
            "capacity": e.capacity,
        }
        row.update({p: e.by_status.get(p, 0) for p in places})
        row["total"] = sum(e.by_status.values())
        rows.append(row)
    columns = [
        Column("event", "Evento", "text"),
        Column("starts", "Fecha del evento", "day"),
        Column("capacity", "Cupos", "count"),
    ]
    columns += [Column(p, PLACE_LABELS.get(p, p), "count") for p in places]
    columns.append(Column("total", "Inscripciones", "count"))
    return Chart(
        "registrations",
        "Inscripciones a eventos",
        "Inscripciones hechas en el periodo, por evento y por su estado actual.",
        {"type": "bars", "label": "event", "series": places},
        columns,
        rows,
    )
