"""Evaluating the assistant from the command line: the NLU on the held-out set
(``evaluate-nlu``), the answers as the engine decides them (``evaluate-answers``), the
conversation tests (``test-conversations``) and a model against the live one (``evaluate``).

The held-out sets and the conversation tests are never trained on. The metrics the model
registry keeps come from :func:`bot.workbench.model_registry.evaluate_model`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.ops.engine_env import run_rasa
from bot.ops.settings import ROOT
from bot.workbench.training import fingerprint, train

if TYPE_CHECKING:
    from bot.conversation.rasa_client import RasaClient
    from bot.workbench.model_registry import ModelRegistry

HELDOUT = ROOT / "heldout" / "heldout.yml"
#: The second held-out set, phrased as outside sources phrase things (never trained on).
HELDOUT_OUTSIDE = ROOT / "heldout" / "heldout_outside.yml"
CONVERSATIONS = ROOT / "heldout" / "conversations"
RESULTS = ROOT / "var" / "results"
#: Rows of Rasa's intent report that are averages, not intents.
_AVERAGES = ("macro avg", "weighted avg", "micro avg")


def evaluate_nlu(config: str, out: Path) -> dict[str, dict[str, float]]:
    """Train (if needed) with ``config`` and evaluate on the held-out file; return the report."""
    model = train(config=config)
    code = run_rasa("test", "nlu", "--nlu", str(HELDOUT), "--model", str(model), "--out", str(out))
    if code != 0:
        raise SystemExit(f"error: rasa test nlu failed (exit {code})")
    report: dict[str, dict[str, float]] = json.loads((out / "intent_report.json").read_text())
    return report


def weak_intents(report: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The intents of Rasa's intent report below a perfect F1, weakest first."""
    return sorted(
        (
            (name, row)
            for name, row in report.items()
            if isinstance(row, dict)
            and "support" in row
            and name not in _AVERAGES
            and row["f1-score"] < 1.0
        ),
        key=lambda item: item[1]["f1-score"],
    )


def check_nlu(config: str, min_f1: float) -> int:
    """``evaluate-nlu``: show the weak intents and the verdict; 0 if macro-F1 ≥ ``min_f1``."""
    out = RESULTS / f"nlu-{Path(config).stem}"
    report = evaluate_nlu(config, out)
    for name, row in weak_intents(report):
        print(
            f"  {name:28} f1={row['f1-score']:.3f} support={row['support']:.0f} "
            f"confused_with={row.get('confused_with', {})}"
        )
    macro = report["macro avg"]["f1-score"]
    verdict = "PASS" if macro >= min_f1 else "FAIL"
    print(
        f"NLU held-out {verdict}: macro-F1 {macro:.4f} (minimum {min_f1}), "
        f"accuracy {report.get('accuracy', 0.0):.4f}, report in {out.relative_to(ROOT)}"
    )
    return 0 if macro >= min_f1 else 1


def report_answers(heldout: Path, config: str, model: Path | None, show: int) -> None:
    """``evaluate-answers``: accuracy, misroutes and clarifications on ``heldout``, decided as
    the engine decides, with and without the knowledge search; the ``show`` commonest misroutes.
    ``model``: a trained model (default: train ``config`` if needed)."""
    from bot.workbench.answer_evaluation import evaluate_file

    model = model or train(config=config)
    report, nlu_only = evaluate_file(heldout, model, config=ROOT / config)
    for (expected, answered), count in report.misroutes().most_common(show):
        print(f"  misrouted {count}× {expected} → {answered}")
    print(f"without the search's second signal: {nlu_only.summary()}")
    print(f"answers on {heldout.name}: {report.summary()}")


def run_conversation_tests() -> int:
    """``test-conversations``: ``rasa test core --fail-on-prediction-errors`` on the current
    data's model; Rasa's exit code."""
    model = train()
    out = RESULTS / "conversations"
    code = run_rasa(
        "test",
        "core",
        "--stories",
        str(CONVERSATIONS),
        "--model",
        str(model),
        "--fail-on-prediction-errors",
        "--e2e",
        "--out",
        str(out),
    )
    print(
        f"conversation tests {'PASS' if code == 0 else 'FAIL'} (report in {out.relative_to(ROOT)})"
    )
    return code


async def evaluate_against_live(registry: ModelRegistry, rasa: RasaClient, model: Path) -> int:
    """``evaluate``: evaluate ``model`` on the held-out set and the conversation tests, the live
    model too if it never was, record both and say how ``model`` compares with the live one."""
    from bot.workbench.model_registry import EVALUATIONS, compare, evaluate_model, sync_live

    live = await sync_live(registry, rasa)
    print(f"evaluating {model.name} (held-out set and conversation tests)", flush=True)
    metrics = evaluate_model(model, EVALUATIONS / model.name.removesuffix(".tar.gz"))
    live_metrics = live.metrics if live is not None and live.file != model.name else None
    if live is not None and live.file != model.name and not live_metrics:
        print(f"evaluating the live model {live.file}", flush=True)
        live_metrics = evaluate_model(
            registry.path(live), EVALUATIONS / live.file.removesuffix(".tar.gz")
        )
        await registry.record(live.file, live.data_hash, live.created_by, live_metrics)
    metrics["comparison"] = compare(metrics, live_metrics)
    await registry.record(model.name, fingerprint(), "cli", metrics)
    result = metrics["comparison"]
    print(
        f"{model.name}: macro-F1 {metrics['macro_f1']:.4f}, accuracy "
        f"{metrics['accuracy']:.4f}, conversation tests "
        f"{'pass' if metrics.get('conversations_passed') else 'FAIL'}; against the live "
        f"model: {result['verdict']} ({len(result['changed'])} predictions changed)"
    )
    return 0
