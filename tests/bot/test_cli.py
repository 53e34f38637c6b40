"""The command line's start-up steps (python -m bot)."""

from __future__ import annotations

from pathlib import Path

from bot.cli import SAMPLE_PADRON, ensure_padron
from bot.padron import open_padron


def test_a_fresh_start_imports_the_sample_padron_and_says_so(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'padron.db'}"
    said = ensure_padron(url)
    assert "none was loaded" in said and "SAMPLE" in said and "make import-padron" in said
    with open_padron(url) as store:
        assert store.count() > 100
        entry = store.lookup("10000000014")
        assert entry is not None and entry.nombre == "QUISPE MAMANI ROSA ELENA"


def test_a_loaded_padron_is_left_alone(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'padron.db'}"
    small = tmp_path / "padron.txt"
    lines = SAMPLE_PADRON.read_bytes().splitlines(keepends=True)
    small.write_bytes(b"".join(lines[:4]))  # the header and three demo taxpayers
    with open_padron(url) as store:
        store.import_file(small)
        before = store.count()
    assert ensure_padron(url) == f"padrón: {before:,} RUCs loaded"
    with open_padron(url) as store:
        assert store.count() == before


def test_a_sample_that_cannot_be_read_is_reported_not_raised(tmp_path: Path) -> None:
    said = ensure_padron(f"sqlite:///{tmp_path / 'padron.db'}", tmp_path / "missing.txt")
    assert said.startswith("padrón: none loaded and the sample could not be imported")
