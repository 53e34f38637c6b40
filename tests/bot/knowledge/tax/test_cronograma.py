"""The due-date calendar: groups, the CSV loader's checks, the next due date.

The dates in the loader tests are made up; the shipped year (data/cronograma/2026.yml, loaded
with the command from SUNAT's published table) is checked at the end."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest

from bot.knowledge.tax.cronograma import (
    COLUMNS,
    DEFAULT_DIR,
    GOOD_TAXPAYERS,
    GROUPS,
    Cronograma,
    CronogramaError,
    group_of,
    year_from_csv,
)


@pytest.mark.parametrize(
    ("digit", "group"), [(0, "0"), (1, "1"), (2, "2-3"), (3, "2-3"), (7, "6-7"), (9, "8-9")]
)
def test_groups(digit: int, group: str) -> None:
    assert group_of(digit) == group


def _csv(path: Path, year: int = 2026, months: int = 12, **override: str) -> Path:
    rows = [",".join(COLUMNS)]
    for month in range(1, months + 1):
        start = dt.date(year + month // 12, month % 12 + 1, 1)
        dates = [(start + dt.timedelta(days=10 + i)).isoformat() for i in range(7)]
        row = [f"{year}-{month:02d}", *dates]
        rows.append(",".join(row))
    text = "\n".join(rows) + "\n"
    for old, new in override.items():
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_year_loads_from_csv_and_gives_the_next_due_date(tmp_path: Path) -> None:
    calendar_dir = tmp_path / "cronograma"
    calendar_dir.mkdir()
    text = year_from_csv(_csv(tmp_path / "c.csv"), 2026, "RS de prueba", "https://example.gob.pe")
    (calendar_dir / "2026.yml").write_text(text, encoding="utf-8")
    calendar = Cronograma(calendar_dir)
    # Period 2026-11 is due in December: group 6-7 is the 5th column (10 + 4 days).
    period, due, year = calendar.next_due("6-7", dt.date(2026, 11, 28))  # type: ignore[misc]
    assert period == (2026, 11) and due == dt.date(2026, 12, 15) and year.norm == "RS de prueba"
    assert calendar.next_due("6-7", dt.date(2027, 2, 1)) is None  # past the loaded year


@pytest.mark.parametrize(
    ("change", "message"),
    [({"periodo": "period"}, "header must be"),
     ({"2026-12-11": "2026-11-30"}, "not after the period ends"),
     ({"2026-12-11": "31/02/2026"}, "bad date"),
     ({"2026-03-11": "2026-06-11"}, "too far after")],
)  # fmt: skip
def test_bad_tables_are_refused_with_the_reason(
    tmp_path: Path, change: dict[str, str], message: str
) -> None:
    with pytest.raises(CronogramaError, match=message):
        year_from_csv(_csv(tmp_path / "c.csv", **change), 2026, "RS", "https://x.gob.pe")


def test_a_year_needs_twelve_periods(tmp_path: Path) -> None:
    with pytest.raises(CronogramaError, match="11 periods"):
        year_from_csv(_csv(tmp_path / "c.csv", months=11), 2026, "RS", "https://x.gob.pe")


@pytest.mark.skipif(
    sys.version_info < (3, 11), reason="the command line is the gateway's (Python >= 3.11)"
)
def test_load_command_writes_the_year(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.ops.cli import main  # the gateway's: not importable in the engine environment

    monkeypatch.setenv("CRONOGRAMA_DIR", str(tmp_path / "out"))
    csv = _csv(tmp_path / "c.csv")
    args = ["load-cronograma", str(csv), "--year", "2026", "--norm", "RS", "--source"]
    assert main([*args, "http://no-https.example"]) == 1
    assert not (tmp_path / "out" / "2026.yml").exists()
    assert main([*args, "https://www.sunat.gob.pe/"]) == 0
    year = Cronograma(tmp_path / "out").years[2026]
    assert len(year.periods) == 12 and set(year.periods[(2026, 1)]) == {
        *GROUPS,
        "buenos_contribuyentes",
    }


def test_a_broken_edit_keeps_the_years_already_loaded(tmp_path: Path) -> None:
    directory = tmp_path / "cronograma"
    directory.mkdir()
    text = year_from_csv(_csv(tmp_path / "c.csv"), 2026, "RS", "https://x.gob.pe")
    (directory / "2026.yml").write_text(text, encoding="utf-8")
    calendar = Cronograma(directory)
    (directory / "2026.yml").write_text("year: 2026\nperiods: {}\n", encoding="utf-8")
    assert len(calendar.years[2026].periods) == 12


def test_the_shipped_2026_calendar_is_sunats_table() -> None:
    year = Cronograma(DEFAULT_DIR).years[2026]
    assert year.norm == "R.S. N.° 000281-2022/SUNAT, Anexo I"
    assert year.source == (
        "https://www.sunat.gob.pe/orientacion/cronogramas/2026/cObligacionMensual2026.html"
    )
    assert sorted(year.periods) == [(2026, m) for m in range(1, 13)]
    # A few cells of the published table (first and last periods, a holiday-shifted one).
    assert year.due((2026, 1), "0") == dt.date(2026, 2, 16)
    assert year.due((2026, 3), "0") == dt.date(2026, 4, 17)
    assert year.due((2026, 11), "6-7") == dt.date(2026, 12, 23)
    assert year.due((2026, 12), GOOD_TAXPAYERS) == dt.date(2027, 1, 26)
    for period, dates in year.periods.items():
        ordered = [dates[g] for g in (*GROUPS, GOOD_TAXPAYERS)]
        assert ordered == sorted(set(ordered)), period  # strictly later group by group
        assert all(d.weekday() < 5 for d in ordered), period  # working days only


def test_the_shipped_calendar_gives_the_next_due_date_and_none_past_it() -> None:
    calendar = Cronograma(DEFAULT_DIR)
    period, due, year = calendar.next_due("6-7", dt.date(2026, 12, 1))  # type: ignore[misc]
    assert (period, due, year.year) == ((2026, 11), dt.date(2026, 12, 23), 2026)
    period, due, _ = calendar.next_due("8-9", dt.date(2026, 12, 25))  # type: ignore[misc]
    assert (period, due) == ((2026, 12), dt.date(2027, 1, 25))
    assert calendar.next_due("0", dt.date(2027, 1, 27)) is None  # no 2027 calendar loaded yet
