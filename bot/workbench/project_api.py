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
from bot.handoff.api import ConsoleError, Current, Desk, require
from bot.workbench import project_archive
from bot.workbench.articles_api import knowledge_editor
from bot.workbench.project_archive import ArchiveError, Upload
from bot.workbench.project_versions import (
    VERSION_ID,
    ProjectVersion,
    ProjectVersions,
    VersionNotFound,
)

router = APIRouter(tags=["admin workbench"])

VersionId = Annotated[
    str, Path(pattern=VERSION_ID.pattern, description="e.g. 20261201-101500-123456")
]


def _versions(request: Request) -> ProjectVersions:
    settings = request.app.state.settings
    return ProjectVersions(settings.project_dir, settings.knowledge_dir)


def _refused(exc: ArchiveError) -> ConsoleError:
    return ConsoleError(400, exc.code, exc.message, problems=exc.problems)


async def _write(
    request: Request, session: Session, upload: Upload, reason: str
) -> ProjectVersion | None:
    """Keep the project as it is, write the upload's changes (all or none), keep the texts of
    the articles it changes. ``None`` when nothing changes."""
    if not upload.changes:
        return None
    try:
        kept = await asyncio.to_thread(
            _versions(request).replace, upload, session.agent.username, reason
        )
    except OSError as exc:
        raise ConsoleError(
            500, "write_failed", "No se pudieron escribir los archivos: nada se cambió."
        ) from exc
    request.app.state.knowledge.refresh()  # the articles are live at once
    await knowledge_editor(request).keep_versions(upload.replaced_articles, session.agent.username)
    return kept


@router.get("/api/admin/project.zip")
async def download_project(request: Request, session: Current) -> Response:
    """The training data and the knowledge base as a zip (the layout of the repository)."""
    require(session, Role.ADMIN)
    settings = request.app.state.settings
    data = await asyncio.to_thread(
        project_archive.export, settings.project_dir, settings.knowledge_dir
    )
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": 'attachment; filename="asistente-datos.zip"'},
    )


@router.put("/api/admin/project.zip")
async def upload_project(request: Request, session: Current, desk: Desk) -> dict[str, Any]:
    """Replace training files and articles with those of a zip (body: the zip itself,
    ``Content-Type: application/zip``). Checked whole before anything is written (a bad zip
    or file is a 400 naming the files); then the project as it was is kept as a version
    (``version``), the changed files (``changed``) are written all or none, and each changed
    article keeps its previous text among its versions. ``written``: every file of the zip."""
    require(session, Role.ADMIN)
    data = await request.body()
    settings = request.app.state.settings
    async with knowledge_editor(request).writing:
        try:
            upload = await asyncio.to_thread(
                project_archive.plan, data, settings.project_dir, settings.knowledge_dir
            )
        except ArchiveError as exc:
            raise _refused(exc) from exc
        kept = await _write(request, session, upload, "subida de un .zip")
    await desk.store.audit(
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
async def project_versions(request: Request, session: Current) -> list[dict[str, Any]]:
    """The project as it was before each upload or restore, newest first."""
    require(session, Role.ADMIN)
    return [v.public() for v in await asyncio.to_thread(_versions(request).all)]


@router.get("/api/admin/project/versions/{version_id}.zip")
async def project_version_zip(
    version_id: VersionId, request: Request, session: Current
) -> FileResponse:
    """A kept version as it was saved (the same layout as the download)."""
    require(session, Role.ADMIN)
    try:
        path = _versions(request).path(version_id)
    except VersionNotFound as exc:
        raise ConsoleError(404, "not_found", "No existe esa versión del proyecto.") from exc
    return FileResponse(path, media_type="application/zip", filename=f"proyecto-{version_id}.zip")


@router.post("/api/admin/project/versions/{version_id}/restore")
async def restore_project_version(
    version_id: VersionId, request: Request, session: Current, desk: Desk
) -> dict[str, Any]:
    """Make the project exactly that version again (files added since are removed), all or
    none, after keeping the state it replaces as a new version (``version``)."""
    require(session, Role.ADMIN)
    versions = _versions(request)
    async with knowledge_editor(request).writing:
        try:
            upload = await asyncio.to_thread(versions.restore_plan, version_id)
        except VersionNotFound as exc:
            raise ConsoleError(404, "not_found", "No existe esa versión del proyecto.") from exc
        except ArchiveError as exc:
            raise ConsoleError(
                409, exc.code, f"Esa versión no se puede restaurar: {exc.message}",
                problems=exc.problems,
            ) from exc  # fmt: skip
        kept = await _write(request, session, upload, f"restauración de {version_id}")
    await desk.store.audit(
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
