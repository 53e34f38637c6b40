"""The workbench's project zip (``/api/admin/project.zip``) and its kept versions
(``/api/admin/project/versions…``).

An upload is checked whole (:mod:`bot.workbench.project_archive`: paths, sizes, damaged entries, the
structure Rasa requires, valid articles); a refused zip is a 400 whose message and problems name
the files. Accepted, the project as it was is kept as a version, the changed files are written
all or none, and every article the upload changes keeps its previous text as an article version.
A kept version can be listed, downloaded and restored (atomically too, after keeping the state
it replaces). Uploads, restores, article edits and annotations take turns (the editor's
``writing`` lock). Admins only.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import FileResponse, Response

from bot.accounts.agents import Role, Session
from bot.knowledge.articles import KnowledgeStore
from bot.ops.settings import Settings
from bot.web.deps import AppSettings, Audit, ConsoleError, Current, Knowledge, require
from bot.workbench import project_archive
from bot.workbench.article_editor import KnowledgeEditor
from bot.workbench.articles_api import Editor
from bot.workbench.project_archive import ArchiveError, Upload
from bot.workbench.project_versions import (
    VERSION_ID,
    ProjectVersion,
    ProjectVersions,
)

router = APIRouter(tags=["admin workbench"])

VersionId = Annotated[
    str, Path(pattern=VERSION_ID.pattern, description="e.g. 20261201-101500-123456")
]


def _versions(settings: Settings) -> ProjectVersions:
    return ProjectVersions(settings.project_dir, settings.knowledge_dir)


async def _write(
    versions: ProjectVersions,
    editor: KnowledgeEditor,
    knowledge: KnowledgeStore,
    session: Session,
    upload: Upload,
    reason: str,
) -> ProjectVersion | None:
    """Keep the project as it is, write the upload's changes (all or none), keep the texts of
    the articles it changes. ``None`` when nothing changes."""
    if not upload.changes:
        return None
    try:
        kept = await asyncio.to_thread(versions.replace, upload, session.agent.username, reason)
    except OSError as exc:
        raise ConsoleError(
            500, "write_failed", "No se pudieron escribir los archivos: nada se cambió."
        ) from exc
    knowledge.refresh()  # the articles are live at once
    await editor.keep_versions(upload.replaced_articles, session.agent.username)
    return kept


@router.get("/api/admin/project.zip")
async def download_project(session: Current, settings: AppSettings) -> Response:
    """The training data and the knowledge base as a zip (the layout of the repository)."""
    require(session, Role.ADMIN)
    data = await asyncio.to_thread(
        project_archive.export, settings.project_dir, settings.knowledge_dir
    )
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": 'attachment; filename="asistente-datos.zip"'},
    )


#: The upload's body as the document says it: the zip's bytes (the route reads them itself).
ZIP_BODY = {
    "required": True,
    "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
}


@router.put("/api/admin/project.zip", openapi_extra={"requestBody": ZIP_BODY})
async def upload_project(
    request: Request,
    session: Current,
    settings: AppSettings,
    editor: Editor,
    knowledge: Knowledge,
    audit: Audit,
) -> dict[str, Any]:
    """Replace training files and articles with those of a zip (body: the zip itself,
    ``Content-Type: application/zip``). Checked whole before anything is written (a bad zip
    or file is a 400 naming the files); then the project as it was is kept as a version
    (``version``), the changed files (``changed``) are written all or none, and each changed
    article keeps its previous text among its versions. ``written``: every file of the zip."""
    require(session, Role.ADMIN)
    data = await request.body()
    async with editor.writing:
        upload = await asyncio.to_thread(
            project_archive.plan, data, settings.project_dir, settings.knowledge_dir
        )
        kept = await _write(
            _versions(settings), editor, knowledge, session, upload, "subida de un .zip"
        )
    await audit.record(
        session.agent.username,
        "project_uploaded",
        actor_id=session.agent.id,
        files=len(upload.files),
        changed=len(upload.changed),
        version=kept.id if kept else None,
    )
    return {
        "written": sorted(upload.files),
        "changed": upload.changed,
        "version": kept.public() if kept else None,
    }


@router.get("/api/admin/project/versions")
async def project_versions(session: Current, settings: AppSettings) -> list[dict[str, Any]]:
    """The project as it was before each upload or restore, newest first."""
    require(session, Role.ADMIN)
    return [v.public() for v in await asyncio.to_thread(_versions(settings).all)]


@router.get("/api/admin/project/versions/{version_id}.zip")
async def project_version_zip(
    version_id: VersionId, session: Current, settings: AppSettings
) -> FileResponse:
    """A kept version as it was saved (the same layout as the download)."""
    require(session, Role.ADMIN)
    path = _versions(settings).path(version_id)
    return FileResponse(path, media_type="application/zip", filename=f"proyecto-{version_id}.zip")


@router.post("/api/admin/project/versions/{version_id}/restore")
async def restore_project_version(
    version_id: VersionId,
    session: Current,
    settings: AppSettings,
    editor: Editor,
    knowledge: Knowledge,
    audit: Audit,
) -> dict[str, Any]:
    """Make the project exactly that version again (files added since are removed), all or
    none, after keeping the state it replaces as a new version (``version``)."""
    require(session, Role.ADMIN)
    versions = _versions(settings)
    async with editor.writing:
        try:
            upload = await asyncio.to_thread(versions.restore_plan, version_id)
        except ArchiveError as exc:
            # A kept version that no longer passes the checks: a conflict, not a bad request.
            raise ConsoleError(
                409, exc.code, f"Esa versión no se puede restaurar: {exc.message}",
                problems=exc.problems,
            ) from exc  # fmt: skip
        kept = await _write(
            versions, editor, knowledge, session, upload, f"restauración de {version_id}"
        )
    await audit.record(
        session.agent.username,
        "project_restored",
        actor_id=session.agent.id,
        restored=version_id,
        changed=len(upload.changed),
        version=kept.id if kept else None,
    )
    return {
        "restored": version_id,
        "changed": upload.changed,
        "version": kept.public() if kept else None,
    }
