"""The admin workbench's API (``/api/admin/…``): the review inbox and its annotation, training
jobs, the model registry, evaluation, deploy and rollback; it includes the knowledge-base
editor (:mod:`bot.workbench.articles_api`) and the project zip (:mod:`bot.workbench.project_api`).

Shares the console's sessions, roles and audit log (the ``admin`` role; :mod:`bot.web.deps`);
refusals are answered by bot/web/errors.py. Annotations are
written into the training files (:mod:`bot.workbench.training_data`, personal data as placeholders);
a training picks them up. Whatever writes the project's files (annotations, article edits, zip
uploads, restores) takes turns through the editor's lock, and a zip upload keeps the previous
project as a version that can be restored (:mod:`bot.workbench.project_versions`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse, PlainTextResponse
from pydantic import BaseModel, Field

from bot.accounts.agents import Role
from bot.conversation.rasa_client import EngineUnavailable, RasaClient
from bot.knowledge.personal_data import mask
from bot.web.deps import (
    ROW_ID_MAX,
    AppSettings,
    Audit,
    ConsoleError,
    Current,
    Knowledge,
    Rasa,
    RowId,
    from_state,
    require,
)
from bot.workbench import articles_api as workbench_articles
from bot.workbench import project_api as workbench_project
from bot.workbench.articles_api import Editor
from bot.workbench.inbox import (
    ANNOTATED,
    DISMISSED,
    OPEN,
    OUT_OF_SCOPE,
    OUT_OF_SCOPE_INTENT,
    SPAM,
    InboxStore,
    group_key,
)
from bot.workbench.model_registry import ModelInfo, ModelRegistry, deploy, sync_live
from bot.workbench.training_data import TrainingData
from bot.workbench.training_jobs import CROSS_VALIDATION, TrainingJobs

#: Groups shown with the live model's current prediction (one parse each).
PREDICTED_GROUPS = 50

#: The review inbox.
Inbox = Annotated[InboxStore, Depends(from_state("inbox"))]
#: The training files (``data/nlu``, the domain).
Training = Annotated[TrainingData, Depends(from_state("training_data"))]
#: The training and cross-validation jobs.
Jobs = Annotated[TrainingJobs, Depends(from_state("training_jobs"))]
#: The model registry.
Models = Annotated[ModelRegistry, Depends(from_state("models"))]

router = APIRouter(tags=["admin workbench"])


class Annotation(BaseModel):
    items: list[Annotated[int, Field(ge=1, le=ROW_ID_MAX)]] = Field(min_length=1, max_length=2000)
    action: Literal["intent", "out_of_scope", "spam", "dismiss"]
    intent: str | None = Field(default=None, max_length=64)


class NewIntent(BaseModel):
    items: list[Annotated[int, Field(ge=1, le=ROW_ID_MAX)]] = Field(min_length=1, max_length=2000)
    intent: str = Field(max_length=64)
    title: str = Field(min_length=1, max_length=120)
    answer: str = Field(min_length=1, max_length=4000)
    source_name: str = Field(default="SUNAT", max_length=120)
    source_url: str = Field(max_length=300)
    extra_examples: list[str] = Field(default_factory=list, max_length=200)


@router.get("/api/admin/inbox")
async def inbox(
    session: Current,
    store: Inbox,
    rasa: Rasa,
    audit: Audit,
    status: Annotated[str, Query(pattern="^(open|annotated|out_of_scope|spam|dismissed)$")] = OPEN,
    q: Annotated[str, Query(max_length=200)] = "",
    channel: Annotated[str | None, Query(max_length=32)] = None,
    days: Annotated[int | None, Query(ge=1, le=365)] = None,
    source: Annotated[str | None, Query(pattern="^(clarification|feedback)$")] = None,
    show_personal_data: bool = False,
) -> dict[str, Any]:
    """Misunderstood messages (clarifications, fallbacks, 👎 on answers) grouped by
    near-duplicate text, with counts, channels, dates, what the model guessed then and predicts
    now. Personal data masked unless asked for."""
    require(session, Role.ADMIN)
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=days) if days else None
    groups = await store.groups(status, q, channel, since, source=source)

    async def predict(text: str) -> list[dict[str, Any]]:
        try:
            parsed = await rasa.parse(text)
        except EngineUnavailable:
            return []
        ranking = parsed.get("intent_ranking") or []
        return [
            {"name": r.get("name"), "confidence": round(float(r.get("confidence") or 0), 4)}
            for r in ranking[:3]
        ]

    shown = groups[:500]
    predictions = await asyncio.gather(*(predict(g.text) for g in shown[:PREDICTED_GROUPS]))
    if show_personal_data:
        await audit.record(
            session.agent.username, "inbox_personal_data_shown", actor_id=session.agent.id
        )
    items = []
    for index, group in enumerate(shown):
        item = group.public(group.text if show_personal_data else mask(group.text))
        item["predicted"] = predictions[index] if index < len(predictions) else None
        items.append(item)
    return {"counts": await store.counts(), "groups": items}


@router.get("/api/admin/intents")
async def intents(session: Current, data: Training, knowledge: Knowledge) -> list[dict[str, Any]]:
    """The intents an example can be assigned to, with how many examples each has."""
    require(session, Role.ADMIN)
    examples = data.examples_by_intent()
    kb = knowledge.current
    return [
        {
            "name": name,
            "examples": len(examples.get(name, [])),
            "title": found.title if (found := kb.get(name)) is not None else None,
        }
        for name in data.intents()
    ]


@router.post("/api/admin/inbox/annotate")
async def annotate(
    body: Annotation,
    session: Current,
    store: Inbox,
    data: Training,
    editor: Editor,
    audit: Audit,
) -> dict[str, Any]:
    """Assign the items (one example per distinct text) to an intent, or mark them out of
    scope (they teach ``fuera_de_alcance``), spam or dismissed. Bulk: many items at once.
    RUCs, DNIs, phone numbers and e-mail addresses are written as fixed placeholders."""
    require(session, Role.ADMIN)
    texts = await store.texts(body.items)
    if not texts:
        raise ConsoleError(404, "not_found", "No existen esos mensajes.")
    status = {
        "intent": ANNOTATED,
        "out_of_scope": OUT_OF_SCOPE,
        "spam": SPAM,
        "dismiss": DISMISSED,
    }[body.action]
    label = None
    plan_problems: list[dict[str, str]] = []
    if body.action in ("intent", "out_of_scope"):
        label = OUT_OF_SCOPE_INTENT if body.action == "out_of_scope" else body.intent
        if not label:
            raise ConsoleError(422, "missing_intent", "Elige la intención.")
        distinct: dict[str, str] = {}
        for text in texts.values():
            distinct.setdefault(group_key(text), text)
        async with editor.writing:
            plan = data.add_examples([(t, label) for t in distinct.values()])
        plan_problems = [
            {"kind": p.kind, "text": mask(p.text), "intent": p.existing_intent}
            for p in plan.problems
        ]
    decided = await store.decide(list(texts), status, label, session.agent.id)
    await audit.record(
        session.agent.username,
        "inbox_annotated",
        actor_id=session.agent.id,
        items=len(texts),
        status=status,
        intent=label,
    )
    return {"decided": decided, "status": status, "intent": label, "problems": plan_problems}


@router.post("/api/admin/inbox/new-intent", status_code=201)
async def new_intent(
    body: NewIntent,
    session: Current,
    store: Inbox,
    data: Training,
    editor: Editor,
    audit: Audit,
) -> dict[str, Any]:
    """A new intent from inbox items, with its knowledge-base article (source and review date
    required); the items are annotated with it."""
    require(session, Role.ADMIN)
    texts = await store.texts(body.items)
    if not texts:
        raise ConsoleError(404, "not_found", "No existen esos mensajes.")
    distinct: dict[str, str] = {}
    for text in [*texts.values(), *body.extra_examples]:
        distinct.setdefault(group_key(text), text)
    async with editor.writing:
        data.add_intent(
            body.intent,
            list(distinct.values()),
            body.title,
            body.answer,
            body.source_name,
            body.source_url,
            dt.date.today(),
        )
    decided = await store.decide(list(texts), ANNOTATED, body.intent, session.agent.id)
    await audit.record(
        session.agent.username,
        "intent_created",
        actor_id=session.agent.id,
        intent=body.intent,
        examples=len(distinct),
    )
    return {"intent": body.intent, "examples": len(distinct), "decided": decided}


# --- train, evaluate, deploy ----------------------------------------------------------------------


class DeployBody(BaseModel):
    override_reason: str | None = Field(default=None, max_length=500)


async def _make_live(
    registry: ModelRegistry,
    rasa: RasaClient,
    model: ModelInfo,
    author: str,
    max_drop: float,
    override: str | None,
) -> ModelInfo | None:
    """:func:`deploy`, and the model it replaced; Rasa failing to load it is a 503."""
    try:
        return await deploy(registry, rasa, model, author, max_drop, override)
    except EngineUnavailable as exc:
        raise ConsoleError(
            503, "engine_unavailable", "Rasa no cargó el modelo: intenta de nuevo."
        ) from exc


@router.post("/api/admin/training", status_code=202)
async def start_training(session: Current, jobs: Jobs, audit: Audit) -> dict[str, Any]:
    """Queue a training (one runs at a time, in its own process; the live model keeps
    answering). Follow it with ``GET /api/admin/training/{id}``."""
    require(session, Role.ADMIN)
    job_id = await jobs.submit(session.agent.username)
    await audit.record(
        session.agent.username, "training_started", actor_id=session.agent.id, job=job_id
    )
    job = await jobs.get(job_id)
    assert job is not None
    return job


@router.post("/api/admin/cross-validation", status_code=202)
async def start_cross_validation(session: Current, jobs: Jobs, audit: Audit) -> dict[str, Any]:
    """Queue a cross-validation of the current training data (3 folds), on demand: its result
    (macro-F1, accuracy) is on the job when it is done."""
    require(session, Role.ADMIN)
    job_id = await jobs.submit(session.agent.username, CROSS_VALIDATION)
    await audit.record(
        session.agent.username, "cross_validation_started", actor_id=session.agent.id, job=job_id
    )
    job = await jobs.get(job_id)
    assert job is not None
    return job


@router.get("/api/admin/training")
async def trainings(session: Current, jobs: Jobs) -> list[dict[str, Any]]:
    require(session, Role.ADMIN)
    return await jobs.all()


@router.get("/api/admin/training/{job_id}")
async def training(job_id: RowId, session: Current, jobs: Jobs) -> dict[str, Any]:
    """A job's stage and progress (components trained, seconds left)."""
    require(session, Role.ADMIN)
    job = await jobs.get(job_id)
    if job is None:
        raise ConsoleError(404, "not_found", "No existe ese entrenamiento.")
    return job


