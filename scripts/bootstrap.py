#!/usr/bin/env python3
"""Create the two Python environments from the pinned lock files.

- ``.venv``       gateway (FastAPI), Python >= 3.11, ``requirements/gateway.lock``
- ``.venv-rasa``  engine (Rasa 3.6 + action server), Python 3.10, ``requirements/engine.lock``

Stdlib only, so any ``python3`` can run it. An environment whose lock file did not change
since it was installed is left alone. Python 3.10 is looked for the way a user's machine has
it: ``python3.10`` on PATH, pyenv, then uv (which can also download one when online).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _version_of(python: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    major, minor = out.split(".")
    return int(major), int(minor)


def _candidates(minor_versions: list[str]) -> list[str]:
    found: list[str] = []
    for minor in minor_versions:
        exe = shutil.which(f"python{minor}")
        if exe:
            found.append(exe)
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    for minor in minor_versions:
        for path in sorted((pyenv_root / "versions").glob(f"{minor}.*"), reverse=True):
            exe = path / "bin" / f"python{minor}"
            if exe.exists():
                found.append(str(exe))
    return found


def _uv_python(minor: str) -> str | None:
    uv = shutil.which("uv")
    if not uv:
        return None
    for args in (["python", "find", minor], ["python", "install", minor]):
        result = subprocess.run([uv, *args], capture_output=True, text=True)
        if result.returncode == 0 and args[1] == "find":
            return result.stdout.strip()
    result = subprocess.run([uv, "python", "find", minor], capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 else None


def find_python(wanted: list[str], label: str) -> str:
    """First interpreter whose version is one of ``wanted`` (e.g. ["3.10"])."""
    for exe in _candidates(wanted):
        version = _version_of(exe)
        if version and f"{version[0]}.{version[1]}" in wanted:
            return exe
    for minor in wanted:
        exe = _uv_python(minor)
        if exe and _version_of(exe):
            return exe
    names = " or ".join(wanted)
    sys.exit(
        f"error: {label} needs Python {names} and none was found "
        f"(looked for python{wanted[0]} on PATH, in pyenv and through uv).\n"
        f"Install one, e.g. `pyenv install {wanted[0]}` or `uv python install {wanted[0]}` "
        f"(uv: `pip install uv`), then run `make setup` again."
    )


def _lock_digest(lock: Path) -> str:
    return hashlib.sha256(lock.read_bytes()).hexdigest()


def ensure_env(venv: Path, python: str, lock: Path, step: str) -> tuple[str, int, bool]:
    stamp = venv / ".installed"
    digest = _lock_digest(lock)
    packages = sum(1 for line in lock.read_text().splitlines() if "==" in line)
    if stamp.exists() and stamp.read_text().strip() == digest:
        print(f"{step} {venv.name}: up to date ({packages} pinned packages)", flush=True)
        return python, packages, False
    if not (venv / "bin" / "python").exists():
        print(f"{step} {venv.name}: creating with {python}", flush=True)
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
    print(f"{step} {venv.name}: installing {packages} pinned packages from {lock.name}", flush=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip"]
    subprocess.run(
        [*pip, "install", "--upgrade", "pip>=23.2"], check=True, stdout=subprocess.DEVNULL
    )
    subprocess.run([*pip, "install", "--no-deps", "-r", str(lock)], check=True)
    subprocess.run([*pip, "check"], check=True)
    stamp.write_text(digest + "\n")
    return python, packages, True


def main() -> None:
    start = time.monotonic()
    only = sys.argv[1:] or ["gateway", "engine"]
    done: list[str] = []
    if "gateway" in only:
        gw_python = (
            sys.executable
            if sys.version_info >= (3, 11)
            else find_python(["3.13", "3.12", "3.11"], "the gateway")
        )
        _, count, changed = ensure_env(
            ROOT / ".venv", gw_python, ROOT / "requirements" / "gateway.lock", "[gateway]"
        )
        done.append(f".venv {count} packages{' (installed)' if changed else ''}")
    if "engine" in only:
        engine_python = find_python(["3.10"], "the Rasa engine")
        _, count, changed = ensure_env(
            ROOT / ".venv-rasa", engine_python, ROOT / "requirements" / "engine.lock", "[engine]"
        )
        done.append(f".venv-rasa {count} packages{' (installed)' if changed else ''}")
    print(f"setup done in {time.monotonic() - start:.0f} s: " + ", ".join(done), flush=True)


if __name__ == "__main__":
    main()
