"""The due-date answer: digit from the message or a remembered RUC; dates only if loaded."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher
from trackers import tracker

from actions import cronograma as action_module
from actions.cronograma import ActionCronograma, last_digit
from bot.knowledge.tax.cronograma import Cronograma


def reply(text: str, slots: dict | None = None) -> str:
    dispatcher = CollectingDispatcher()
    asyncio.run(
        ActionCronograma().run(dispatcher, tracker("cronograma", text=text, slots=slots), {})
    )
    return dispatcher.messages[0]["text"]


@pytest.fixture(autouse=True)
def empty_calendar(tmp_path: Path, knowledge_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cronograma"
    directory.mkdir()
    action_module.use_cronograma(Cronograma(directory))
    monkeypatch.setattr(action_module, "_today", lambda: dt.date(2026, 11, 28))
    return directory


@pytest.mark.parametrize(
    ("text", "ruc", "digit"),
    [("mi ruc termina en 7 cuando declaro", None, 7),
     ("el ultimo digito de mi ruc es 3", None, 3),
     ("cuando declaro? mi ruc es 20100070970", None, 0),
     ("y cuando declaro?", "20416715301", 1),
     ("cuando vence mi declaracion", None, None),
     ("cuando declaro", "20100070971", None)],  # an invalid remembered RUC is not used
)  # fmt: skip
def test_last_digit(text: str, ruc: str | None, digit: int | None) -> None:
    assert last_digit(text, ruc) == digit


def test_without_a_digit_the_calendar_is_explained(knowledge_dir: Path) -> None:
    expected = yaml.safe_load((knowledge_dir / "cronograma.yml").read_text(encoding="utf-8"))
    assert reply("cuando vence mi declaracion") == expected["answer"].strip()


def test_without_loaded_dates_no_date_is_given() -> None:
    text = reply("y cuando declaro?", {"ruc": "20416715301"})
    assert text.startswith("Tu RUC termina en 1: estás en el grupo 1.")
    assert "no te doy un día" in text


def test_with_a_loaded_year_the_date_is_given(empty_calendar: Path) -> None:
    periods = {
        f"2026-{m:02d}": {
            g: (dt.date(2026 + m // 12, m % 12 + 1, 1) + dt.timedelta(days=9 + i)).isoformat()
            for i, g in enumerate(["0", "1", "2-3", "4-5", "6-7", "8-9", "buenos_contribuyentes"])
        }
        for m in range(1, 13)
    }
    data = {"year": 2026, "norm": "RS de prueba", "source": "https://x.gob.pe", "periods": periods}
    (empty_calendar / "2026.yml").write_text(yaml.safe_dump(data), encoding="utf-8")
    text = reply("mi ruc termina en 7, cuando declaro")
    assert text.startswith(
        "Tu RUC termina en 7 (grupo 6-7). La declaración y pago del periodo noviembre 2026 "
        "vence el 14 de diciembre de 2026."
    )
    assert "RS de prueba" in text


def test_the_shipped_calendar_gives_the_real_date_and_where_to_confirm_it() -> None:
    action_module.use_cronograma(Cronograma())  # data/cronograma/ as shipped
    text = reply("mi ruc termina en 7, cuando declaro")
    assert text.startswith(
        "Tu RUC termina en 7 (grupo 6-7). La declaración y pago del periodo noviembre 2026 "
        "vence el 23 de diciembre de 2026."
    )
    assert "R.S. N.° 000281-2022/SUNAT" in text and "www.sunat.gob.pe" in text


def test_past_the_shipped_calendar_no_date_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    action_module.use_cronograma(Cronograma())
    monkeypatch.setattr(action_module, "_today", lambda: dt.date(2027, 2, 1))
    text = reply("mi ruc termina en 7, cuando declaro")
    assert text.startswith("Tu RUC termina en 7: estás en el grupo 6-7.")
    assert "no te doy un día" in text and "(01) 315-0730" in text
