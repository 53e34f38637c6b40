"""The project zip: download, upload, and every bad archive refused with nothing written —
damaged entries and files Rasa would refuse included, each named; a failure in the middle of
writing leaves the tree byte for byte as it was; kept versions restore the project exactly."""

from __future__ import annotations

import io
import shutil
import stat
import struct
import zipfile
from pathlib import Path

import pytest

from bot.workbench.project_archive import MAX_UNCOMPRESSED, ArchiveError, apply, export, plan
from bot.workbench.project_versions import ProjectVersions, VersionNotFound

ROOT = Path(__file__).resolve().parents[3]


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
    """Every file of the tree (leftovers included) with its bytes; the version store apart."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "var" not in p.relative_to(root).parts
    }


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
      "invalid_knowledge", "source"),
     # Parses as YAML, but Rasa (and the console's answers, the action server's search) would
     # break on it: refused, naming the file and the place.
     *[({name: content}, None, "invalid_archive", f"{name}: «{problem}")
       for name, content, problem in [
           ("data/nlu/x.yml", "nlu: 5", "nlu» debe ser una lista"),
           ("data/nlu/x.yml", "nlu:\n- hola\n", "nlu[1]» debe ser un bloque"),
           ("data/nlu/x.yml", "nlu:\n- intent: igv\n", "nlu[1].examples»"),
           ("data/nlu/x.yml", "nlu:\n- {intent: igv, synonym: x, examples: a}", "nlu[1]» debe "
            "tener una sola"),
           ("data/rules/x.yml", "rules:\n- rule: r\n", "rules[1]» no tiene «steps»"),
           ("data/stories/x.yml", "stories: {a: 1}", "stories» debe ser una lista"),
           ("domain.yml", "intents: 5", "intents» debe ser una lista"),
           ("domain.yml", "slots:\n  ruc: {type: text}\n", "slots.ruc» no tiene «mappings»"),
           ("domain.yml", "responses: {utter_x: hola}", "responses.utter_x» debe ser una lista"),
           ("config.yml", "pipeline: 3", "pipeline» debe ser una lista"),
           ("config.yml", "policies:\n- RulePolicy\n", "policies[1]» debe ser un componente"),
       ]]],
)  # fmt: skip
def test_bad_archives_change_nothing(
    project: Path, files: dict[str, bytes | str], link: str | None, code: str, problem: str
) -> None:
    before = snapshot(project)
    with pytest.raises(ArchiveError) as refused:
        apply(archive(files, link), project, project / "data" / "knowledge")
    assert refused.value.code == code
    assert any(problem in p for p in refused.value.problems), refused.value.problems
    named = [p.split(":")[0] for p in refused.value.problems]
    assert any(name in refused.value.message for name in named), refused.value.message
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


def lying(data: bytes, size: int) -> bytes:
    """The archive with its (only) entry's uncompressed size replaced in both headers."""
    changed = bytearray(data)
    struct.pack_into("<I", changed, changed.find(b"PK\x01\x02") + 24, size)
    struct.pack_into("<I", changed, changed.find(b"PK\x03\x04") + 22, size)
    return bytes(changed)


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
def test_an_entry_whose_header_lies_about_its_size_is_refused(project: Path, method: int) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as zf:
        zf.writestr("data/nlu/x.yml", "nlu:\n- intent: igv\n  examples: |\n    - hola\n" * 40)
    before = snapshot(project)
    with pytest.raises(ArchiveError) as refused:  # zipfile's "Bad CRC-32" is not let through
        apply(lying(buffer.getvalue(), 5), project, project / "data" / "knowledge")
    assert refused.value.code == "invalid_archive"
    assert refused.value.problems == [
        "data/nlu/x.yml: el .zip está dañado (Bad CRC-32 for file 'data/nlu/x.yml')"
    ]
    assert snapshot(project) == before


