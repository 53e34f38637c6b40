"""Writing several of the project's files as one change: all of them, or none.

Every new content is first written beside its target (``.<name>.upload``); only when all are
written are the targets swapped in, each previous file kept aside (``.<name>.previous``) until
the last swap. If anything fails — a full disk while staging, an error during a swap — the
files already swapped are put back from what was kept aside, and every staged or kept file is
removed: the tree is as it was, byte for byte, with no leftovers. (A power cut in the middle of
the swaps is the one case this cannot undo; the swaps are renames and take milliseconds.)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

STAGED = ".upload"
KEPT = ".previous"


def _beside(path: Path, suffix: str) -> Path:
    return path.with_name(f".{path.name}{suffix}")


def write_all(changes: Mapping[Path, bytes | None]) -> None:
    """Write each path's new content (``None``: remove the file), all or none."""
    created: list[Path] = []  # folders made for new files, removed again on failure
    staged: list[Path] = []
    kept: dict[Path, Path] = {}  # target → its previous content, set aside
    swapped: list[Path] = []
    try:
        for path, content in changes.items():
            if content is None:
                continue
            missing = [p for p in (path.parent, *path.parent.parents) if not p.exists()]
            created.extend(reversed(missing))
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = _beside(path, STAGED)
            staged.append(tmp)
            tmp.write_bytes(content)
        for path, content in changes.items():
            if path.exists():
                aside = _beside(path, KEPT)
                path.replace(aside)
                kept[path] = aside
            swapped.append(path)
            if content is not None:
                _beside(path, STAGED).replace(path)
    except BaseException:
        for path in reversed(swapped):  # undo with plain renames, the simplest operations
            if path in kept:
                os.replace(kept.pop(path), path)
            elif path.exists():
                os.unlink(path)
        for tmp in staged:
            tmp.unlink(missing_ok=True)
        for folder in reversed(created):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        raise
    finally:
        for leftover in (*staged, *kept.values()):
            leftover.unlink(missing_ok=True)
