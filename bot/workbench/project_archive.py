"""The training data and the knowledge base as one zip, for agencies that edit them in git.

Download: ``domain.yml``, ``config.yml`` and ``data/{nlu,rules,stories,knowledge}/*.yml``.
Upload: the same layout. Every entry is checked before anything is written: only those paths
(no ``..``, no absolute paths, no links, no name twice), size limits against zip bombs that
count the bytes actually read (an entry whose header lies about its size is refused, not
trusted), UTF-8 YAML that parses into the structure Rasa requires
(:mod:`bot.workbench.project_schema`), knowledge articles valid as the assistant loads them. Every
problem names its file. Then the changed files are written all or none
(:mod:`bot.workbench.project_files`); the previous project is kept as a version that can be restored
(:mod:`bot.workbench.project_versions`).
"""

from __future__ import annotations

import io
import re
import shutil
import stat
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml

from bot.knowledge.articles import KnowledgeError, load_knowledge
from bot.workbench.project_files import write_all
from bot.workbench.project_schema import problems as schema_problems

ROOT_FILES = ("domain.yml", "config.yml")
FOLDERS = ("data/nlu", "data/rules", "data/stories")
KNOWLEDGE = "data/knowledge"
MAX_FILES = 500
MAX_UNCOMPRESSED = 20 * 1024 * 1024
_NAME = re.compile(r"^[A-Za-z0-9_-]+\.yml$")
#: What reading a damaged entry may raise (bad CRC, truncated data, unknown compression, …).
_DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError)


