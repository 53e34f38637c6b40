"""The command line (python -m bot): the operators' commands while `make run` runs."""

from __future__ import annotations

from argparse import Namespace
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from bot.ops import cli, supervisor
from bot.ops.processes import token_file, write_token_file
from bot.workbench import model_registry, training
from tests.fakes.server import LocalServer

RUN_TOKEN = "token-of-this-run-0123456789"


class FakeRasa(LocalServer):
    """Rasa's HTTP API as the operators' commands use it: status and model replacement, each
    refused without the run's token; every token received is kept."""

    def __init__(self, loaded: str) -> None:
        super().__init__()
        self.loaded = loaded
        self.tokens: list[str | None] = []

    def _app(self) -> FastAPI:
        app = FastAPI()

        def allowed(request: Request) -> bool:
            self.tokens.append(request.query_params.get("token"))
            return request.query_params.get("token") == RUN_TOKEN

        @app.get("/status")
        async def status(request: Request) -> JSONResponse:
            if not allowed(request):
                return JSONResponse({"message": "unauthorized"}, status_code=401)
            return JSONResponse({"model_file": self.loaded})

        @app.put("/model")
        async def replace(request: Request) -> Response:
            if not allowed(request):
                return JSONResponse({"message": "unauthorized"}, status_code=401)
            self.loaded = (await request.json())["model_file"]
            return Response(status_code=204)

        return app


@pytest.fixture()
def running_rasa(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[FakeRasa, Path]]:
    """A running Rasa whose token only `bot up`'s file holds; no RASA_TOKEN in the environment."""
    models = tmp_path / "models"
    models.mkdir()
    for name in ("old.tar.gz", "new.tar.gz"):
        (models / name).write_bytes(b"model")
    rasa = FakeRasa(str(models / "old.tar.gz")).start()
    rasa_url = f"http://127.0.0.1:{rasa.port}"
    monkeypatch.setattr(supervisor, "RUN_DIR", tmp_path / "run")
    write_token_file(token_file(rasa_url), RUN_TOKEN)
    monkeypatch.delenv("RASA_TOKEN", raising=False)
    monkeypatch.setenv("RASA_URL", rasa_url)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}")
    monkeypatch.setattr(training, "MODELS", models)
    metrics = {"macro_f1": 0.98, "accuracy": 0.98, "per_intent": {}, "predictions": {},
               "conversations_passed": True}  # fmt: skip
    monkeypatch.setattr(model_registry, "evaluate_model", lambda model, out: dict(metrics))
    yield rasa, models
    rasa.stop()


def test_evaluate_deploy_and_rollback_use_the_runs_token_file(
    running_rasa: tuple[FakeRasa, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    rasa, models = running_rasa
    assert cli.cmd_evaluate(Namespace(model=str(models / "new.tar.gz"))) == 0
    assert "new.tar.gz: macro-F1 0.9800" in capsys.readouterr().out
    assert cli.cmd_deploy(Namespace(model="new.tar.gz", override=None)) == 0
    assert Path(rasa.loaded).name == "new.tar.gz"
    assert "new.tar.gz is live (was old.tar.gz)" in capsys.readouterr().out
    assert cli.cmd_rollback(Namespace()) == 0
    assert Path(rasa.loaded).name == "old.tar.gz"
    assert "old.tar.gz is live again (replaced new.tar.gz)" in capsys.readouterr().out
    assert len(rasa.tokens) >= 5 and set(rasa.tokens) == {RUN_TOKEN}


def test_without_the_file_or_a_token_the_command_says_how_to_get_one(
    running_rasa: tuple[FakeRasa, Path], tmp_path: Path
) -> None:
    rasa, _ = running_rasa
    path = token_file(f"http://127.0.0.1:{rasa.port}")
    path.chmod(0o644)  # not a file `bot up` wrote: others could have changed it
    with pytest.raises(SystemExit, match=r"RASA_TOKEN is not set and .*rasa-\d+\.token"):
        cli.cmd_rollback(Namespace())
    path.unlink()
    with pytest.raises(SystemExit, match="start the bot first"):
        cli.cmd_deploy(Namespace(model="new.tar.gz", override=None))
    assert rasa.tokens == []


def test_a_token_set_in_the_environment_wins_over_the_file(
    running_rasa: tuple[FakeRasa, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    rasa, _ = running_rasa
    monkeypatch.setenv("RASA_TOKEN", "another-token-0123456789")
    assert cli.cmd_rollback(Namespace()) == 1  # Rasa refused it: nothing known to go back to
    assert rasa.tokens == ["another-token-0123456789"]


def test_import_transparency_refuses_a_wrong_file_in_spanish_then_imports_the_sample(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.knowledge.transparency import open_transparency
    from bot.ops.preflight import SAMPLE_TRANSPARENCY

    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/gateway.db")
    wrong = tmp_path / "otro.csv"
    wrong.write_text("ANIO;MONTO;CONCEPTO\n2026;100;X\n", encoding="utf-8")
    assert cli.main(["import-transparency", str(wrong), "--fecha-corte", "2026-11-30"]) == 1
    said = capsys.readouterr().err
    assert "error: El archivo no tiene el formato de ejecución presupuestal del MEF" in said
    assert "faltan las columnas MONTO_PIA (PIA), MONTO_PIM (PIM)" in said
    assert "Nada se guardó." in said and not (tmp_path / "transparencia.db").exists()
    assert cli.main(["import-transparency", str(wrong), "--fecha-corte", "30-11-2026"]) == 1
    assert "no es una fecha de corte válida" in capsys.readouterr().err

    assert cli.main(["import-transparency", str(SAMPLE_TRANSPARENCY)]) == 0
    out = capsys.readouterr().out
    assert "100% 125 filas" in out
    assert "transparencia importada: 2 año(s) (2025, 2026) con 5 genérica(s)" in out
    assert out.rstrip().endswith("EJEMPLO INVENTADO, no son cifras de SUNAT")
    with open_transparency(f"sqlite:///{tmp_path}/transparencia.db") as store:
        assert store.years() == [2025, 2026]
