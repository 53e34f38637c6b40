"""Trainings started from the workbench: one at a time, in separate processes, while the live
model keeps answering. Each job checks the data (``rasa data validate``), trains, evaluates the
new model on the held-out set and the conversation tests, compares it with the live model and
records it in the registry. Progress (stage, components trained, time left) is kept on the job;
the full output goes to ``var/jobs/<id>.log``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.conversation.rasa_client import RasaClient
from bot.ops.engine_env import background_priority, engine_bin, engine_environ
from bot.ops.settings import ROOT
from bot.storage.tables import TrainingJob
from bot.storage.time import aware, utcnow
from bot.workbench.model_registry import (
    EVALUATIONS,
    ModelRegistry,
    compare,
    evaluate_model,
    sync_live,
)
from bot.workbench.training import fingerprint, model_path

logger = logging.getLogger(__name__)

JOBS_DIR = ROOT / "var" / "jobs"
QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"
TRAIN, CROSS_VALIDATION = "train", "cross_validation"
#: Folds of a cross-validation run on demand.
FOLDS = 3
_TRAINED = re.compile(r"\[\s*([\d.]+) s\] (trained|cached) (\S+)")
#: Components a training reports, until a first job has measured it.
DEFAULT_STEPS = 12
COLUMNS = tuple(TrainingJob.__table__.c)


def _iso(moment: Any) -> str | None:
    found = aware(moment)
    return found.isoformat() if found is not None else None


def _public(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "requested_by": row.requested_by,
        "requested_at": (aware(row.requested_at) or utcnow()).isoformat(),
        "started_at": _iso(row.started_at),
        "finished_at": _iso(row.finished_at),
        "status": row.status,
        "stage": row.stage,
        "progress": row.progress or {},
        "model_id": row.model_id,
        "error": row.error,
    }


class TrainingJobs:
    def __init__(
        self,
        engine: AsyncEngine,
        registry: ModelRegistry,
        project: Path = ROOT,
        rasa: RasaClient | None = None,
    ) -> None:
        self._engine = engine
        self._rasa = rasa
        self._project = project
        self._registry = registry
        self._wake = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self._expected_steps = DEFAULT_STEPS

    async def start(self) -> None:
        """Jobs interrupted by a restart are failed (their output is kept); queued ones run."""
        async with self._engine.begin() as db:
            await db.execute(
                update(TrainingJob)
                .where(TrainingJob.status == RUNNING)
                .values(status=FAILED, finished_at=utcnow(), error="interrumpido por un reinicio")
            )
        self._runner = asyncio.create_task(self._run_forever())

    async def close(self) -> None:
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner

    async def submit(self, requested_by: str, kind: str = TRAIN) -> int:
        async with self._engine.begin() as db:
            job_id = await db.scalar(
                insert(TrainingJob)
                .values(
                    kind=kind,
                    requested_by=requested_by,
                    requested_at=utcnow(),
                    status=QUEUED,
                    stage="en cola",
                    progress={},
                )
                .returning(TrainingJob.id)
            )
        self._wake.set()
        return int(job_id or 0)

    async def get(self, job_id: int) -> dict[str, Any] | None:
        async with self._engine.connect() as db:
            row = (await db.execute(select(*COLUMNS).where(TrainingJob.id == job_id))).first()
        return _public(row) if row is not None else None

    async def all(self, limit: int = 50) -> list[dict[str, Any]]:
        async with self._engine.connect() as db:
            rows = (
                await db.execute(select(*COLUMNS).order_by(TrainingJob.id.desc()).limit(limit))
            ).all()
        return [_public(r) for r in rows]

    def log_path(self, job_id: int) -> Path:
        """Per database and project: job ids restart with each database."""
        key = hashlib.sha256(f"{self._engine.url}|{self._project}".encode()).hexdigest()[:12]
        return JOBS_DIR / key / f"{job_id}.log"

    async def _set(self, job_id: int, **values: Any) -> None:
        async with self._engine.begin() as db:
            await db.execute(update(TrainingJob).where(TrainingJob.id == job_id).values(**values))

    async def _next(self) -> int | None:
        async with self._engine.connect() as db:
            return await db.scalar(
                select(TrainingJob.id)
                .where(TrainingJob.status == QUEUED)
                .order_by(TrainingJob.id)
                .limit(1)
            )

    async def _run_forever(self) -> None:
        while True:
            job_id = await self._next()
            if job_id is None:
                self._wake.clear()
                await self._wake.wait()
                continue
            try:
                job = await self.get(job_id)
                if job is not None and job["kind"] == CROSS_VALIDATION:
                    await self._cross_validate(job_id)
                else:
                    await self._run(job_id)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.exception("training job %s failed", job_id)
                await self._set(job_id, status=FAILED, finished_at=utcnow(), error=str(exc)[:2000])

    async def _run(self, job_id: int) -> None:
        self.log_path(job_id).parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        await self._set(job_id, status=RUNNING, started_at=utcnow(), stage="validando datos")
        log = self.log_path(job_id).open("w", encoding="utf-8")
        try:
            code = await self._stream(
                [str(engine_bin("rasa")), "data", "validate", "--fail-on-warnings"], log
            )
            if code != 0:
                await self._set(
                    job_id,
                    status=FAILED,
                    finished_at=utcnow(),
                    stage="validando datos",
                    error="rasa data validate encontró problemas: revisa el registro",
                )
                return
            target = model_path(root=self._project)
            await self._set(
                job_id, stage="entrenando", progress={"steps": 0, "expected": self._expected_steps}
            )
            steps = 0
            train_started = time.monotonic()

            async def on_line(line: str) -> None:
                nonlocal steps
                if _TRAINED.search(line):
                    steps += 1
                    elapsed = time.monotonic() - train_started
                    expected = max(self._expected_steps, steps + 1)
                    left = elapsed / steps * (expected - steps)
                    await self._set(
                        job_id,
                        progress={
                            "steps": steps,
                            "expected": expected,
                            "component": line.split()[-1],
                            "seconds_left": round(left),
                        },
                    )

            command = [sys.executable, "-m", "bot", "train", "--project", str(self._project)]
            code = await self._stream(command, log, on_line)
            if code != 0 or not target.exists():
                await self._set(
                    job_id,
                    status=FAILED,
                    finished_at=utcnow(),
                    error=f"el entrenamiento falló (código {code})",
                )
                return
            if steps:
                self._expected_steps = steps
            await self._set(job_id, stage="evaluando el modelo nuevo")
            out = EVALUATIONS / target.name.removesuffix(".tar.gz")
            metrics = await asyncio.to_thread(evaluate_model, target, out)
            live = (
                await sync_live(self._registry, self._rasa)
                if self._rasa is not None
                else await self._registry.live()
            )
            live_metrics = live.metrics if live is not None else None
            if live is not None and (not live_metrics or "predictions" not in live_metrics):
                await self._set(job_id, stage="evaluando el modelo en uso")
                live_metrics = await asyncio.to_thread(
                    evaluate_model,
                    self._registry.path(live),
                    EVALUATIONS / live.file.removesuffix(".tar.gz"),
                )
                await self._registry.record(
                    live.file, live.data_hash, live.created_by, live_metrics
                )
            metrics["comparison"] = compare(metrics, live_metrics)
            requested = await self.get(job_id)
            model = await self._registry.record(
                target.name,
                fingerprint(self._project),
                (requested or {}).get("requested_by", "?"),
                metrics,
            )
            await self._set(
                job_id,
                status=SUCCEEDED,
                finished_at=utcnow(),
                stage="listo",
                model_id=model.id,
                progress={
                    "steps": steps,
                    "expected": steps,
                    "seconds_left": 0,
                    "seconds": round(time.monotonic() - started),
                },
            )
        finally:
            log.close()

    async def _cross_validate(self, job_id: int) -> None:
        """Macro-F1 over folds of the training data itself (``rasa test nlu
        --cross-validation``): how the current data would fare, beyond the held-out set."""
        self.log_path(job_id).parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        await self._set(
            job_id,
            status=RUNNING,
            started_at=utcnow(),
            stage=f"validación cruzada ({FOLDS} particiones)",
        )
        out = EVALUATIONS / f"cross-validation-{job_id}"
        with self.log_path(job_id).open("w", encoding="utf-8") as log:
            command = [
                str(engine_bin("rasa")),
                "test",
                "nlu",
                "--nlu",
                "data/nlu",
                "--config",
                "config.yml",
                "--cross-validation",
                "--folds",
                str(FOLDS),
                "--out",
                str(out),
            ]
            code = await self._stream(command, log)
        report_path = out / "intent_report.json"
        if code != 0 or not report_path.exists():
            await self._set(
                job_id,
                status=FAILED,
                finished_at=utcnow(),
                error=f"la validación cruzada falló (código {code})",
            )
            return
        import json

        report = json.loads(report_path.read_text(encoding="utf-8"))
        await self._set(
            job_id,
            status=SUCCEEDED,
            finished_at=utcnow(),
            stage="listo",
            progress={
                "folds": FOLDS,
                "macro_f1": round(report["macro avg"]["f1-score"], 4),
                "accuracy": round(float(report.get("accuracy", 0.0)), 4),
                "seconds": round(time.monotonic() - started),
            },
        )

    async def _stream(self, command: list[str], log: Any, on_line: Any = None) -> int:
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=self._project,
            env=engine_environ(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            preexec_fn=background_priority,
        )
        assert process.stdout is not None
        async for raw in process.stdout:
            line = raw.decode("utf-8", "replace")
            log.write(line)
            log.flush()
            if on_line is not None:
                await on_line(line)
        return await process.wait()
