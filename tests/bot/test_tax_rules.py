"""The per-year tax rules files: validated, errors name the file and the field."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
import yaml

from bot.tax_rules import DEFAULT_DIR, TaxRules, TaxRulesError, TaxRulesStore


def test_shipped_years_load() -> None:
    rules = TaxRules.load()
    assert {2024, 2025, 2026} <= set(rules.years)
    assert rules.years[2026].uit.value == 5500


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
    assert 2027 not in store.current.years
    new = tax_dir / "2027.yml"
    new.write_text(
        (tax_dir / "2025.yml").read_text(encoding="utf-8").replace("year: 2025", "year: 2027"),
        encoding="utf-8",
    )
    assert 2027 in store.current.years
    new.write_text("year: 2027\nuit: {}\n", encoding="utf-8")
    later = time.time() + 5
    os.utime(new, (later, later))
    assert 2027 in store.current.years  # the last good rules are kept
