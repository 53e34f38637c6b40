"""Models the workbench trained: their metrics on the held-out set, the comparison with the live
model, and deploying or rolling back through Rasa's ``PUT /model``.

A model is deployed only when its held-out macro-F1 is not worse than the live model's by more
than ``DEPLOY_MAX_F1_DROP``; an admin may override, and the override is audited.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.conversation.rasa_client import EngineUnavailable, RasaClient
from bot.ops.engine_env import run_rasa
from bot.ops.settings import ROOT
from bot.storage.tables import ModelRow
from bot.storage.time import aware, utcnow
from bot.workbench.evaluation import CONVERSATIONS, HELDOUT

EVALUATIONS = ROOT / "var" / "results" / "models"
TRAINED, LIVE, RETIRED = "trained", "live", "retired"
#: Differences in macro-F1 smaller than this are "the same".
SAME_WITHIN = 0.005


@dataclass(frozen=True)
class ModelInfo:
    id: int
    file: str
    data_hash: str
    created_at: dt.datetime
    created_by: str
    status: str
    metrics: dict[str, Any] | None
    deployed_at: dt.datetime | None
    deployed_by: str | None

    @property
    def macro_f1(self) -> float | None:
        value = (self.metrics or {}).get("macro_f1")
        return float(value) if value is not None else None

    def public(self) -> dict[str, Any]:
        metrics = self.metrics or {}
        return {
            "id": self.id,
            "file": self.file,
            "data_hash": self.data_hash,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "status": self.status,
            "macro_f1": metrics.get("macro_f1"),
            "accuracy": metrics.get("accuracy"),
            "conversations_passed": metrics.get("conversations_passed"),
            "deployed_at": self.deployed_at.isoformat() if self.deployed_at else None,
            "deployed_by": self.deployed_by,
        }


def _info(row: Any) -> ModelInfo:
    return ModelInfo(
        row.id,
        row.file,
        row.data_hash,
        aware(row.created_at) or utcnow(),
        row.created_by,
        row.status,
        row.metrics,
        aware(row.deployed_at),
        row.deployed_by,
    )


COLUMNS = tuple(ModelRow.__table__.c)


class ModelRegistry:
    def __init__(self, engine: AsyncEngine, models_dir: Path) -> None:
        self._engine = engine
        self.models_dir = models_dir

    def path(self, model: ModelInfo) -> Path:
        return self.models_dir / model.file

    async def record(
        self, file: str, data_hash: str, created_by: str, metrics: dict[str, Any] | None
    ) -> ModelInfo:
        """Add a model (or update the metrics of one already known by its file)."""
        async with self._engine.begin() as db:
            found = (await db.execute(select(*COLUMNS).where(ModelRow.file == file))).first()
            if found is None:
                await db.execute(
                    insert(ModelRow).values(
                        file=file,
                        data_hash=data_hash,
                        created_at=utcnow(),
                        created_by=created_by,
                        status=TRAINED,
                        metrics=metrics,
                    )
                )
            elif metrics is not None:
                await db.execute(
                    update(ModelRow).where(ModelRow.file == file).values(metrics=metrics)
                )
            row = (await db.execute(select(*COLUMNS).where(ModelRow.file == file))).one()
        return _info(row)

    async def all(self) -> list[ModelInfo]:
        async with self._engine.connect() as db:
            rows = (await db.execute(select(*COLUMNS).order_by(ModelRow.id.desc()))).all()
        return [_info(r) for r in rows]

    async def get(self, model_id: int) -> ModelInfo | None:
        async with self._engine.connect() as db:
            row = (await db.execute(select(*COLUMNS).where(ModelRow.id == model_id))).first()
        return _info(row) if row is not None else None

    async def by_file(self, file: str) -> ModelInfo | None:
        async with self._engine.connect() as db:
            row = (await db.execute(select(*COLUMNS).where(ModelRow.file == file))).first()
        return _info(row) if row is not None else None

    async def live(self) -> ModelInfo | None:
        async with self._engine.connect() as db:
            row = (await db.execute(select(*COLUMNS).where(ModelRow.status == LIVE))).first()
        return _info(row) if row is not None else None

    async def previous(self) -> ModelInfo | None:
        """The model that was live before the current one (what a rollback deploys)."""
        async with self._engine.connect() as db:
            row = (
                await db.execute(
                    select(*COLUMNS)
                    .where(ModelRow.status == RETIRED, ModelRow.deployed_at.is_not(None))
                    .order_by(ModelRow.deployed_at.desc())
                )
            ).first()
        return _info(row) if row is not None else None

    async def mark_live(self, model_id: int, by: str) -> None:
        async with self._engine.begin() as db:
            await db.execute(update(ModelRow).where(ModelRow.status == LIVE).values(status=RETIRED))
            await db.execute(
                update(ModelRow)
                .where(ModelRow.id == model_id)
                .values(status=LIVE, deployed_at=utcnow(), deployed_by=by)
            )


# --- evaluation ----------------------------------------------------------------------------------


def evaluate_model(model: Path, out: Path, conversations: bool = True) -> dict[str, Any]:
    """Held-out metrics of ``model`` (per intent, macro-F1, each example's prediction, the
    confusion matrix as a picture) and, optionally, whether the conversation tests pass."""
    out.mkdir(parents=True, exist_ok=True)
    code = run_rasa(
        "test",
        "nlu",
        "--nlu",
        str(HELDOUT),
        "--model",
        str(model),
        "--out",
        str(out),
        "--successes",
        quiet=True,
        background=True,
    )
    if code != 0:
        raise RuntimeError(f"rasa test nlu failed (exit {code})")
    report = json.loads((out / "intent_report.json").read_text(encoding="utf-8"))
    predictions: dict[str, dict[str, Any]] = {}
    for name in ("intent_successes.json", "intent_errors.json"):
        path = out / name
        if path.exists():
            for entry in json.loads(path.read_text(encoding="utf-8")):
                predictions[entry["text"]] = {
                    "expected": entry["intent"],
                    "predicted": (entry.get("intent_prediction") or {}).get("name"),
                }
    per_intent = {
        name: {
            "precision": round(row["precision"], 4),
            "recall": round(row["recall"], 4),
            "f1": round(row["f1-score"], 4),
            "support": int(row["support"]),
        }
        for name, row in report.items()
        if isinstance(row, dict) and "support" in row and not name.endswith(" avg")
    }
    metrics: dict[str, Any] = {
        "macro_f1": round(report["macro avg"]["f1-score"], 4),
        "accuracy": round(float(report.get("accuracy", 0.0)), 4),
        "per_intent": per_intent,
        "predictions": predictions,
        "confusion_matrix": str(out / "intent_confusion_matrix.png"),
    }
    if conversations:
        passed = run_rasa(
            "test",
            "core",
            "--stories",
            str(CONVERSATIONS),
            "--model",
            str(model),
            "--fail-on-prediction-errors",
            "--e2e",
            "--out",
            str(out / "conversations"),
            quiet=True,
            background=True,
        )
        metrics["conversations_passed"] = passed == 0
    return metrics


def compare(new: dict[str, Any], live: dict[str, Any] | None) -> dict[str, Any]:
    """The new model against the live one: better / worse / same, with the numbers."""
    if live is None:
        return {
            "verdict": "first",
            "macro_f1": {"new": new["macro_f1"], "live": None},
            "per_intent": [],
            "changed": [],
        }
    delta = round(new["macro_f1"] - live["macro_f1"], 4)
    verdict = "same" if abs(delta) < SAME_WITHIN else "better" if delta > 0 else "worse"
    intents = sorted(set(new["per_intent"]) | set(live.get("per_intent", {})))
    per_intent = []
    for name in intents:
        n = new["per_intent"].get(name, {})
        old = live.get("per_intent", {}).get(name, {})
        per_intent.append(
            {
                "intent": name,
                "new": n,
                "live": old,
                "delta_f1": round(n.get("f1", 0.0) - old.get("f1", 0.0), 4),
            }
        )
    changed = []
    old_predictions = live.get("predictions", {})
    for text, now in new.get("predictions", {}).items():
        before = old_predictions.get(text)
        if before is not None and before["predicted"] != now["predicted"]:
            changed.append(
                {
                    "text": text,
                    "expected": now["expected"],
                    "live": before["predicted"],
                    "new": now["predicted"],
                }
            )
    return {
        "verdict": verdict,
        "macro_f1": {"new": new["macro_f1"], "live": live["macro_f1"], "delta": delta},
        "accuracy": {"new": new.get("accuracy"), "live": live.get("accuracy")},
        "conversations_passed": new.get("conversations_passed"),
        "per_intent": per_intent,
        "changed": changed,
    }


# --- deploying -----------------------------------------------------------------------------------


class DeployRefused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


async def sync_live(registry: ModelRegistry, rasa: RasaClient) -> ModelInfo | None:
    """The registry's live model; the one Rasa has loaded is recorded if the registry does not
    know it yet (a model started by ``bot up``)."""
    live = await registry.live()
    try:
        loaded = await rasa.loaded_model()
    except EngineUnavailable:
        return live
    if loaded is None or (live is not None and live.file == loaded):
        return live
    known = await registry.by_file(loaded) or await registry.record(
        loaded, loaded.removesuffix(".tar.gz"), "bot up", None
    )
    await registry.mark_live(known.id, "bot up")
    return await registry.get(known.id)


async def deploy(
    registry: ModelRegistry,
    rasa: RasaClient,
    model: ModelInfo,
    by: str,
    max_drop: float,
    override: str | None = None,
) -> ModelInfo | None:
    """Make ``model`` live through Rasa's ``PUT /model``. Refused when it is worse than the
    live model by more than ``max_drop`` macro-F1, unless ``override`` gives a reason."""
    live = await sync_live(registry, rasa)
    if live is not None and live.id == model.id:
        raise DeployRefused("already_live", "Ese modelo ya está en uso.")
    if not registry.path(model).exists():
        raise DeployRefused("missing_file", f"No se encuentra el archivo {model.file}.")
    new, old = model.macro_f1, live.macro_f1 if live is not None else None
    if new is None and not override:
        raise DeployRefused("not_evaluated", "El modelo no tiene evaluación: evalúalo primero.")
    if new is not None and old is not None and new < old - max_drop and not override:
        raise DeployRefused(
            "worse",
            f"El modelo nuevo es peor: macro-F1 {new:.3f} frente a {old:.3f} del modelo en uso "
            f"(se admite una baja de hasta {max_drop:.3f}). Para desplegarlo igual, indica el "
            "motivo.",
        )
    await rasa.replace_model(registry.path(model))
    await registry.mark_live(model.id, by)
    return live
