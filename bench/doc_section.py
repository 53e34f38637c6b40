"""A benchmark's own section of a document (docs/benchmarks.md), between its two markers."""

from __future__ import annotations

from pathlib import Path


def replace_section(doc: Path, section: str, begin: str, end: str) -> None:
    """Put ``section`` (from its ``begin`` marker to its ``end`` marker) in ``doc`` in place of
    the one between those markers, or at the end when there is none; the rest is kept."""
    text = doc.read_text(encoding="utf-8") if doc.exists() else ""
    if begin in text and end in text:
        text = text[: text.index(begin)] + section.rstrip("\n") + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    doc.write_text(text, encoding="utf-8")
