"""Earlier states of the project, kept so a zip upload (or a restore) can be undone.

Before an upload or a restore writes anything, the whole project as it is — the files the zip
holds: ``domain.yml``, ``config.yml``, ``data/{nlu,rules,stories,knowledge}/*.yml`` — is saved
as a zip under ``var/project-versions/<id>.zip`` (the id is the UTC time, e.g.
``20261201-101500-123456``; who, why and how many files are in the zip's comment). Restoring a
version makes the project exactly that zip again — files added since are removed — checked and
written like an upload (all or nothing), after keeping the state it replaces as a version of
its own. The newest :data:`KEEP` versions are kept.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.workbench.project_archive import Upload, current_files, export, plan
from bot.workbench.project_files import write_all

#: How many versions are kept (the oldest are removed).
KEEP = 50
VERSION_ID = re.compile(r"^\d{8}-\d{6}-\d{6}$")


class VersionNotFound(LookupError):
    pass


@dataclass(frozen=True)
class ProjectVersion:
    id: str
    created_at: dt.datetime
    author: str
    reason: str
    files: int

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.created_at.isoformat(),
            "author": self.author,
            "reason": self.reason,
            "files": self.files,
        }


class ProjectVersions:
    def __init__(self, project: Path, knowledge_dir: Path, directory: Path | None = None) -> None:
        self.project = project
        self.knowledge_dir = knowledge_dir
        self.directory = directory or project / "var" / "project-versions"

    def path(self, version_id: str) -> Path:
        path = self.directory / f"{version_id}.zip"
        if not VERSION_ID.match(version_id) or not path.is_file():
            raise VersionNotFound(version_id)
        return path

    def save(self, author: str, reason: str) -> ProjectVersion:
        """Keep the project as it is now."""
        now = dt.datetime.now(dt.UTC)
        version_id = now.strftime("%Y%m%d-%H%M%S-%f")
        files = len(current_files(self.project, self.knowledge_dir))
        about = {"author": author, "reason": reason, "at": now.isoformat(), "files": files}
        data = export(self.project, self.knowledge_dir, json.dumps(about).encode())
        self.directory.mkdir(parents=True, exist_ok=True)
        write_all({self.directory / f"{version_id}.zip": data})
        for old in self._paths()[KEEP:]:
            old.unlink(missing_ok=True)
        return ProjectVersion(version_id, now, author, reason, files)

    def _paths(self) -> list[Path]:
        """Every kept version's zip, newest first."""
        if not self.directory.is_dir():
            return []
        found = [p for p in self.directory.glob("*.zip") if VERSION_ID.match(p.stem)]
        return sorted(found, key=lambda p: p.stem, reverse=True)

    def all(self) -> list[ProjectVersion]:
        """The kept versions, newest first."""
        versions = []
        for path in self._paths():
            try:
                with zipfile.ZipFile(path) as archive:
                    about = json.loads(archive.comment or b"{}")
            except (zipfile.BadZipFile, OSError, ValueError):
                continue  # not one of ours, or damaged: not offered
            at = dt.datetime.strptime(path.stem, "%Y%m%d-%H%M%S-%f").replace(tzinfo=dt.UTC)
            versions.append(
                ProjectVersion(
                    path.stem,
                    at,
                    str(about.get("author", "")),
                    str(about.get("reason", "")),
                    int(about.get("files", 0)),
                )
            )
        return versions

    def replace(self, upload: Upload, author: str, reason: str) -> ProjectVersion:
        """Keep the project as it is, then write the upload's changes (all or none). When the
        writing fails, the version just kept is dropped again and the error raised."""
        kept = self.save(author, reason)
        try:
            write_all(upload.changes)
        except BaseException:
            (self.directory / f"{kept.id}.zip").unlink(missing_ok=True)
            raise
        return kept

    def restore_plan(self, version_id: str) -> Upload:
        """What restoring the version would change (checked like an upload)."""
        data = self.path(version_id).read_bytes()
        return plan(data, self.project, self.knowledge_dir, exact=True)
