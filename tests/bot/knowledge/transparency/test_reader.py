"""The budget execution CSV reader: the MEF's formats, sums per year and genérica, and a
Spanish error naming what is wrong for anything else."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.knowledge.transparency.reader import (
    OTHER_ENTITY,
    TOTAL_ROW,
    BudgetFile,
    amount,
    category_name,
    header_key,
    read_budget,
)
from bot.knowledge.transparency.records import ImportSummary, TransparencyFormatError

ROOT = Path(__file__).resolve().parents[4]
SAMPLE = ROOT / "data" / "transparency" / "ejemplo_inventado_ejecucion_gasto.csv"
MONTHLY = (
    "ANO_EJE,MES_EJE,PLIEGO,PLIEGO_NOMBRE,GENERICA_NOMBRE,MONTO_PIA,MONTO_PIM,"
    "MONTO_CERTIFICADO,MONTO_COMPROMETIDO_ANUAL,MONTO_DEVENGADO,MONTO_GIRADO"
)


def write(tmp_path: Path, text: str, name: str = "gasto.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def read(path: Path, pliego: str | None = None) -> tuple[BudgetFile, ImportSummary]:
    summary = ImportSummary(source=str(path))
    return read_budget(path, summary, pliego), summary


def test_headers_are_compared_without_case_accents_or_punctuation() -> None:
    assert header_key("AÑO_EJE") == header_key("Año Eje") == "ANO_EJE"
    assert header_key("\ufeffAvance %") == "AVANCE"
    assert header_key("Certificación") == "CERTIFICACION"


@pytest.mark.parametrize(
    ("raw", "centimos"),
    [("1234567.89", 123456789), ("1,234,567.89", 123456789), ("", 0), ("-", 0),
     ("0.005", 1), ("-12.5", -1250), ("1.234,56", None), ("12,34", None), ("abc", None),
     ("1e6", None)],
)  # fmt: skip
def test_amounts_are_soles_with_a_decimal_point(raw: str, centimos: int | None) -> None:
    assert amount(raw) == centimos


def test_consulta_amigable_codes_are_dropped_from_a_generica() -> None:
    assert category_name("5-23: BIENES Y SERVICIOS") == "BIENES Y SERVICIOS"
    assert category_name("  PERSONAL Y  OBLIGACIONES SOCIALES ") == (
        "PERSONAL Y OBLIGACIONES SOCIALES"
    )


def test_the_monthly_file_takes_the_budget_from_month_0_and_sums_the_months(
    tmp_path: Path,
) -> None:
    rows = [
        MONTHLY,
        "2026,0,057,ENTIDAD,BIENES Y SERVICIOS,1000.00,1200.00,0,0,0,0",
        # a month row repeating the budget must not count it twice
        "2026,1,057,ENTIDAD,BIENES Y SERVICIOS,1000.00,1200.00,110.00,105.00,100.00,90.00",
        "2026,2,057,ENTIDAD,BIENES Y SERVICIOS,0,0,220.00,210.00,200.50,180.00",
        "2026,0,057,ENTIDAD,PERSONAL Y OBLIGACIONES SOCIALES,5000,5000,0,0,0,0",
        "2026,1,057,ENTIDAD,PERSONAL Y OBLIGACIONES SOCIALES,0,0,400,400,400,400",
    ]
    budget, summary = read(write(tmp_path, "\n".join(rows) + "\n"))
    total, categories = budget.amounts(2026)
    assert (total.pia, total.pim, total.devengado) == (600000, 620000, 70050)
    assert (total.certificado, total.comprometido, total.girado) == (73000, 71500, 67000)
    assert [name for name, _ in categories] == [
        "PERSONAL Y OBLIGACIONES SOCIALES",
        "BIENES Y SERVICIOS",
    ]
    assert categories[1][1].devengado == 30050 and categories[1][1].pim == 120000
    assert summary.rows_read == summary.rows_used == 5


def test_consulta_amigables_table_with_a_total_row_and_semicolons(tmp_path: Path) -> None:
    text = (
        "Año;Genérica;PIA;PIM;Certificación;Compromiso Anual;Devengado;Girado;Avance %\n"
        "2025;5-21: PERSONAL Y OBLIGACIONES SOCIALES;1,000,000;1,100,000;0;0;990,000;980,000;90\n"
        "2025;5-23: BIENES Y SERVICIOS;500,000;400,000;0;0;300,000;290,000;75\n"
        "2025;TOTAL;1,500,000;1,500,000;0;0;1,290,000;1,270,000;86\n"
    )
    budget, summary = read(write(tmp_path, text, encoding="latin-1"))
    total, categories = budget.amounts(2025)
    assert total.pim == 150_000_000 and total.devengado == 129_000_000
    assert [name for name, _ in categories] == ["PERSONAL Y OBLIGACIONES SOCIALES",
                                                "BIENES Y SERVICIOS"]  # fmt: skip
    assert summary.skipped == {TOTAL_ROW: 1}


def test_the_annual_variant_and_a_file_without_optional_columns(tmp_path: Path) -> None:
    annual = (
        "ANO_EJE,MONTO_PIA,MONTO_PIM,MONTO_CERTIFICADO_ANUAL,MONTO_DEVENGADO_ANUAL,"
        "MONTO_GIRADO_ANUAL\n2024,10,20,15,12,11\n2024,1,2,1,1,1\n"
    )
    total, categories = read(write(tmp_path, annual))[0].amounts(2024)
    assert (total.pia, total.pim, total.devengado, total.girado) == (1100, 2200, 1300, 1200)
    assert total.comprometido is None and categories == []
    bare = "ANO_EJE,MONTO_PIA,MONTO_PIM,MONTO_DEVENGADO\n2024,10,20,15\n"
    total, _ = read(write(tmp_path, bare, "bare.csv"))[0].amounts(2024)
    assert total.certificado is None and total.girado is None and total.devengado == 1500


def test_the_files_own_lines_say_its_date_source_and_that_it_is_the_sample() -> None:
    budget, summary = read(SAMPLE)
    assert budget.metadata["fecha_corte"] == "2026-11-30"
    assert budget.metadata["ejemplo"].startswith("sí")
    assert "inventado" in budget.metadata["fuente"].lower()
    assert budget.years() == [2025, 2026] and summary.rows_read == 125


def test_wrong_columns_are_named_in_spanish(tmp_path: Path) -> None:
    path = write(tmp_path, "ANO_EJE,PIA,GASTADO\n2026,1,2\n")
    with pytest.raises(TransparencyFormatError) as error:
        read(path)
    message = str(error.value)
    assert message.startswith("El archivo no tiene el formato de ejecución presupuestal del MEF")
    assert "faltan las columnas MONTO_PIM (PIM), MONTO_DEVENGADO (devengado)" in message
    assert "Columnas encontradas: ANO_EJE, PIA, GASTADO" in message
    assert message.endswith("Nada se guardó.")


@pytest.mark.parametrize(
    ("rows", "problem"),
    [(["2026,0,BYS,1000.00,abc,0"], "línea 2: «abc» en la columna MONTO_PIM no es un monto"),
     (["2026,0,BYS,1,1,0", "2O26,1,BYS,0,0,5"], "línea 3: «2O26» no es un año"),
     (["2026,13,BYS,0,0,5"], "línea 2: «13» en MES_EJE no es un mes (0 a 12)"),
     (["2026,0,BYS,1,1"], "línea 2: tiene 5 columnas y la cabecera 6"),
     (["2026,1,BYS,0,0,5"], "no las filas del presupuesto del año (MES_EJE = 0) de 2026")],
)  # fmt: skip
def test_a_bad_line_is_named(tmp_path: Path, rows: list[str], problem: str) -> None:
    header = "ANO_EJE,MES_EJE,GENERICA_NOMBRE,MONTO_PIA,MONTO_PIM,MONTO_DEVENGADO"
    with pytest.raises(TransparencyFormatError, match="Nada se guardó") as error:
        read(write(tmp_path, "\n".join([header, *rows]) + "\n"))
    assert problem in str(error.value)


def test_an_empty_file_and_a_file_without_rows(tmp_path: Path) -> None:
    with pytest.raises(TransparencyFormatError, match="está vacío"):
        read(write(tmp_path, "# fecha_corte: 2026-01-31\n\n"))
    with pytest.raises(TransparencyFormatError, match="no tiene filas con cifras"):
        read(write(tmp_path, "ANO_EJE,MONTO_PIA,MONTO_PIM,MONTO_DEVENGADO\n", "h.csv"))


def test_several_entities_need_the_pliego_and_only_its_rows_are_summed(tmp_path: Path) -> None:
    rows = [
        MONTHLY,
        "2026,0,057,SUPERINTENDENCIA,BYS,100,100,0,0,0,0",
        "2026,1,057,SUPERINTENDENCIA,BYS,0,0,0,0,40,0",
        "2026,0,010,MINISTERIO,BYS,900,900,0,0,0,0",
        "2026,1,010,MINISTERIO,BYS,0,0,0,0,800,0",
    ]
    path = write(tmp_path, "\n".join(rows) + "\n")
    with pytest.raises(TransparencyFormatError) as error:
        read(path)
    assert "varias entidades" in str(error.value) and "--pliego" in str(error.value)
    budget, summary = read(path, pliego="57")
    total, _ = budget.amounts(2026)
    assert (total.pim, total.devengado) == (10000, 4000)
    assert summary.skipped == {OTHER_ENTITY: 2}
    with pytest.raises(TransparencyFormatError, match="Ninguna fila es del pliego 999"):
        read(path, pliego="999")


def test_a_file_that_cannot_be_read_is_a_spanish_error(tmp_path: Path) -> None:
    with pytest.raises(TransparencyFormatError, match=r"No se pudo leer el archivo nada\.csv"):
        read(tmp_path / "nada.csv")


def test_progress_is_reported_to_the_end(tmp_path: Path) -> None:
    rows = ["ANO_EJE,MONTO_PIA,MONTO_PIM,MONTO_DEVENGADO"] + ["2026,1,1,1"] * 45_000
    path = write(tmp_path, "\n".join(rows) + "\n")
    calls: list[tuple[int, int, int]] = []
    read_budget(path, ImportSummary(source="x"), None, lambda *a: calls.append(a))
    assert [c[0] for c in calls] == [20_000, 40_000, 45_000]
    assert calls[-1][1] == calls[-1][2] == path.stat().st_size
