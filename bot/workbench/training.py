"""Training: a model is named after the content hash of what it was trained from."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from bot.ops.engine_env import engine_bin, engine_environ
from bot.ops.settings import ROOT

MODELS = ROOT / "models"
LOGS = ROOT / "var" / "logs"

#: Everything a trained model depends on. Knowledge-base answers are not here: they are read
#: at answer time, so editing one needs no retraining.
TRAINING_INPUTS = (
    "config.yml",
    "domain.yml",
    "data/nlu",
    "data/rules",
    "data/stories",
    "bot/engine",
    "requirements/engine.lock",
)


def _files(root: Path, inputs: Iterable[str]) -> list[Path]:
    files: list[Path] = []
    for name in inputs:
        path = root / name
        if not path.exists():  # a project copy without the code: the repository's code
            path = ROOT / name
        if path.is_dir():
            files.extend(
                p
                for p in sorted(path.rglob("*"))
                if p.is_file() and p.suffix in (".yml", ".yaml", ".py", ".md")
            )
        elif path.is_file():
            files.append(path)
    return files


def fingerprint(root: Path = ROOT, config: str = "config.yml") -> str:
    """Content hash of the training inputs (paths and bytes), for ``config``."""
    digest = hashlib.sha256()
    inputs = [config if i == "config.yml" else i for i in TRAINING_INPUTS]
    for path in _files(root, inputs):
        digest.update(str(path.relative_to(root if path.is_relative_to(root) else ROOT)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def model_path(config: str = "config.yml", root: Path = ROOT) -> Path:
    name = Path(config).stem
    prefix = "" if name == "config" else f"{name}-"
    return MODELS / f"{prefix}{fingerprint(root, config)}.tar.gz"


#: Rasa's log line for each component trained, or taken from its training cache.
_PROGRESS = re.compile(r"(Finished training|Restored) component '([^']+)'")


def train(config: str = "config.yml", force: bool = False, root: Path = ROOT) -> Path:
    """Train unless a model for the current inputs exists; show progress; return its path.
    ``root``: the Rasa project (config, domain, data) when it is not the repository."""
    target = model_path(config, root)
    if target.exists() and not force:
        print(f"model up to date: {target.relative_to(ROOT)}", flush=True)
        return target
    MODELS.mkdir(exist_ok=True)
    LOGS.mkdir(parents=True, exist_ok=True)
    log_path = LOGS / f"train-{Path(config).stem}.log"
    command = [
        str(engine_bin("rasa")),
        "train",
        "--config",
        config,
        "--out",
        str(MODELS),
        "--fixed-model-name",
        target.name.removesuffix(".tar.gz"),
        "-v",  # the components' progress (LOG_LEVEL in the environment may ask for less)
    ]
    print(f"training {target.name} from {config} (log: {log_path.relative_to(ROOT)})", flush=True)
    started = time.monotonic()
    steps = 0
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command,
            cwd=root,
            env=engine_environ(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert process.stdout is not None
        for line in process.stdout:
            log.write(line)
            match = _PROGRESS.search(line)
            if match:
                steps += 1
                elapsed = time.monotonic() - started
                done = "trained" if match.group(1) == "Finished training" else "cached"
                print(f"  [{elapsed:5.1f} s] {done} {match.group(2)}", flush=True)
        code = process.wait()
    if code != 0 or not target.exists():
        sys.stdout.write(log_path.read_text()[-3000:])
        raise SystemExit(f"error: training failed (exit {code}); see {log_path}")
    print(
        f"training done in {time.monotonic() - started:.0f} s: {steps} components, "
        f"{target.relative_to(ROOT)}",
        flush=True,
    )
    return target
