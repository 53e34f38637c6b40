"""What the engine's tests that drive the trained model share (engine environment): the newest
model in models/ and a free port (the fixtures built on them are in conftest.py)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "models"


def latest_model() -> Path:
    """The newest trained model; the test is skipped when there is none (``make train``)."""
    models = sorted(MODELS.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        pytest.skip("no trained model in models/ (make train)")
    return models[-1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