class ArchiveError(ValueError):
    def __init__(self, code: str, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.problems = problems or []


def _refused(code: str, summary: str, problems: list[str]) -> ArchiveError:
    """An error whose message names the files with problems."""
    files = list(dict.fromkeys(p.split(": ", 1)[0] for p in problems))
    named = files[0] if len(files) == 1 else f"{files[0]} y {len(files) - 1} archivo(s) más"
    return ArchiveError(code, f"{summary} ({named}): nada se cambió.", problems)


def _allowed(name: str) -> bool:
    path = PurePosixPath(name)
    if name in ROOT_FILES:
        return True
    return (
        len(path.parts) == 3
        and str(path.parent) in (*FOLDERS, KNOWLEDGE)
        and bool(_NAME.match(path.name))
    )


def current_files(project: Path, knowledge_dir: Path) -> dict[str, Path]:
    """The project's files as they are now, by their name in the archive."""
    found = {name: project / name for name in ROOT_FILES if (project / name).is_file()}
    for folder in FOLDERS:
        for path in sorted((project / folder).glob("*.yml")):
            found[f"{folder}/{path.name}"] = path
    for path in sorted(knowledge_dir.glob("*.yml")):
        found[f"{KNOWLEDGE}/{path.name}"] = path
    return found


def target(name: str, project: Path, knowledge_dir: Path) -> Path:
    """Where the archive's file ``name`` lives on disk."""
    if name.startswith(f"{KNOWLEDGE}/"):
        return knowledge_dir / PurePosixPath(name).name
    return project / name


def export(project: Path, knowledge_dir: Path, comment: bytes = b"") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, path in current_files(project, knowledge_dir).items():
            archive.write(path, name)
        archive.comment = comment
    return buffer.getvalue()


def _entries(data: bytes) -> dict[str, bytes]:
    """The archive's files by path, read within the limits; refused when damaged or unsafe."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ArchiveError("not_a_zip", "El archivo no es un .zip válido.") from exc
    problems: list[str] = []
    files: dict[str, bytes] = {}
    with archive:
        entries = [e for e in archive.infolist() if not e.is_dir()]
        if len(entries) > MAX_FILES:
            raise ArchiveError("too_many_files", f"El .zip tiene más de {MAX_FILES} archivos.")
        if sum(e.file_size for e in entries) > MAX_UNCOMPRESSED:
            raise ArchiveError("too_large", "El contenido del .zip es demasiado grande.")
        budget = MAX_UNCOMPRESSED
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
            if name in files:
                problems.append(f"{name}: aparece dos veces en el .zip")
                continue
            try:  # the bytes really read count, not what the header says
                with archive.open(entry) as stream:
                    content = stream.read(budget + 1)
            except _DAMAGED as exc:
                problems.append(f"{name}: el .zip está dañado ({exc})")
                continue
            budget -= len(content)
            if budget < 0:
                raise ArchiveError("too_large", "El contenido del .zip es demasiado grande.")
            files[name] = content
    if problems:
        raise _refused("invalid_archive", "El .zip tiene problemas", problems)
    return files


def check(data: bytes) -> dict[str, bytes]:
    """The archive's files by path, or :class:`ArchiveError` naming every problem."""
    files = _entries(data)
    problems: list[str] = []
    for name, content in files.items():
        try:
            parsed = yaml.safe_load(content.decode("utf-8"))
        except UnicodeDecodeError:
            problems.append(f"{name}: no está en UTF-8")
            continue
        except yaml.YAMLError as exc:
            problems.append(f"{name}: YAML no válido ({str(exc).splitlines()[0]})")
            continue
        if name.startswith(f"{KNOWLEDGE}/"):
            if not isinstance(parsed, dict):
                problems.append(f"{name}: debe contener un mapeo de campos")
            continue  # articles are checked whole, with the others (plan)
        problems.extend(schema_problems(name, parsed))
    if not files:
        raise ArchiveError(
            "invalid_archive",
            "El .zip no contiene ningún archivo del proyecto: nada se cambió.",
            ["el .zip no contiene ningún archivo del proyecto"],
        )
    if problems:
        raise _refused("invalid_archive", "El .zip tiene problemas", problems)
    return files


@dataclass(frozen=True)
class Upload:
    """What writing an archive would do: its files, and the changes on disk."""

    files: dict[str, bytes]
    #: Each path that changes, with its new content (``None``: removed).
    changes: dict[Path, bytes | None] = field(default_factory=dict)
    #: The archive names of the files that change, sorted.
    changed: list[str] = field(default_factory=list)
    #: The articles changed or removed: id → the text they had.
    replaced_articles: dict[str, str] = field(default_factory=dict)


def plan(data: bytes, project: Path, knowledge_dir: Path, exact: bool = False) -> Upload:
    """Check the archive and the knowledge base it would leave; what would change.

    ``exact``: the project becomes the archive (files it lacks are removed), as when a kept
    version is restored; otherwise only the archive's files are written."""
    files = check(data)
    now = current_files(project, knowledge_dir)
    wanted: dict[str, bytes | None] = dict(files)
    if exact:
        wanted.update({name: None for name in now if name not in files})
    articles = {n: c for n, c in wanted.items() if n.startswith(f"{KNOWLEDGE}/")}
    if articles:
        with tempfile.TemporaryDirectory() as scratch:
            staged = Path(scratch) / "knowledge"
            shutil.copytree(knowledge_dir, staged)
            for name, content in articles.items():
                path = staged / PurePosixPath(name).name
                if content is None:
                    path.unlink(missing_ok=True)
                else:
                    path.write_bytes(content)
            try:
                load_knowledge(staged)
            except KnowledgeError as exc:
                problems = [p.replace(str(staged), KNOWLEDGE) for p in exc.problems]
                raise _refused(
                    "invalid_knowledge", "Los artículos no son válidos", problems
                ) from exc
    upload = Upload(files)
    for name, content in sorted(wanted.items()):
        before = now[name].read_bytes() if name in now else None
        if content == before:
            continue
        upload.changes[target(name, project, knowledge_dir)] = content
        upload.changed.append(name)
        if before is not None and name.startswith(f"{KNOWLEDGE}/"):
            upload.replaced_articles[PurePosixPath(name).stem] = before.decode("utf-8", "replace")
    return upload


def apply(data: bytes, project: Path, knowledge_dir: Path) -> list[str]:
    """Check the archive, then write the files it changes, all or none; its files' names."""
    upload = plan(data, project, knowledge_dir)
    write_all(upload.changes)
    return sorted(upload.files)
