"""The transparency action: figures when they are loaded and asked for, the article otherwise;
the gateway is told the article either way."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Dict, List

import pytest
from rasa_sdk.executor import CollectingDispatcher
from trackers import tracker

from actions import transparency
from actions.knowledge_answers import knowledge
from actions.transparency import ActionTransparencia
from bot import contract
from bot.knowledge.transparency import open_transparency
from bot.knowledge.transparency.records import TransparencyStore

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "transparency"
SAMPLE_FILE = SAMPLE / "ejemplo_inventado_ejecucion_gasto.csv"


@pytest.fixture(autouse=True)
def today(monkeypatch: pytest.MonkeyPatch, knowledge_dir: Path) -> None:
    monkeypatch.setattr(transparency, "_today", lambda: dt.date(2026, 12, 2))


@pytest.fixture()
def empty(tmp_path: Path) -> Iterator[TransparencyStore]:
    store = open_transparency(f"sqlite:///{tmp_path / 'nothing' / 'transparencia.db'}")
    transparency.use_figures(store)
    yield store
    store.close()


@pytest.fixture()
def sample(tmp_path: Path) -> Iterator[TransparencyStore]:
    store = open_transparency(f"sqlite:///{tmp_path / 'transparencia.db'}")
    store.import_file(SAMPLE_FILE)
    transparency.use_figures(store)
    yield store
    store.close()


def ask(text: str, previous: tuple[str, ...] = ()) -> List[Dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(
        ActionTransparencia().run(
            dispatcher, tracker("transparencia", text=text, previous_intents=previous), {}
        )
    )
    assert events == []
    return dispatcher.messages


def article_answer() -> str:
    return knowledge().current.require("transparencia").answer


def test_spending_is_answered_with_the_figure_date_and_source(sample: TransparencyStore) -> None:
    [message] = ask("¿cuánto ha gastado SUNAT este año?")
    assert message["text"].startswith("⚠️ EJEMPLO")
    assert "En 2026, el gasto de SUNAT (devengado) suma S/ 2,074.5 millones" in message["text"]
    assert "Fecha de corte del ejemplo: 30 de noviembre de 2026" in message["text"]
    assert message["custom"] == {contract.ARTICLE: "transparencia"}
    assert [b["payload"] for b in message["buttons"]] == ["/mesa_partes_virtual", "/contacto_sunat"]


def test_the_budget_of_a_year(sample: TransparencyStore) -> None:
    [message] = ask("cual es el presupuesto 2025?")
    assert "El presupuesto de SUNAT para 2025 es de S/ 2,323.2 millones" in message["text"]


def test_a_question_about_something_else_gets_the_article(sample: TransparencyStore) -> None:
    [message] = ask("como pido informacion publica a sunat")
    assert message["text"] == article_answer()
    assert message["custom"] == {contract.ARTICLE: "transparencia"}


def test_without_figures_the_article_as_before(empty: TransparencyStore) -> None:
    [message] = ask("¿cuánto ha gastado SUNAT este año?")
    assert message["text"] == article_answer()
    assert "EJEMPLO" not in message["text"]


def test_a_button_gets_the_article(sample: TransparencyStore) -> None:
    [message] = ask("/transparencia")
    assert message["text"] == article_answer()


def test_figures_that_cannot_be_read_fall_back_to_the_article() -> None:
    transparency.use_figures(open_transparency("postgresql://nobody@127.0.0.1:1/none"))
    [message] = ask("presupuesto de sunat 2026")
    assert message["text"] == article_answer()


def test_the_same_question_again_and_again_asks_for_a_person(sample: TransparencyStore) -> None:
    [message] = ask("cuanto gasto sunat", previous=("transparencia", "transparencia"))
    assert message["custom"][contract.ARTICLE] == "transparencia"
    assert message["custom"][contract.HANDOFF]["reason"] == contract.REPEATED
