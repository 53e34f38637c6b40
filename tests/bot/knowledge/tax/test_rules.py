"""The per-year tax rules files: validated, errors name the file and the field."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from bot.knowledge.tax.rules import DEFAULT_DIR, TaxRules, TaxRulesError, TaxRulesStore

D = Decimal


def test_shipped_years_load() -> None:
    rules = TaxRules.load()
    assert {2024, 2025, 2026, 2027} <= set(rules.years)
    assert rules.years[2026].uit.value == 5500
    assert rules.years[2027].known_uit is None  # not published yet: never made up


#: What the law says for each year, (IGV, IPM) and the total reduced rate of micro and small
#: restaurants, hotels and lodgings (None: the file has no reduced rate). IGV + IPM = 18%, the
#: split by Ley 32387 (0.5 point a year from the IGV to the IPM, 2026 to 2029); the reduced
#: rate is IGV 8% until 2026 and 12% in 2027 (Leyes 31556 and 32219) plus the year's IPM.
#: Before 2026 the files carry no reduced rate. A new year's file must be added here.
LAW: dict[int, tuple[tuple[Decimal, Decimal], Decimal | None]] = {
    2024: ((D("0.16"), D("0.02")), None),
    2025: ((D("0.16"), D("0.02")), None),
    2026: ((D("0.155"), D("0.025")), D("0.105")),
    2027: ((D("0.15"), D("0.03")), D("0.15")),
}


@pytest.mark.parametrize("path", sorted(DEFAULT_DIR.glob("[0-9]*.yml")), ids=lambda p: p.name)
def test_each_years_rates_are_the_laws(path: Path) -> None:
    year = TaxRules.load().years[int(path.stem)]
    assert year.year in LAW, f"{path.name}: check its rates against the law and add it to LAW"
    split, reduced = LAW[year.year]
    assert year.igv.total == D("0.18")
    assert (year.igv.igv_rate, year.igv.ipm_rate) == split
    if reduced is None:
        assert year.reduced_igv is None
    else:
        assert year.reduced_igv is not None
        assert year.reduced_igv.total == reduced
        assert year.reduced_igv.ipm_rate == year.igv.ipm_rate  # the year's IPM applies too
        assert year.reduced_igv.until == dt.date(year.year, 12, 31)


@pytest.fixture()
def tax_dir(tmp_path: Path) -> Path:
    for path in DEFAULT_DIR.glob("*.yml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def _edit(path: Path, change: dict[str, object]) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for dotted, value in change.items():
        *parents, last = dotted.split(".")
        node = data
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[last] = value
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "message"),
    [({"uit.value": "cinco mil"}, "2026.yml: uit.value"),
     ({"igv.igv_rate": 16}, "2026.yml: igv.igv_rate: a rate is a fraction"),
     ({"year": 2027}, "2026.yml: year"),
     ({"regimes.rer.excluded_activities": ["mineria"]}, "regimes.rer.excluded_activities"),
     ({"regimes.rer.max_workers_per_shift": 0}, "regimes.rer.max_workers_per_shift")],
)  # fmt: skip
def test_a_bad_file_names_file_and_field(
    tax_dir: Path, change: dict[str, object], message: str
) -> None:
    _edit(tax_dir / "2026.yml", change)
    with pytest.raises(TaxRulesError, match=message):
        TaxRules.load(tax_dir)


def test_a_new_year_is_picked_up_without_restart_and_a_broken_edit_keeps_the_last_good(
    tax_dir: Path,
) -> None:
    store = TaxRulesStore(tax_dir)
    assert 2028 not in store.current.years
    new = tax_dir / "2028.yml"
    new.write_text(
        (tax_dir / "2025.yml").read_text(encoding="utf-8").replace("year: 2025", "year: 2028"),
        encoding="utf-8",
    )
    assert 2028 in store.current.years
    new.write_text("year: 2028\nuit: {}\n", encoding="utf-8")
    later = time.time() + 5
    os.utime(new, (later, later))
    assert 2028 in store.current.years  # the last good rules are kept


def test_a_year_whose_uit_is_not_published_says_uit_null(tax_dir: Path) -> None:
    rules = TaxRules.load(tax_dir)
    unpublished = rules.years[2027]
    with pytest.raises(TaxRulesError, match=r"2027\.yml: uit: not published yet"):
        unpublished.uit  # noqa: B018
    assert rules.uit_years() == [2024, 2025, 2026]
    # The IGV is 2027's; a UIT conversion in 2027 takes 2026's, the newest published.
    assert rules.current(dt.date(2027, 3, 1)).year == 2027
    assert rules.with_uit(dt.date(2027, 3, 1)).year == 2026
    assert rules.with_uit(dt.date(2026, 6, 1)).year == 2026
    assert rules.with_regimes(dt.date(2027, 3, 1)).year == 2026
    with pytest.raises(TaxRulesError, match="with the UIT for 2023"):
        rules.with_uit(dt.date(2023, 6, 1))


def test_leaving_the_uit_out_is_still_an_error(tax_dir: Path) -> None:
    path = tax_dir / "2027.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    del data["uit"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(TaxRulesError, match=r"2027\.yml: uit: missing"):
        TaxRules.load(tax_dir)


def test_regimes_need_the_years_uit(tax_dir: Path) -> None:
    _edit(tax_dir / "2026.yml", {"uit": None})
    with pytest.raises(TaxRulesError, match=r"2026\.yml: regimes: .*needs its UIT"):
        TaxRules.load(tax_dir)
