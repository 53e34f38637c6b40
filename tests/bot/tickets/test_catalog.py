"""The tickets' data: every kind's deadline has its basis (a legal one its source), the
information requests' deadline agrees with the knowledge base's article on transparency, and a
broken file is refused with the field named."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from bot.knowledge.articles import load_knowledge
from bot.ops.settings import ROOT
from bot.tickets.catalog import Catalog, CatalogError, load_catalog
from tests.bot.tickets.conftest import DATA


def test_the_kinds_and_their_deadlines(catalog: Catalog) -> None:
    assert list(catalog.kinds) == ["queja", "reclamo", "sugerencia", "informacion_publica"]
    for kind in catalog.kinds.values():
        assert kind.legal == bool(kind.sources), kind.name
        assert all(s.url.startswith("https://") for s in kind.sources)
    info = catalog.kind("informacion_publica")
    assert (info.days, info.business_days, info.legal) == (10, True, True)
    assert "27806" in info.basis
    # The same deadline the assistant's article on transparency gives.
    article = load_knowledge(ROOT / "data" / "knowledge").require("transparencia")
    assert "10 días hábiles" in article.answer
    assert not catalog.kind("sugerencia").legal


def test_a_promised_deadline_is_never_called_legal(catalog: Catalog) -> None:
    due = dt.datetime(2026, 12, 19, 4, 59, tzinfo=dt.UTC)
    promised = catalog.deadline(catalog.kind("sugerencia"), due)
    legal = catalog.deadline(catalog.kind("informacion_publica"), due)
    assert "no un plazo legal" in promised and "viernes 18 de diciembre de 2026" in promised
    assert "Ley 27806" in legal and "no un plazo legal" not in legal
    assert "sin feriados nacionales" in legal


def write(tmp_path: Path, change: dict[str, object]) -> Path:
    raw = yaml.safe_load((DATA / "tickets.yml").read_text(encoding="utf-8"))
    for dotted, value in change.items():
        *parents, last = dotted.split(".")
        node = raw
        for key in parents:
            node = node[key]
        if value is None:
            del node[last]
        else:
            node[last] = value
    path = tmp_path / "tickets.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"kinds.queja.sources": []}, "kinds.queja.sources"),
        ({"kinds.queja.days": 0}, "kinds.queja.days"),
        ({"kinds.reclamo.legal": "si"}, "kinds.reclamo.legal"),
        ({"messages.registrado": None}, "messages.registrado"),
        ({"statuses.cerrado": ""}, "statuses.cerrado"),
    ],
)
def test_a_broken_file_is_refused_naming_the_field(
    tmp_path: Path, change: dict[str, object], named: str
) -> None:
    with pytest.raises(CatalogError, match=named.replace(".", r"\.")):
        load_catalog(write(tmp_path, change))
