"""Evaluating from the command line: what `evaluate-nlu` and `test-conversations` say and exit
with, Rasa's runs replaced by fakes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.workbench import evaluation

MODEL = Path("models/fake.tar.gz")


def intent_report(macro_f1: float) -> dict[str, Any]:
    """Rasa's intent_report.json, as far as the command reads it."""
    return {
        "saludo": {"precision": 1.0, "recall": 1.0, "f1-score": 1.0, "support": 10},
        "ruc": {"f1-score": 0.9, "support": 8, "confused_with": {"clave_sol": 1}},
        "clave_sol": {"f1-score": 0.8, "support": 5},
        "accuracy": 0.95,
        "macro avg": {"f1-score": macro_f1, "support": 23},
        "weighted avg": {"f1-score": 0.5, "support": 23},
    }


@pytest.fixture()
def rasa_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """Training returns a fixed model; `rasa test nlu` writes a report with macro-F1 0.9."""
    runs: list[tuple[str, ...]] = []
    monkeypatch.setattr(evaluation, "ROOT", tmp_path)
    monkeypatch.setattr(evaluation, "RESULTS", tmp_path / "var" / "results")
    monkeypatch.setattr(evaluation, "train", lambda config="config.yml": MODEL)

    def run_rasa(*args: str, **_: Any) -> int:
        runs.append(args)
        if args[:2] == ("test", "nlu"):
            out = Path(args[args.index("--out") + 1])
            out.mkdir(parents=True, exist_ok=True)
            (out / "intent_report.json").write_text(json.dumps(intent_report(0.9)))
        return 0

    monkeypatch.setattr(evaluation, "run_rasa", run_rasa)
    return runs


def test_weak_intents_are_the_imperfect_ones_weakest_first() -> None:
    assert [name for name, _ in evaluation.weak_intents(intent_report(0.9))] == [
        "clave_sol",
        "ruc",
    ]


@pytest.mark.parametrize(("minimum", "code", "verdict"), [(0.85, 0, "PASS"), (0.95, 1, "FAIL")])
def test_evaluate_nlu_says_the_weak_intents_and_the_verdict(
    rasa_runs: list[tuple[str, ...]],
    capsys: pytest.CaptureFixture[str],
    minimum: float,
    code: int,
    verdict: str,
) -> None:
    assert evaluation.check_nlu("bench/config-diet.yml", minimum) == code
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["clave_sol", "f1=0.800", "support=5", "confused_with={}"]
    assert lines[1].split()[:3] == ["ruc", "f1=0.900", "support=8"]
    assert lines[2] == (
        f"NLU held-out {verdict}: macro-F1 0.9000 (minimum {minimum}), accuracy 0.9500, "
        "report in var/results/nlu-config-diet"
    )
    (run,) = rasa_runs
    assert run[:4] == ("test", "nlu", "--nlu", str(evaluation.HELDOUT))
    assert run[run.index("--model") + 1] == str(MODEL)


def test_a_failed_rasa_test_nlu_stops_the_command(
    rasa_runs: list[tuple[str, ...]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(evaluation, "run_rasa", lambda *args, **_: 3)
    with pytest.raises(SystemExit, match=r"rasa test nlu failed \(exit 3\)"):
        evaluation.check_nlu("config.yml", 0.97)


@pytest.mark.parametrize(("code", "verdict"), [(0, "PASS"), (1, "FAIL")])
def test_conversation_tests_exit_with_rasas_code(
    rasa_runs: list[tuple[str, ...]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    code: int,
    verdict: str,
) -> None:
    def run_rasa(*args: str, **_: Any) -> int:
        rasa_runs.append(args)
        return code

    monkeypatch.setattr(evaluation, "run_rasa", run_rasa)
    assert evaluation.run_conversation_tests() == code
    assert capsys.readouterr().out == (
        f"conversation tests {verdict} (report in var/results/conversations)\n"
    )
    (run,) = rasa_runs
    assert run[:4] == ("test", "core", "--stories", str(evaluation.CONVERSATIONS))
    assert "--fail-on-prediction-errors" in run and "--e2e" in run
