"""The sentiment model: the bands, and the real model shipped inside the package, loaded once
with no network at all and answering plain cases the obvious way."""

from __future__ import annotations

import asyncio
import socket
import time
from collections import Counter
from typing import Any

import pytest
import yaml

from bot.listening.sentiment import LABELS, PackagedModel, label_of
from bot.ops.settings import ROOT


@pytest.mark.parametrize(
    ("score", "label"),
    [(0.0, "negativo"), (1 / 3, "negativo"), (0.34, "neutral"), (0.66, "neutral"),
     (2 / 3, "positivo"), (1.0, "positivo")],
)  # fmt: skip
def test_the_bands_decide_the_label(score: float, label: str) -> None:
    assert label_of(score) == label


def test_the_packaged_model_loads_without_the_network_once(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*_: Any, **__: Any) -> None:
        raise AssertionError("the sentiment model tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    model = PackagedModel()

    async def both() -> list[Any]:
        # Two estimates at once: one load (the second waits for it).
        return await asyncio.gather(
            model.estimate("Excelente atención, muchas gracias, muy amables"),
            model.estimate("Pésimo servicio, nadie contesta el teléfono, qué vergüenza"),
        )

    praise, complaint = asyncio.run(both())
    assert praise.label == "positivo" and complaint.label == "negativo"
    assert praise.score > 0.9 > 0.1 > complaint.score
    started = time.monotonic()
    model.probability("¿A qué hora abren?")  # loaded already: no second load
    assert time.monotonic() - started < 2


def test_the_labelled_set_is_balanced_and_without_repeats() -> None:
    comments = yaml.safe_load((ROOT / "data" / "listening" / "sentimiento.yml").read_text())[
        "comments"
    ]
    labels = Counter(c["sentiment"] for c in comments)
    assert set(labels) == set(LABELS) and min(labels.values()) >= 20
    texts = [c["text"].strip().lower() for c in comments]
    assert len(texts) == len(set(texts)) and 60 <= len(texts) <= 120