def test_a_name_twice_is_refused(project: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf, pytest.warns(UserWarning, match="Duplicate name"):
        zf.writestr("data/nlu/x.yml", "nlu: []")
        zf.writestr("data/nlu/x.yml", "nlu: 5")
    with pytest.raises(ArchiveError) as refused:
        apply(buffer.getvalue(), project, project / "data" / "knowledge")
    assert refused.value.problems == ["data/nlu/x.yml: aparece dos veces en el .zip"]


def changed_archive(project: Path) -> bytes:
    """Three changes: an article, an NLU file, and a new stories file in a new folder."""
    igv = (project / "data/knowledge/igv.yml").read_text(encoding="utf-8")
    consultas = (project / "data/nlu/consultas.yml").read_text(encoding="utf-8")
    return archive({
        "data/knowledge/igv.yml": igv.replace("reviewed:", "# editado\nreviewed:"),
        "data/nlu/consultas.yml": consultas + "# editado\n",
        "data/stories/nuevo.yml": "stories: []\n",
    })  # fmt: skip


@pytest.mark.parametrize("failing", ["stage", "swap"])
def test_a_failure_mid_apply_leaves_the_tree_as_it_was(
    project: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    shutil.rmtree(project / "data" / "stories")  # the upload would create the folder
    before = snapshot(project)
    upload = plan(changed_archive(project), project, project / "data" / "knowledge")
    assert len(upload.changes) == 3
    calls = {"n": 0}
    if failing == "stage":  # the disk fills while the second file is staged
        real_write = Path.write_bytes

        def write_bytes(self: Path, data: bytes) -> int:
            calls["n"] += 1
            if calls["n"] == 2:
                raise OSError(28, "No space left on device")
            return real_write(self, data)

        monkeypatch.setattr(Path, "write_bytes", write_bytes)
    else:  # an error on the third rename, after two files were already swapped in
        real_replace = Path.replace

        def replace(self: Path, target: Path) -> Path:  # type: ignore[override]
            calls["n"] += 1
            if calls["n"] == 3:
                raise OSError(5, "Input/output error")
            return real_replace(self, target)

        monkeypatch.setattr(Path, "replace", replace)
    with pytest.raises(OSError):
        apply(changed_archive(project), project, project / "data" / "knowledge")
    assert calls["n"] >= 2
    monkeypatch.undo()
    assert snapshot(project) == before  # byte for byte, no .upload or .previous leftovers
    assert not (project / "data" / "stories").exists()


def test_an_upload_keeps_the_previous_project_and_a_restore_brings_it_back(
    project: Path, tmp_path: Path
) -> None:
    knowledge = project / "data" / "knowledge"
    versions = ProjectVersions(project, knowledge)
    original = snapshot(project)
    upload = plan(changed_archive(project), project, knowledge)
    assert upload.changed == [
        "data/knowledge/igv.yml", "data/nlu/consultas.yml", "data/stories/nuevo.yml"
    ]  # fmt: skip
    assert upload.replaced_articles == {"igv": original["data/knowledge/igv.yml"].decode()}
    kept = versions.replace(upload, "admin", "subida")
    assert (project / "data/stories/nuevo.yml").exists()
    [listed] = versions.all()
    assert (listed.id, listed.author, listed.reason) == (kept.id, "admin", "subida")
    assert listed.files == len(original)  # the project as it was, every file
    with zipfile.ZipFile(versions.path(kept.id)) as zf:
        assert {n: zf.read(n) for n in zf.namelist()} == original
    uploaded = snapshot(project)

    restore = versions.restore_plan(kept.id)
    assert restore.changes[project / "data/stories/nuevo.yml"] is None  # added since: removed
    back = versions.replace(restore, "admin", f"restauración de {kept.id}")
    assert snapshot(project) == original
    # The restore kept what it replaced: restoring that brings the upload back.
    versions.replace(versions.restore_plan(back.id), "admin", "otra vez")
    assert snapshot(project) == uploaded
    with pytest.raises(VersionNotFound):
        versions.restore_plan("../../etc/passwd")


def test_a_failed_write_keeps_no_version(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    knowledge = project / "data" / "knowledge"
    versions = ProjectVersions(project, knowledge)
    upload = plan(changed_archive(project), project, knowledge)
    before = snapshot(project)
    real_replace = Path.replace
    calls = {"n": 0}

    def replace(self: Path, target: Path) -> Path:  # type: ignore[override]
        calls["n"] += 1  # the first rename keeps the version; the third fails
        if calls["n"] == 3:
            raise OSError(5, "Input/output error")
        return real_replace(self, target)

    monkeypatch.setattr(Path, "replace", replace)
    with pytest.raises(OSError):
        versions.replace(upload, "admin", "subida")
    monkeypatch.undo()
    assert snapshot(project) == before and versions.all() == []
