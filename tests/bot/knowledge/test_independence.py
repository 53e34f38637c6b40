"""``bot.knowledge`` also runs in the action server: Python 3.10 with the standard library, PyYAML
and psycopg2 only. Every module's imports are read here (with ``ast``, nothing is executed) and
this test runs on both interpreters (``make unit`` and ``make unit-engine``).

Which of our own packages may be imported is also an import-linter contract (``make lint``); the
standard-library and Python 3.10 rule is this test's, which the linter cannot check.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = "bot.knowledge"
SOURCES = sorted((ROOT / "bot" / "knowledge").rglob("*.py"))
#: What the engine environment has besides the standard library.
THIRD_PARTY = frozenset({"yaml", "psycopg2"})
#: Standard-library modules newer than Python 3.10, so that the gateway's run catches them too.
NEWER_THAN_3_10 = frozenset({"tomllib"})


def module_name(path: Path) -> tuple[str, bool]:
    """The dotted name of a source file, and whether it is a package's ``__init__``."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def imports(source: str, module: str, is_package: bool = False) -> Iterator[tuple[int, str]]:
    """Every module ``source`` imports, absolute, with its line: ``import``, ``from … import``
    (relative ones resolved) and ``importlib.import_module`` / ``__import__`` of a literal."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source, feature_version=(3, 10))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = ".".join(parts[: len(parts) - (node.level - 1)])
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and (
                (isinstance(node.func, ast.Name) and node.func.id == "__import__")
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
            )
        ):
            yield node.lineno, node.args[0].value


def allowed(module: str) -> bool:
    if module == PACKAGE or module.startswith(f"{PACKAGE}."):
        return True
    top = module.partition(".")[0]
    if top in THIRD_PARTY:
        return True
    return top in sys.stdlib_module_names and top not in NEWER_THAN_3_10


def test_the_shared_folder_is_found() -> None:
    names = {module_name(path)[0] for path in SOURCES}
    assert {"bot.knowledge", "bot.knowledge.text", "bot.knowledge.padron.reader"} <= names


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_only_the_standard_library_yaml_psycopg2_and_itself(path: Path) -> None:
    module, is_package = module_name(path)
    source = path.read_text(encoding="utf-8")
    wrong = [
        f"line {n}: {name}" for n, name in imports(source, module, is_package) if not allowed(name)
    ]
    assert not wrong, f"{path.relative_to(ROOT)} imports what the action server lacks: {wrong}"


@pytest.mark.parametrize(
    "source",
    [
        "import fastapi",
        "from bot.ops.settings import ROOT",
        "from bot import contract",
        "from ...ops import cli",
        "import tomllib",
        "import importlib\nimportlib.import_module('pydantic')",
        "__import__('sqlalchemy.orm')",
        "def f():\n    import httpx",
    ],
)
def test_a_forbidden_import_is_caught(source: str) -> None:
    found = [name for _, name in imports(source, "bot.knowledge.tax.amounts")]
    assert found and not all(allowed(name) for name in found), found


@pytest.mark.parametrize(
    "source",
    [
        "from __future__ import annotations",
        "import os.path, yaml",
        "from psycopg2 import errors",
        "from bot.knowledge.tax.ruc import mask_ruc",
        "from bot.knowledge import text",
        "from . import ruc",
        "from ..padron.records import PadronEntry",
    ],
)
def test_what_the_engine_has_is_allowed(source: str) -> None:
    found = [name for _, name in imports(source, "bot.knowledge.tax.amounts")]
    assert found and all(allowed(name) for name in found), found


def test_syntax_newer_than_python_3_10_is_caught() -> None:
    with pytest.raises(SyntaxError):
        list(imports("type Rows = list[str]\n", "bot.knowledge.x"))
