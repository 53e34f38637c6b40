"""End to end on a fresh ``make run``: SUNAT's budget figures imported with the command line into
the stack's database, then asked for in the web chat; a file with wrong columns refused in
Spanish with nothing stored."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from bot.knowledge.transparency import open_transparency
from bot.ops.settings import ROOT
from tests.e2e.stack import Stack

pytestmark = pytest.mark.e2e


def import_figures(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "import-transparency", *args],
        cwd=ROOT, env=stack.environ(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_spending_is_answered_from_imported_figures_and_a_wrong_file_is_refused(
    stack: Stack, tmp_path: Path
) -> None:
    # `bot up` loaded the labelled example: the answer says so.
    reply = stack.chat("transparencia-e2e-1", "¿cuánto ha gastado SUNAT este año?")[0]["text"]
    assert reply.startswith("⚠️ EJEMPLO: estas cifras son inventadas")

    year = dt.date.today().year
    real = tmp_path / "gasto.csv"
    real.write_text(
        "ANO_EJE,MES_EJE,GENERICA_NOMBRE,MONTO_PIA,MONTO_PIM,MONTO_DEVENGADO,MONTO_GIRADO\n"
        f"{year},0,BIENES Y SERVICIOS,900000000.00,1000000000.00,0,0\n"
        f"{year},1,BIENES Y SERVICIOS,0,0,250000000.00,240000000.00\n"
        f"{year},2,BIENES Y SERVICIOS,0,0,375000000.00,370000000.00\n",
        encoding="utf-8",
    )
    cut = dt.date.today() - dt.timedelta(days=1)
    done = import_figures(
        stack, str(real), "--fecha-corte", cut.isoformat(), "--fuente", "MEF – Consulta Amigable"
    )
    assert done.returncode == 0, done.stderr
    assert f"transparencia importada: 1 año(s) ({year})" in done.stdout

    reply = stack.chat("transparencia-e2e-2", "¿cuánto ha gastado SUNAT este año?")[0]["text"]
    assert "EJEMPLO" not in reply
    assert f"En {year}, el gasto de SUNAT (devengado) suma S/ 625.0 millones: el 62.5 %" in reply
    assert "que es de S/ 1,000.0 millones" in reply
    assert f"Datos al {cut.day} de" in reply and "Fuente: MEF – Consulta Amigable" in reply
    assert "https://apps5.mineco.gob.pe/transparencia/Navegador/default.aspx" in reply

    wrong = tmp_path / "otro.csv"
    wrong.write_text(f"AÑO;CONCEPTO;MONTO\n{year};PLANILLA;999\n", encoding="utf-8")
    refused = import_figures(stack, str(wrong), "--fecha-corte", cut.isoformat())
    assert refused.returncode == 1
    assert "El archivo no tiene el formato de ejecución presupuestal del MEF" in refused.stderr
    assert "faltan las columnas MONTO_PIA (PIA), MONTO_PIM (PIM)" in refused.stderr
    assert "Nada se guardó." in refused.stderr
    with open_transparency(stack.settings.transparency_url) as store:
        figures = store.year(year)
        assert figures is not None and figures.total.devengado == 62_500_000_000
    reply = stack.chat("transparencia-e2e-3", "cuanto ha gastado la sunat este año")[0]["text"]
    assert "suma S/ 625.0 millones" in reply
