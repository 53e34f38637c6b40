"""The training data and the knowledge base as one zip, for agencies that edit them in git.

Download: ``domain.yml``, ``config.yml`` and ``data/{nlu,rules,stories,knowledge}/*.yml``.
Upload: the same layout. Every entry is checked before anything is written: only those paths
(no ``..``, no absolute paths, no links), a size limit against zip bombs, UTF-8 YAML that
parses, knowledge articles valid as the assistant loads them. Then all files are written, or
none.
"""

from __future__ import annotations

import io
import re
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

import yaml

from bot.knowledge import KnowledgeError, load_knowledge

ROOT_FILES = ("domain.yml", "config.yml")
FOLDERS = ("data/nlu", "data/rules", "data/stories")
KNOWLEDGE = "data/knowledge"
MAX_FILES = 500
MAX_UNCOMPRESSED = 20 * 1024 * 1024
_NAME = re.compile(r"^[A-Za-z0-9_-]+\.yml$")


class ArchiveError(ValueError):
    def __init__(self, code: str, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.problems = problems or []


def _allowed(name: str) -> bool:
    path = PurePosixPath(name)
    if name in ROOT_FILES:
        return True
    return (
        len(path.parts) == 3
        and str(path.parent) in (*FOLDERS, KNOWLEDGE)
        and bool(_NAME.match(path.name))
    )


def export(project: Path, knowledge_dir: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in ROOT_FILES:
            if (project / name).is_file():
                archive.write(project / name, name)
        for folder in FOLDERS:
            for path in sorted((project / folder).glob("*.yml")):
                archive.write(path, f"{folder}/{path.name}")
        for path in sorted(knowledge_dir.glob("*.yml")):
            archive.write(path, f"{KNOWLEDGE}/{path.name}")
    return buffer.getvalue()


def check(data: bytes) -> dict[str, bytes]:
    """The archive's files by path, or :class:`ArchiveError` naming every problem."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ArchiveError("not_a_zip", "El archivo no es un .zip válido.") from exc
    problems: list[str] = []
    files: dict[str, bytes] = {}
    with archive:
        entries = [e for e in archive.infolist() if not e.is_dir()]
        if len(entries) > MAX_FILES:
            raise ArchiveError("too_many_files", f"El .zip tiene más de {MAX_FILES} archivos.")
        if sum(e.file_size for e in entries) > MAX_UNCOMPRESSED:
            raise ArchiveError("too_large", "El contenido del .zip es demasiado grande.")
        for entry in entries:
            name = entry.filename
            if stat.S_ISLNK(entry.external_attr >> 16):
                problems.append(f"{name}: los enlaces no están permitidos")
                continue
            if not _allowed(name):
                problems.append(
                    f"{name}: ruta no permitida (solo domain.yml, config.yml y "
                    "data/{nlu,rules,stories,knowledge}/*.yml)"
                )
                continue
            content = archive.read(entry)
            try:
                parsed = yaml.safe_load(content.decode("utf-8"))
            except UnicodeDecodeError:
                problems.append(f"{name}: no está en UTF-8")
                continue
            except yaml.YAMLError as exc:
                problems.append(f"{name}: YAML no válido ({str(exc).splitlines()[0]})")
                continue
            if not isinstance(parsed, dict):
                problems.append(f"{name}: debe contener un mapeo de campos")
                continue
            files[name] = content
    if not files and not problems:
        problems.append("el .zip no contiene ningún archivo del proyecto")
    if problems:
        raise ArchiveError("invalid_archive", "El .zip tiene problemas: nada se cambió.", problems)
    return files


def apply(data: bytes, project: Path, knowledge_dir: Path) -> list[str]:
    """Check the archive, validate the knowledge base it would leave, write every file."""
    files = check(data)
    articles = {n: c for n, c in files.items() if n.startswith(f"{KNOWLEDGE}/")}
    if articles:
        with tempfile.TemporaryDirectory() as scratch:
            staged = Path(scratch) / "knowledge"
            shutil.copytree(knowledge_dir, staged)
            for name, content in articles.items():
                (staged / PurePosixPath(name).name).write_bytes(content)
            try:
                load_knowledge(staged)
            except KnowledgeError as exc:
                raise ArchiveError(
                    "invalid_knowledge",
                    "Los artículos no son válidos: nada se cambió.",
                    [p.replace(str(staged), KNOWLEDGE) for p in exc.problems],
                ) from exc
    targets = {
        name: (knowledge_dir / PurePosixPath(name).name)
        if name.startswith(f"{KNOWLEDGE}/")
        else project / name
        for name in files
    }
    staged_files = []
    for name, target in targets.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.upload")
        tmp.write_bytes(files[name])
        staged_files.append((tmp, target))
    for tmp, target in staged_files:
        tmp.replace(target)
    return sorted(files)
