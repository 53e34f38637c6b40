"""The dashboard's API (``/api/dashboard``): every chart's data for a period and a channel, and
each chart's data as CSV. Supervisors and administrators; agents get 403.

Filters, in the query string: ``from`` and ``to`` (days in Lima, ``YYYY-MM-DD``, both included;
by default the last ``DASHBOARD_DEFAULT_DAYS`` days up to today; at most
``DASHBOARD_MAX_DAYS`` days) and ``channel`` (``webchat``, ``messenger``, ``whatsapp``,
``twilio``; by default all). A bad filter is a 422 with the gateway's JSON error.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from bot.accounts.agents import Role
from bot.dashboard.board import CHARTS, Dashboard
from bot.dashboard.export import chart_csv, file_name
from bot.dashboard.filters import FilterError, Filters, choose, lima_today
from bot.web.deps import AppSettings, ConsoleError, Current, from_state, require

#: The dashboard (``bot/dashboard/board.py``).
Board = Annotated[Dashboard, Depends(from_state("dashboard"))]
Channel = Literal["webchat", "messenger", "whatsapp", "twilio"]
#: ``from`` and ``to`` are the names in the query string (``from`` is a Python keyword).
First = Annotated[dt.date | None, Query(alias="from", description="First day (Lima), included")]
Last = Annotated[dt.date | None, Query(alias="to", description="Last day (Lima), included")]
ChannelFilter = Annotated[Channel | None, Query(description="One channel; all when absent")]

router = APIRouter(tags=["dashboard"])


def _filters(
    settings: AppSettings, first: First = None, last: Last = None, channel: ChannelFilter = None
) -> Filters:
    try:
        return choose(
            first,
            last,
            channel,
            max_days=settings.dashboard_max_days,
            default_days=settings.dashboard_default_days,
            today=lima_today(),
        )
    except FilterError as refused:
        raise ConsoleError(422, refused.code, refused.message) from None


@router.get("/api/dashboard")
async def dashboard(
    session: Current,
    board: Board,
    settings: AppSettings,
    first: First = None,
    last: Last = None,
    channel: ChannelFilter = None,
) -> dict[str, Any]:
    """Supervisors and admins: every chart of the dashboard for the period and channel — its
    title, what it counts, its columns and rows (the same as its CSV), and how to plot it."""
    require(session, Role.SUPERVISOR)
    f = _filters(settings, first, last, channel)
    charts = await board.charts(f)
    return {
        "filters": f.public(),
        "charts": [chart.public() for chart in charts.values()],
    }


@router.get("/api/dashboard/{chart}.csv", response_class=Response)
async def dashboard_csv(
    chart: Annotated[str, Path(max_length=40, description=f"One of: {', '.join(CHARTS)}")],
    session: Current,
    board: Board,
    settings: AppSettings,
    first: First = None,
    last: Last = None,
    channel: ChannelFilter = None,
) -> Response:
    """Supervisors and admins: one chart's data for the period and channel, as CSV (UTF-8, the
    columns' labels as header; text that a spreadsheet would take for a formula starts with
    ``'``)."""
    require(session, Role.SUPERVISOR)
    if chart not in CHARTS:
        raise ConsoleError(404, "not_found", "No existe ese gráfico del tablero.")
    f = _filters(settings, first, last, channel)
    found = (await board.charts(f, [chart]))[chart]
    return Response(
        chart_csv(found),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{file_name(found, f)}"',
            "Cache-Control": "no-store",
        },
    )
