from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.ops.settings import ROOT
from bot.workbench.training import TRAINING_INPUTS, fingerprint


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    for name in (*TRAINING_INPUTS, "data/knowledge"):
        source = ROOT / name
        target = tmp_path / name
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)
    return tmp_path


def test_fingerprint_is_stable(project: Path) -> None:
    assert fingerprint(project) == fingerprint(project)


@pytest.mark.parametrize(
    "path", ["data/nlu/ruc.yml", "config.yml", "domain.yml", "data/rules/faq.yml"]
)
def test_training_data_or_config_change_changes_the_fingerprint(project: Path, path: str) -> None:
    before = fingerprint(project)
    with (project / path).open("a", encoding="utf-8") as handle:
        handle.write("\n# cambio\n")
    assert fingerprint(project) != before


def test_new_nlu_file_changes_the_fingerprint(project: Path) -> None:
    before = fingerprint(project)
    (project / "data/nlu/nuevo.yml").write_text('version: "3.1"\n', encoding="utf-8")
    assert fingerprint(project) != before


def test_knowledge_edit_needs_no_retraining(project: Path) -> None:
    before = fingerprint(project)
    with (project / "data/knowledge/igv.yml").open("a", encoding="utf-8") as handle:
        handle.write("\n# cambio\n")
    assert fingerprint(project) == before
