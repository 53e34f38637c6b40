"""The model registry: comparison verdicts, the deploy gate (a worse model is refused without an
override), Rasa's ``PUT /model`` called with the file, rollback to the model live before."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.conversation.rasa_client import RasaClient
from bot.conversation.store import open_store
from bot.storage.database import create_engine
from bot.workbench.model_registry import (
    DeployRefused,
    ModelRegistry,
    compare,
    deploy,
    sync_live,
)


def metrics(macro: float, predictions: dict[str, str]) -> dict[str, Any]:
    return {
        "macro_f1": macro,
        "accuracy": macro,
        "per_intent": {"igv": {"precision": 1, "recall": macro, "f1": macro, "support": 4}},
        "predictions": {t: {"expected": "igv", "predicted": p} for t, p in predictions.items()},
    }


def test_compare() -> None:
    live = metrics(0.95, {"que es el igv": "igv", "igv??": "uit"})
    better = compare(metrics(0.97, {"que es el igv": "igv", "igv??": "igv"}), live)
    assert better["verdict"] == "better" and better["macro_f1"]["delta"] == 0.02
    assert better["changed"] == [{"text": "igv??", "expected": "igv", "live": "uit", "new": "igv"}]
    assert compare(metrics(0.952, {}), live)["verdict"] == "same"
    assert compare(metrics(0.90, {}), live)["verdict"] == "worse"
    assert compare(metrics(0.90, {}), None)["verdict"] == "first"


class Rasa:
    def __init__(self, loaded: str) -> None:
        self.loaded = loaded
        self.puts: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            self.puts.append(json.loads(request.content)["model_file"])
            self.loaded = Path(self.puts[-1]).name
            return httpx.Response(204)
        return httpx.Response(200, json={"model_file": f"models/{self.loaded}"})


@pytest.fixture()
async def registry(tmp_path: Path) -> AsyncIterator[ModelRegistry]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"
    await (await open_store(url)).close()
    engine = create_engine(url)
    models = tmp_path / "models"
    models.mkdir()
    for name in ("a.tar.gz", "b.tar.gz", "c.tar.gz"):
        (models / name).write_bytes(b"model")
    yield ModelRegistry(engine, models)
    await engine.dispose()


async def test_deploy_gate_and_rollback(registry: ModelRegistry) -> None:
    fake = Rasa("a.tar.gz")
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as http:
        rasa = RasaClient(http, "http://rasa.test", "token", 5.0)
        live = await sync_live(registry, rasa)  # what `bot up` loaded becomes known
        assert live is not None and (live.file, live.status) == ("a.tar.gz", "live")
        await registry.record("a.tar.gz", "a", "bot up", metrics(0.96, {}))
        worse = await registry.record("b.tar.gz", "b", "admin", metrics(0.90, {}))
        better = await registry.record("c.tar.gz", "c", "admin", metrics(0.97, {}))

        with pytest.raises(DeployRefused) as refused:
            await deploy(registry, rasa, worse, "admin", 0.01)
        assert refused.value.code == "worse" and "0.900" in refused.value.message
        assert fake.puts == []

        await deploy(registry, rasa, better, "admin", 0.01)
        assert fake.puts == [str(registry.models_dir / "c.tar.gz")]
        current = await registry.live()
        assert current is not None and current.file == "c.tar.gz"
        with pytest.raises(DeployRefused):
            await deploy(registry, rasa, better, "admin", 0.01)  # already live

        # An override deploys the worse one; the reason is the caller's to audit.
        await deploy(registry, rasa, worse, "admin", 0.01, "urgente: tema nuevo")
        previous = await registry.previous()
        assert previous is not None and previous.file == "c.tar.gz"
        await deploy(registry, rasa, previous, "admin", 1.0, "rollback")
        current = await registry.live()
        assert current is not None and current.file == "c.tar.gz"
        assert [m.status for m in await registry.all()] == ["live", "retired", "retired"]


async def test_a_model_without_its_file_is_not_deployed(registry: ModelRegistry) -> None:
    (registry.models_dir / "b.tar.gz").unlink()
    model = await registry.record("b.tar.gz", "b", "admin", metrics(0.99, {}))
    async with httpx.AsyncClient(transport=httpx.MockTransport(Rasa("a.tar.gz"))) as http:
        rasa = RasaClient(http, "http://rasa.test", "token", 5.0)
        with pytest.raises(DeployRefused) as refused:
            await deploy(registry, rasa, model, "admin", 0.01)
    assert refused.value.code == "missing_file"
