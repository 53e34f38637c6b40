"""The issue's figure: with 1,000,000 stored messages the dashboard loads in under 1 s (SQLite,
the default database). A database is filled as a busy year leaves it (``bench/dashboard_data.py``,
bulk inserts: about 20 s on 2 idle cores) and ``GET /api/dashboard`` is timed through the real
app as a supervisor: the view the console opens with (the last 30 days), first request and
usual one, under 1 s. The longest period (366 days: every stored message) takes about 0.6 s on
2 idle cores (docs/benchmarks.md); here it is held to 2 s, so a machine busy with other work
does not fail the run while a lost index or a query gone quadratic still does. Marked e2e: it
runs in ``make test``'s end-to-end stage."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.dashboard import TARGET_S, supervisor_client, timed, views
from bench.dashboard_data import fill

pytestmark = pytest.mark.e2e

DEFAULT_VIEW = "last 30 days, every channel (the default view)"
EVERY_MESSAGE = "366 days (every stored message), every channel"


def test_the_dashboard_loads_in_under_a_second_with_a_million_messages(tmp_path: Path) -> None:
    database = tmp_path / "gateway.db"
    filled = fill(database, messages=1_000_000)
    assert filled.messages == 1_000_000 and filled.conversations == 100_000
    asked = views(filled.last_day)
    with supervisor_client(database) as client:
        opened = timed(client, "/api/dashboard", asked[DEFAULT_VIEW], warm=3)
        print(f"{DEFAULT_VIEW}: {opened}")
        # The first request after the start, and the usual one.
        assert opened["cold_s"] < TARGET_S, opened
        assert opened["warm_median_s"] < TARGET_S, opened
        year = timed(client, "/api/dashboard", asked[EVERY_MESSAGE], warm=3)
        print(f"{EVERY_MESSAGE}: {year}")
        assert year["warm_median_s"] < 2 * TARGET_S, year
        answer = client.get("/api/dashboard", params=asked[EVERY_MESSAGE]).json()
    # Every stored message counted, the year's conversations all there.
    conversations = next(c for c in answer["charts"] if c["name"] == "conversations")
    assert len(conversations["rows"]) == 366
    questions = next(c for c in answer["charts"] if c["name"] == "not_understood")
    assert sum(r["questions"] for r in questions["rows"]) > 400_000
