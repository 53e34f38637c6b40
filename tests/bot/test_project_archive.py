"""The project zip: download, upload, and every bad archive refused with nothing written."""

from __future__ import annotations

import io
import shutil
import stat
import zipfile
from pathlib import Path

import pytest

from bot.project_archive import MAX_UNCOMPRESSED, ArchiveError, apply, export

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    for name in ("domain.yml", "config.yml"):
        shutil.copy(ROOT / name, root / name)
    for folder in ("data/nlu", "data/rules", "data/stories", "data/knowledge"):
        shutil.copytree(ROOT / folder, root / folder)
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.yml"))}


def archive(files: dict[str, bytes | str], link: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            zf.writestr(name, content)
        if link is not None:
            info = zipfile.ZipInfo(link)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return buffer.getvalue()


def test_download_then_upload_round_trips(project: Path, tmp_path: Path) -> None:
    data = export(project, project / "data" / "knowledge")
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert "domain.yml" in names and "data/knowledge/igv.yml" in names
    assert "data/nlu/consultas.yml" in names
    other = tmp_path / "other"
    shutil.copytree(project, other)
    (other / "data/knowledge/igv.yml").write_text("id: igv\n", encoding="utf-8")  # broken
    written = apply(data, other, other / "data" / "knowledge")
    assert "data/knowledge/igv.yml" in written
    assert snapshot(other) == snapshot(project)


@pytest.mark.parametrize(
    ("files", "link", "code", "problem"),
    [({"../evil.yml": "a: 1"}, None, "invalid_archive", "ruta no permitida"),
     ({"/etc/evil.yml": "a: 1"}, None, "invalid_archive", "ruta no permitida"),
     ({"data/nlu/../../evil.yml": "a: 1"}, None, "invalid_archive", "ruta no permitida"),
     ({"data/nlu/x.yml": "nlu: [unclosed"}, None, "invalid_archive", "YAML no válido"),
     ({"data/nlu/x.yml": b"\xff\xfe"}, None, "invalid_archive", "UTF-8"),
     ({"data/nlu/x.yml": "- solo una lista"}, None, "invalid_archive", "mapeo"),
     ({}, "data/nlu/link.yml", "invalid_archive", "enlaces"),
     ({"data/knowledge/igv.yml": "id: igv\ntitle: IGV\nanswer: x\n"}, None,
      "invalid_knowledge", "source")],
)  # fmt: skip
def test_bad_archives_change_nothing(
    project: Path, files: dict[str, bytes | str], link: str | None, code: str, problem: str
) -> None:
    before = snapshot(project)
    with pytest.raises(ArchiveError) as refused:
        apply(archive(files, link), project, project / "data" / "knowledge")
    assert refused.value.code == code
    assert any(problem in p for p in refused.value.problems), refused.value.problems
    assert snapshot(project) == before
    assert not list(project.rglob("*.upload"))


def test_not_a_zip_and_a_zip_bomb(project: Path) -> None:
    with pytest.raises(ArchiveError) as not_zip:
        apply(b"esto no es un zip", project, project / "data" / "knowledge")
    assert not_zip.value.code == "not_a_zip"
    bomb = archive({"data/nlu/x.yml": b"\0" * (MAX_UNCOMPRESSED + 1)})
    assert len(bomb) < 100_000
    with pytest.raises(ArchiveError) as large:
        apply(bomb, project, project / "data" / "knowledge")
    assert large.value.code == "too_large"