@router.get("/api/admin/training/{job_id}/log", response_class=PlainTextResponse)
async def training_log(job_id: RowId, session: Current, jobs: Jobs) -> str:
    require(session, Role.ADMIN)
    path = jobs.log_path(job_id)
    if not path.exists():
        raise ConsoleError(404, "not_found", "Ese entrenamiento no tiene registro.")
    return path.read_text(encoding="utf-8", errors="replace")[-200_000:]


@router.get("/api/admin/models")
async def models(session: Current, registry: Models, rasa: Rasa) -> list[dict[str, Any]]:
    """Every model: when, who, the data hash, the metrics, which one is live."""
    require(session, Role.ADMIN)
    await sync_live(registry, rasa)
    return [m.public() for m in await registry.all()]


@router.get("/api/admin/models/{model_id}")
async def model_detail(model_id: RowId, session: Current, registry: Models) -> dict[str, Any]:
    """A model's evaluation against the live model: better / worse / same with the numbers,
    per-intent precision, recall and F1, the examples whose prediction changed."""
    require(session, Role.ADMIN)
    model = await registry.get(model_id)
    if model is None:
        raise ConsoleError(404, "not_found", "No existe ese modelo.")
    metrics = model.metrics or {}
    return {
        **model.public(),
        "comparison": metrics.get("comparison"),
        "per_intent": metrics.get("per_intent"),
        "has_confusion_matrix": Path(str(metrics.get("confusion_matrix", ""))).is_file(),
    }


