"""Tax figures per year (``data/tax/<year>.yml``): UIT, IGV and the regimes' limits and rates.

Calculators and the regime advisor take every threshold, rate and quota from these files, so a
new year is a new file, not a code change. Shared by the gateway and the action server
(standard library + PyYAML). A bad file is a :class:`TaxRulesError` naming file and field.

A year whose UIT is not published yet says so with ``uit: null`` (leaving ``uit`` out is still
an error): its IGV rates are used, and UIT conversions use the newest year with a UIT
(:meth:`TaxRules.with_uit`). Such a year cannot have the ``regimes`` section (its limits are in
UIT).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import yaml

from bot.knowledge.watched_directory import WatchedDirectory

DEFAULT_DIR = Path(__file__).resolve().parents[3] / "data" / "tax"


class TaxRulesError(ValueError):
    pass


@dataclass(frozen=True)
class Uit:
    value: Decimal
    norm: str
    source: str


@dataclass(frozen=True)
class IgvRate:
    igv_rate: Decimal
    ipm_rate: Decimal

    @property
    def total(self) -> Decimal:
        return self.igv_rate + self.ipm_rate


@dataclass(frozen=True)
class ReducedIgv(IgvRate):
    until: dt.date
    applies_to: str
    norm: str


@dataclass(frozen=True)
class RusCategory:
    name: str
    max_monthly_income: Decimal
    max_monthly_purchases: Decimal
    monthly_quota: Decimal


@dataclass(frozen=True)
class NuevoRus:
    categories: Tuple[RusCategory, ...]
    max_annual_income: Decimal
    max_annual_purchases: Decimal
    max_fixed_assets: Decimal
    excluded_activities: Tuple[str, ...]


@dataclass(frozen=True)
class Rer:
    max_annual_income: Decimal
    max_annual_purchases: Decimal
    max_fixed_assets: Decimal
    max_workers_per_shift: int
    monthly_income_tax_rate: Decimal
    excluded_activities: Tuple[str, ...]


@dataclass(frozen=True)
class Rmt:
    max_annual_net_income_uit: Decimal
    monthly_advance_rate: Decimal
    monthly_advance_limit_uit: Decimal
    annual_rates: Tuple[Tuple[Optional[Decimal], Decimal], ...]  # (up to UIT or None, rate)


@dataclass(frozen=True)
class Regimes:
    nuevo_rus: NuevoRus
    rer: Rer
    rmt: Rmt
    general_annual_rate: Decimal


@dataclass(frozen=True)
class TaxYear:
    year: int
    #: None when the file says ``uit: null``: the UIT of that year is not published yet.
    known_uit: Optional[Uit]
    igv: IgvRate
    reduced_igv: Optional[ReducedIgv]
    regimes: Optional[Regimes]
    activities: Dict[str, str]

    @property
    def uit(self) -> Uit:
        """The year's UIT; asking for it in a year whose UIT is not published is an error (use
        :meth:`TaxRules.with_uit` to get a year that has one)."""
        if self.known_uit is None:
            raise TaxRulesError(f"{self.year}.yml: uit: not published yet (uit: null)")
        return self.known_uit


class _Reader:
    """Reads fields of one file, raising errors that name the file and the field."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, field: str, problem: str) -> TaxRulesError:
        return TaxRulesError(f"{self.path.name}: {field}: {problem}")

    def section(self, data: Any, field: str) -> Dict[str, Any]:
        value = data.get(field) if isinstance(data, dict) else None
        if not isinstance(value, dict):
            raise self.fail(field, "missing or not a mapping")
        return value

    def number(self, data: Dict[str, Any], field: str, path: str) -> Decimal:
        value = data.get(field)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise self.fail(f"{path}.{field}", "missing or not a non-negative number")
        return Decimal(str(value))

    def rate(self, data: Dict[str, Any], field: str, path: str) -> Decimal:
        value = self.number(data, field, path)
        if value >= 1:
            raise self.fail(f"{path}.{field}", "a rate is a fraction below 1 (0.18, not 18)")
        return value

    def text(self, data: Dict[str, Any], field: str, path: str) -> str:
        value = data.get(field)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{path}.{field}", "missing or empty text")
        return value

    def names(
        self, data: Dict[str, Any], field: str, path: str, known: Dict[str, str]
    ) -> Tuple[str, ...]:
        value = data.get(field, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(f"{path}.{field}", "must be a list of activity ids")
        unknown = [v for v in value if v not in known]
        if unknown:
            raise self.fail(f"{path}.{field}", f"unknown activities {unknown} (see activities)")
        return tuple(value)


def load_year(path: Path) -> TaxYear:
    r = _Reader(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise TaxRulesError(f"{path.name}: not valid YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise TaxRulesError(f"{path.name}: must be a mapping")
    year = data.get("year")
    if not isinstance(year, int) or str(year) != path.stem:
        raise r.fail("year", f"must be the file's year ({path.stem})")
    if "uit" not in data:
        raise r.fail("uit", "missing (write `uit: null` while the year's UIT is not published)")
    known_uit = None
    if data["uit"] is not None:
        uit = r.section(data, "uit")
        known_uit = Uit(
            r.number(uit, "value", "uit"), r.text(uit, "norm", "uit"), r.text(uit, "source", "uit")
        )
    igv = r.section(data, "igv")
    activities = data.get("activities") or {}
    if not isinstance(activities, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in activities.items()
    ):
        raise r.fail("activities", "must map activity ids to labels")
    reduced = None
    if "reduced" in igv:
        red = r.section(igv, "reduced")
        until = red.get("until")
        if not isinstance(until, dt.date):
            raise r.fail("igv.reduced.until", "must be a date (YYYY-MM-DD)")
        reduced = ReducedIgv(
            r.rate(red, "igv_rate", "igv.reduced"), r.rate(red, "ipm_rate", "igv.reduced"),
            until, r.text(red, "applies_to", "igv.reduced"), r.text(red, "norm", "igv.reduced"),
        )  # fmt: skip
    regimes = None
    if "regimes" in data:
        if known_uit is None:
            raise r.fail("regimes", "the regimes' limits are in UIT: the year needs its UIT")
        reg = r.section(data, "regimes")
        rus = r.section(reg, "nuevo_rus")
        categories = rus.get("categories")
        if not isinstance(categories, list) or not categories:
            raise r.fail("regimes.nuevo_rus.categories", "must be a non-empty list")
        cats = []
        for i, c in enumerate(categories):
            where = f"regimes.nuevo_rus.categories[{i}]"
            if not isinstance(c, dict):
                raise r.fail(where, "must be a mapping")
            cats.append(
                RusCategory(
                    str(c.get("name", i + 1)), r.number(c, "max_monthly_income", where),
                    r.number(c, "max_monthly_purchases", where),
                    r.number(c, "monthly_quota", where),
                )
            )  # fmt: skip
        rer = r.section(reg, "rer")
        rmt = r.section(reg, "rmt")
        general = r.section(reg, "general")
        brackets: List[Tuple[Optional[Decimal], Decimal]] = []
        raw_brackets = rmt.get("annual_rates")
        if not isinstance(raw_brackets, list) or not raw_brackets:
            raise r.fail("regimes.rmt.annual_rates", "must be a non-empty list")
        for i, b in enumerate(raw_brackets):
            where = f"regimes.rmt.annual_rates[{i}]"
            if not isinstance(b, dict):
                raise r.fail(where, "must be a mapping")
            up_to = r.number(b, "up_to_uit", where) if "up_to_uit" in b else None
            brackets.append((up_to, r.rate(b, "rate", where)))
        workers = rer.get("max_workers_per_shift")
        if not isinstance(workers, int) or workers < 1:
            raise r.fail("regimes.rer.max_workers_per_shift", "must be a positive integer")
        regimes = Regimes(
            NuevoRus(
                tuple(cats),
                r.number(rus, "max_annual_income", "regimes.nuevo_rus"),
                r.number(rus, "max_annual_purchases", "regimes.nuevo_rus"),
                r.number(rus, "max_fixed_assets", "regimes.nuevo_rus"),
                r.names(rus, "excluded_activities", "regimes.nuevo_rus", activities),
            ),
            Rer(
                r.number(rer, "max_annual_income", "regimes.rer"),
                r.number(rer, "max_annual_purchases", "regimes.rer"),
                r.number(rer, "max_fixed_assets", "regimes.rer"),
                workers,
                r.rate(rer, "monthly_income_tax_rate", "regimes.rer"),
                r.names(rer, "excluded_activities", "regimes.rer", activities),
            ),
            Rmt(
                r.number(rmt, "max_annual_net_income_uit", "regimes.rmt"),
                r.rate(rmt, "monthly_advance_rate", "regimes.rmt"),
                r.number(rmt, "monthly_advance_limit_uit", "regimes.rmt"),
                tuple(brackets),
            ),
            r.rate(general, "annual_rate", "regimes.general"),
        )
    return TaxYear(
        year,
        known_uit,
        IgvRate(r.rate(igv, "igv_rate", "igv"), r.rate(igv, "ipm_rate", "igv")),
        reduced,
        regimes,
        dict(activities),
    )


class TaxRules:
    """Every year's file in a directory."""

    def __init__(self, years: Dict[int, TaxYear]) -> None:
        if not years:
            raise TaxRulesError("no tax year files (data/tax/<year>.yml)")
        self.years = dict(sorted(years.items()))

    @classmethod
    def load(cls, directory: Optional[Path] = None) -> TaxRules:
        directory = directory or Path(os.environ.get("TAX_RULES_DIR") or DEFAULT_DIR)
        return cls({(y := load_year(p)).year: y for p in sorted(directory.glob("[0-9]*.yml"))})

    def get(self, year: int) -> Optional[TaxYear]:
        return self.years.get(year)

    def current(self, today: Optional[dt.date] = None) -> TaxYear:
        """This year's figures, or the newest year loaded when this one is not there yet. Its
        UIT may not be published yet: conversions to and from UIT use :meth:`with_uit`."""
        year = (today or dt.date.today()).year
        earlier = [y for y in self.years if y <= year]
        if not earlier:
            raise TaxRulesError(f"no tax year file for {year} or before")
        return self.years[max(earlier)]

    def uit_years(self) -> List[int]:
        """The years whose file has the UIT (not ``uit: null``)."""
        return [y for y, t in self.years.items() if t.known_uit is not None]

    def with_uit(self, today: Optional[dt.date] = None) -> TaxYear:
        """The newest year, not after ``today``'s, whose UIT is known: this year's while its
        UIT is not published yet is the year before."""
        year = (today or dt.date.today()).year
        candidates = [y for y in self.uit_years() if y <= year]
        if not candidates:
            raise TaxRulesError(f"no tax year file with the UIT for {year} or before")
        return self.years[max(candidates)]

    def with_regimes(self, today: Optional[dt.date] = None) -> TaxYear:
        """The newest year, not after ``today``'s, whose file has the regimes section."""
        year = (today or dt.date.today()).year
        candidates = [y for y, t in self.years.items() if t.regimes is not None and y <= year]
        if not candidates:
            raise TaxRulesError("no tax year file has the regimes section")
        return self.years[max(candidates)]


class TaxRulesStore(WatchedDirectory[TaxRules]):
    """The rules directory, reloaded when a file is added or changed (a new year needs no
    restart). A broken edit keeps the last good rules and is logged."""

    def __init__(self, directory: Optional[Path] = None, check_every: float = 0.0) -> None:
        super().__init__(
            directory or Path(os.environ.get("TAX_RULES_DIR") or DEFAULT_DIR),
            "[0-9]*.yml",
            TaxRules.load,
            (TaxRulesError,),
            "tax rules",
            check_every,
        )
