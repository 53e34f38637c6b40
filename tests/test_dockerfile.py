"""The image cannot be built on the CI machines (no Docker engine), so what can be checked
without building is: the model stage, which trains with only part of the repository, copies
every module of ours that the Rasa pipeline imports."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.split(".")[0] in ("bot", "actions", "connectors")}


def _module_file(name: str) -> Path:
    base = ROOT.joinpath(*name.split("."))
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def pipeline_modules() -> set[Path]:
    """Our files that Rasa imports when it loads config.yml's pipeline (transitively)."""
    config = (ROOT / "config.yml").read_text(encoding="utf-8")
    todo = {name.rsplit(".", 1)[0] for name in re.findall(r"name:\s*(bot\.[\w.]+)", config)}
    seen: set[Path] = set()
    while todo:
        path = _module_file(todo.pop())
        if path in seen or not path.exists():
            continue
        seen.add(path)
        todo |= _imports(path)
        # A package's __init__ runs before its modules.
        for parent in path.relative_to(ROOT).parents:
            init = ROOT / parent / "__init__.py"
            if parent != Path(".") and init.exists():
                todo.add(".".join(parent.parts))
    return seen


def model_stage_copies() -> list[str]:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    stage = dockerfile.split("AS model", 1)[1].split("\nFROM ", 1)[0]
    copied: list[str] = []
    for line in stage.splitlines():
        parts = line.split()
        if parts[:1] == ["COPY"]:
            copied += parts[1:-1]
    return copied


def test_the_model_stage_copies_what_the_pipeline_imports() -> None:
    copied = model_stage_copies()
    modules = pipeline_modules()
    assert ROOT / "bot" / "engine" / "business_facts.py" in modules
    missing = [
        str(path.relative_to(ROOT))
        for path in modules
        if not any(
            str(path.relative_to(ROOT)) == c or str(path.relative_to(ROOT)).startswith(c + "/")
            for c in (c.rstrip("/") for c in copied)
        )
    ]
    assert missing == []


def test_the_model_stage_copies_the_shared_folder_whole() -> None:
    """The code both runtimes share is one folder: the stage names it, not a list of its files
    (a module added there later is copied without anyone editing the Dockerfile)."""
    copied = [c.rstrip("/") for c in model_stage_copies()]
    assert "bot/knowledge" in copied
    assert not [c for c in copied if c.startswith("bot/knowledge/")]