@router.get("/api/admin/models/{model_id}/confusion.png")
async def confusion_matrix(model_id: RowId, session: Current, registry: Models) -> FileResponse:
    require(session, Role.ADMIN)
    model = await registry.get(model_id)
    picture = Path(str((model.metrics or {}).get("confusion_matrix", ""))) if model else None
    if picture is None or not picture.is_file():
        raise ConsoleError(404, "not_found", "Ese modelo no tiene matriz de confusión.")
    return FileResponse(picture, media_type="image/png")


@router.post("/api/admin/models/{model_id}/deploy")
async def deploy_model(
    model_id: RowId,
    body: DeployBody,
    session: Current,
    registry: Models,
    rasa: Rasa,
    settings: AppSettings,
    audit: Audit,
) -> dict[str, Any]:
    """Make the model live through Rasa's ``PUT /model`` (no request fails during the swap).
    Refused when it is worse than the live one beyond the allowed margin, unless a reason for
    the override is given (recorded in the audit log)."""
    require(session, Role.ADMIN)
    model = await registry.get(model_id)
    if model is None:
        raise ConsoleError(404, "not_found", "No existe ese modelo.")
    override = (body.override_reason or "").strip() or None
    previous = await _make_live(
        registry, rasa, model, session.agent.username, settings.deploy_max_f1_drop, override
    )
    await audit.record(
        session.agent.username,
        "model_deployed",
        actor_id=session.agent.id,
        model=model.file,
        previous=previous.file if previous else None,
        override=override,
    )
    live = await registry.get(model_id)
    assert live is not None
    return live.public()


@router.post("/api/admin/models/rollback")
async def rollback(session: Current, registry: Models, rasa: Rasa, audit: Audit) -> dict[str, Any]:
    """Back to the model that was live before (one action)."""
    require(session, Role.ADMIN)
    await sync_live(registry, rasa)
    previous = await registry.previous()
    if previous is None:
        raise ConsoleError(409, "nothing_to_roll_back", "No hay un modelo anterior al que volver.")
    replaced = await _make_live(registry, rasa, previous, session.agent.username, 1.0, "rollback")
    await audit.record(
        session.agent.username,
        "model_rolled_back",
        actor_id=session.agent.id,
        model=previous.file,
        replaced=replaced.file if replaced else None,
    )
    live = await registry.get(previous.id)
    assert live is not None
    return live.public()


# The knowledge-base editor and the project as a zip, each in its own module.
router.include_router(workbench_articles.router)
router.include_router(workbench_project.router)
