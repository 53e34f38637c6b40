"""A benchmark's section of docs/benchmarks.md is replaced in place, or appended when absent;
the rest of the document is kept to the letter."""

from __future__ import annotations

from pathlib import Path

from bench.doc_section import replace_section

BEGIN, END = "<!-- x: begin -->", "<!-- x: end -->"


def test_the_section_is_replaced_in_place_and_the_rest_kept(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"# Bench\n\nbefore\n{BEGIN}\nold figures\n{END}\nafter\n", encoding="utf-8")
    replace_section(doc, f"{BEGIN}\nnew figures\n{END}\n", BEGIN, END)
    assert doc.read_text(encoding="utf-8") == (
        f"# Bench\n\nbefore\n{BEGIN}\nnew figures\n{END}\nafter\n"
    )


def test_a_missing_section_is_appended(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Bench\n\nother\n\n", encoding="utf-8")
    replace_section(doc, f"{BEGIN}\nfigures\n{END}\n", BEGIN, END)
    assert doc.read_text(encoding="utf-8") == f"# Bench\n\nother\n\n{BEGIN}\nfigures\n{END}\n"
    replace_section(tmp_path / "new.md", f"{BEGIN}\nfigures\n{END}\n", BEGIN, END)
    assert (tmp_path / "new.md").read_text(encoding="utf-8").strip() == f"{BEGIN}\nfigures\n{END}"
