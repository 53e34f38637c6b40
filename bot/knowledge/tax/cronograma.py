"""The monthly obligations calendar (cronograma de obligaciones mensuales) by last RUC digit.

SUNAT publishes each year's schedule by Resolución de Superintendencia. ``data/cronograma/
<year>.yml`` holds one year: for each tax period (``2026-01``), the due date of every group of
last digits (0 | 1 | 2-3 | 4-5 | 6-7 | 8-9) and of the Buenos Contribuyentes. Only published,
verified dates go in; ``python -m bot load-cronograma FILE.csv`` validates a year and writes its
file. Shared with the action server (standard library + PyYAML).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import yaml

from bot.knowledge.watched_directory import WatchedDirectory

DEFAULT_DIR = Path(__file__).resolve().parents[3] / "data" / "cronograma"
#: The groups of last digits, in SUNAT's order, then the Buenos Contribuyentes.
GROUPS = ("0", "1", "2-3", "4-5", "6-7", "8-9")
GOOD_TAXPAYERS = "buenos_contribuyentes"
COLUMNS = ("periodo", *GROUPS, GOOD_TAXPAYERS)


class CronogramaError(ValueError):
    pass


def group_of(digit: int) -> str:
    """The calendar group of a RUC's last digit: 7 → '6-7'."""
    for group in GROUPS:
        low, _, high = group.partition("-")
        if int(low) <= digit <= int(high or low):
            return group
    raise ValueError("a digit is 0 to 9")


@dataclass(frozen=True)
class Year:
    year: int
    norm: str
    source: str
    #: period (year, month) → group → due date
    periods: Dict[Tuple[int, int], Dict[str, dt.date]]

    def due(self, period: Tuple[int, int], group: str) -> Optional[dt.date]:
        return self.periods.get(period, {}).get(group)


def _period(text: str, where: str) -> Tuple[int, int]:
    try:
        year, month = (int(p) for p in str(text).split("-"))
    except ValueError as exc:
        raise CronogramaError(f"{where}: period must be YYYY-MM, not {text!r}") from exc
    if not 1 <= month <= 12:
        raise CronogramaError(f"{where}: period {text!r} has no such month")
    return year, month


def _check_period(
    where: str, period: Tuple[int, int], dates: Dict[str, object]
) -> Dict[str, dt.date]:
    missing = [g for g in (*GROUPS, GOOD_TAXPAYERS) if g not in dates]
    if missing:
        raise CronogramaError(f"{where}: missing groups {missing}")
    checked: Dict[str, dt.date] = {}
    period_end = dt.date(period[0] + period[1] // 12, period[1] % 12 + 1, 1)
    for group, value in dates.items():
        if group not in (*GROUPS, GOOD_TAXPAYERS):
            raise CronogramaError(f"{where}: unknown group {group!r}")
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = dt.date.fromisoformat(value)
        if not isinstance(value, dt.date):
            raise CronogramaError(f"{where}.{group}: must be a date (YYYY-MM-DD)")
        if value < period_end:
            raise CronogramaError(f"{where}.{group}: {value} is not after the period ends")
        if (value - period_end).days > 62:
            raise CronogramaError(f"{where}.{group}: {value} is too far after the period")
        checked[group] = value
    return checked


def load_year(path: Path) -> Year:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CronogramaError(f"{path.name}: not valid YAML ({exc})") from exc
    if not isinstance(data, dict) or data.get("year") != int(path.stem):
        raise CronogramaError(f"{path.name}: year must be {path.stem}")
    for field in ("norm", "source"):
        if not isinstance(data.get(field), str) or not data[field].strip():
            raise CronogramaError(f"{path.name}: {field} must name the published norm/page")
    raw = data.get("periods")
    if not isinstance(raw, dict) or not raw:
        raise CronogramaError(f"{path.name}: periods must map YYYY-MM to the groups' dates")
    periods = {}
    for key, dates in raw.items():
        where = f"{path.name}: periods.{key}"
        period = _period(key, where)
        if period[0] != data["year"]:
            raise CronogramaError(f"{where}: not a period of {data['year']}")
        if not isinstance(dates, dict):
            raise CronogramaError(f"{where}: must map groups to dates")
        periods[period] = _check_period(where, period, dates)
    return Year(data["year"], data["norm"], data["source"], periods)


YEAR_FILES = "[0-9][0-9][0-9][0-9].yml"


def load_years(directory: Path) -> Dict[int, Year]:
    return {y.year: y for y in (load_year(p) for p in sorted(directory.glob(YEAR_FILES)))}


class Cronograma(WatchedDirectory[Dict[int, Year]]):
    """Every loaded year, re-read when a file changes (a broken edit keeps the last good
    years and is logged)."""

    def __init__(self, directory: Optional[Path] = None, check_every: float = 0.0) -> None:
        super().__init__(
            directory or Path(os.environ.get("CRONOGRAMA_DIR") or DEFAULT_DIR),
            YEAR_FILES,
            load_years,
            (CronogramaError,),
            "cronograma",
            check_every,
        )

    @property
    def years(self) -> Dict[int, Year]:
        return self.current

    def next_due(
        self, group: str, today: dt.date
    ) -> Optional[Tuple[Tuple[int, int], dt.date, Year]]:
        """The first due date on or after ``today`` for ``group``, with its period."""
        found = []
        for year in self.years.values():
            for period, dates in year.periods.items():
                due = dates.get(group)
                if due is not None and due >= today:
                    found.append((due, period, year))
        if not found:
            return None
        due, period, year = min(found, key=lambda item: item[0])
        return period, due, year


def year_from_csv(csv_path: Path, year: int, norm: str, source: str) -> str:
    """A year's file from a CSV with columns periodo,0,1,2-3,4-5,6-7,8-9,buenos_contribuyentes
    (dates YYYY-MM-DD or DD/MM/YYYY), validated; returns the YAML text."""
    with csv_path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        header = tuple(h.strip().lower() for h in reader.fieldnames or ())
        if header != COLUMNS:
            raise CronogramaError(f"{csv_path.name}: header must be {','.join(COLUMNS)}")
        periods: Dict[str, Dict[str, str]] = {}
        for line, row in enumerate(reader, start=2):
            row = {k.strip().lower(): (v or "").strip() for k, v in row.items()}
            key = row.pop("periodo")
            dates = {}
            for group, value in row.items():
                try:
                    if "/" in value:
                        d, m, y = (int(p) for p in value.split("/"))
                        dates[group] = dt.date(y, m, d).isoformat()
                    else:
                        dates[group] = dt.date.fromisoformat(value).isoformat()
                except ValueError as exc:
                    raise CronogramaError(
                        f"{csv_path.name}:{line}: {group}: bad date {value!r}"
                    ) from exc
            periods[key] = dates
    if not norm.strip() or not source.startswith("https://"):
        raise CronogramaError("give the norm (e.g. RS N.° …-2025/SUNAT) and its https:// source")
    text = yaml.safe_dump(
        {"year": year, "norm": norm, "source": source, "periods": periods},
        allow_unicode=True,
        sort_keys=False,
    )
    checked = _load_text(text, year)  # validate exactly what will be written
    if len(checked.periods) != 12:
        raise CronogramaError(f"{csv_path.name}: {len(checked.periods)} periods, a year has 12")
    return text


def _load_text(text: str, year: int) -> Year:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / f"{year}.yml"
        path.write_text(text, encoding="utf-8")
        return load_year(path)


def months_es() -> List[str]:
    return ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
            "setiembre", "octubre", "noviembre", "diciembre"]  # fmt: skip
