"""End to end: import the sample padrón with the CLI, then look RUCs up in the chat."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.ops.settings import ROOT
from tests.e2e.stack import Stack

pytestmark = pytest.mark.e2e
SAMPLE = ROOT / "data" / "padron" / "sample_padron_reducido_ruc.txt"


def test_import_then_lookup_in_the_chat_then_the_ruc_is_remembered(stack: Stack) -> None:
    imported = subprocess.run(
        [sys.executable, "-m", "bot", "import-padron", str(SAMPLE)],
        cwd=ROOT, env=stack.environ(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    assert "padrón imported: 185 RUCs from 200 rows" in imported.stdout
    assert "skipped 15" in imported.stdout

    reply = stack.chat("padron-e2e", "oe esta activo el ruc 20000000010?")[0]["text"]
    assert "INVERSIONES ÑAÑA PEÑA S.A.C." in reply and "NO HABIDO" in reply
    # Remembered: the calendar uses its last digit.
    reply = stack.chat("padron-e2e", "y cuando declaro?")[0]["text"]
    assert reply.startswith("Tu RUC termina en 0")
    # A RUC alone, with a wrong check digit.
    reply = stack.chat("padron-e2e", "20000000011")[0]["text"]
    assert "algún dígito está cambiado" in reply
