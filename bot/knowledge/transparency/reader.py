"""Reading a budget execution CSV in the format of the MEF's open data, summed per year and per
genérica de gasto.

Accepted headers (compared without case, accents or punctuation; data/transparency/README.md
says where they come from):

* MEF Datos Abiertos, «Presupuesto y Ejecución de Gasto»: ``ANO_EJE``, ``MES_EJE``, ``PLIEGO``,
  ``PLIEGO_NOMBRE``, ``GENERICA_NOMBRE``, ``MONTO_PIA``, ``MONTO_PIM``, ``MONTO_CERTIFICADO``,
  ``MONTO_COMPROMETIDO_ANUAL``, ``MONTO_DEVENGADO``, ``MONTO_GIRADO``. With ``MES_EJE`` the PIA
  and the PIM are read from the rows of month 0 and the phases of the spending are summed over
  months 1 to 12 (the month-0 row holds the year's budget, the others the month's execution);
* its «Devengado mensual» variant: ``MONTO_CERTIFICADO_ANUAL``, ``MONTO_DEVENGADO_ANUAL``,
  ``MONTO_GIRADO_ANUAL`` (one row per line of the budget, for the whole year);
* Consulta Amigable's table saved as CSV: ``Año``, ``Genérica``, ``PIA``, ``PIM``,
  ``Certificación``, ``Compromiso Anual``, ``Devengado``, ``Girado``, ``Avance %`` (a ``TOTAL``
  row is left out; the avance is computed again from devengado and PIM).

Lines starting with ``#`` before the header carry what the file says about itself:
``# fecha_corte: 2026-11-30``, ``# fuente: …``, ``# fuente_url: https://…``, ``# ejemplo: …``
(the invented sample says so there). Any problem is a
:class:`~bot.knowledge.transparency.records.TransparencyFormatError` with a Spanish message
naming the column or the line, and the caller stores nothing. Standard library only.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import os
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from bot.knowledge.text import fold
from bot.knowledge.transparency.records import (
    Amounts,
    ImportSummary,
    Progress,
    TransparencyFormatError,
    centimos,
)

#: Each field and the headers that carry it, in order of preference.
COLUMNS: dict[str, tuple[str, ...]] = {
    "anio": ("ANO_EJE", "ANIO_EJE", "ANO", "ANIO"),
    "mes": ("MES_EJE",),
    "pliego": ("PLIEGO",),
    "pliego_nombre": ("PLIEGO_NOMBRE",),
    "categoria": ("GENERICA_NOMBRE", "GENERICA"),
    "pia": ("MONTO_PIA", "PIA"),
    "pim": ("MONTO_PIM", "PIM"),
    "devengado": ("MONTO_DEVENGADO", "MONTO_DEVENGADO_ANUAL", "DEVENGADO"),
    "certificado": (
        "MONTO_CERTIFICADO",
        "MONTO_CERTIFICADO_ANUAL",
        "CERTIFICACION",
        "CERTIFICADO",
    ),
    "comprometido": ("MONTO_COMPROMETIDO_ANUAL", "COMPROMISO_ANUAL"),
    "girado": ("MONTO_GIRADO", "MONTO_GIRADO_ANUAL", "GIRADO"),
}
#: Without these, a file is not a budget execution file.
REQUIRED = ("anio", "pia", "pim", "devengado")
#: How a missing column is named in the error (the MEF's header, and what it is).
LABELS = {
    "anio": "ANO_EJE (año)",
    "pia": "MONTO_PIA (PIA)",
    "pim": "MONTO_PIM (PIM)",
    "devengado": "MONTO_DEVENGADO (devengado)",
}
#: The budget (a stock for the year) and the phases of the spending (flows, month by month).
BUDGET = ("pia", "pim")
FLOWS = ("devengado", "certificado", "comprometido", "girado")
#: Skip reasons, as shown in the import summary.
OTHER_ENTITY = "otro pliego"
TOTAL_ROW = "fila TOTAL"

FIRST_YEAR, LAST_YEAR = 1990, 2100
#: Errors listed before giving up on a file (the rest are counted).
MAX_LISTED = 5
_PROGRESS_ROWS = 20_000
_SNIFF_BYTES = 1 << 20
_DELIMITERS = (",", ";", "\t", "|")
_PLAIN = re.compile(r"-?\d+(?:\.\d+)?")
_GROUPED = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
#: Consulta Amigable writes a genérica as "5-23: BIENES Y SERVICIOS".
_CODE_PREFIX = re.compile(r"^\s*\d+(?:[-.]\d+)*\s*[:.\-]\s*(?=\S)")
_META_KEYS = {"fecha_corte", "fuente", "fuente_url", "ejemplo"}


def header_key(text: str) -> str:
    """A header as compared: ``"Año Eje"``, ``"AÑO_EJE"`` → ``ANO_EJE``; ``"Avance %"`` →
    ``AVANCE``."""
    return re.sub(r"[^A-Z0-9]+", "_", fold(text.strip().lstrip("\ufeff")).upper()).strip("_")


@dataclass
class BudgetFile:
    """A file read whole: the amounts per (year, category) (category ``""`` when the file has
    none), which optional columns it has, and what its ``#`` lines say."""

    lines: dict[tuple[int, str], dict[str, int]] = field(default_factory=dict)
    optional: frozenset[str] = frozenset()
    metadata: dict[str, str] = field(default_factory=dict)
    pliego: str | None = None

    def years(self) -> list[int]:
        return sorted({anio for anio, _ in self.lines})

    def amounts(self, anio: int) -> tuple[Amounts, list[tuple[str, Amounts]]]:
        """The year's total and its categories, largest PIM first."""
        categories = [
            (nombre, self._amounts(sums))
            for (year, nombre), sums in self.lines.items()
            if year == anio and nombre
        ]
        categories.sort(key=lambda c: (-c[1].pim, c[0]))
        totals: dict[str, int] = {}
        for (year, _), sums in self.lines.items():
            if year == anio:
                for name, value in sums.items():
                    totals[name] = totals.get(name, 0) + value
        return self._amounts(totals), categories

    def _amounts(self, sums: dict[str, int]) -> Amounts:
        def optional(name: str) -> int | None:
            return sums.get(name, 0) if name in self.optional else None

        return Amounts(
            pia=sums.get("pia", 0),
            pim=sums.get("pim", 0),
            devengado=sums.get("devengado", 0),
            certificado=optional("certificado"),
            comprometido=optional("comprometido"),
            girado=optional("girado"),
        )


def amount(raw: str) -> int | None:
    """A CSV amount in soles as céntimos: ``1234567.89`` or ``1,234,567.89``; empty is 0;
    ``None`` when it is not a number written that way."""
    text = raw.strip().replace("\u00a0", "")
    if text in ("", "-"):
        return 0
    if not (_PLAIN.fullmatch(text) or _GROUPED.fullmatch(text)):
        return None
    try:
        return centimos(Decimal(text.replace(",", "")))
    except InvalidOperation:  # pragma: no cover - the patterns admit only numbers
        return None


def category_name(raw: str) -> str:
    """A genérica's name as shown to citizens: the code Consulta Amigable puts before it
    dropped, spaces collapsed."""
    return " ".join(_CODE_PREFIX.sub("", raw).split())


def _encoding(path: Path) -> str:
    with open(path, "rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "latin-1"
    return "utf-8-sig"


def read_budget(
    path: Path | str,
    summary: ImportSummary,
    pliego: str | None = None,
    progress: Progress | None = None,
) -> BudgetFile:
    """Read and sum ``path`` whole; raise :class:`TransparencyFormatError` on any problem."""
    source = Path(path)
    try:
        total_bytes = os.path.getsize(source)
        encoding = _encoding(source)
        with (
            open(source, "rb") as raw,
            io.TextIOWrapper(raw, encoding=encoding, newline="") as text,
        ):
            return _read(text, raw, total_bytes, summary, pliego, progress)
    except UnicodeDecodeError as exc:
        raise TransparencyFormatError(
            f"El archivo {source.name} no es texto UTF-8 ni Latin-1 válido "
            f"(byte {exc.start}). Nada se guardó."
        ) from exc
    except OSError as exc:
        raise TransparencyFormatError(
            f"No se pudo leer el archivo {source.name}: {exc.strerror or exc}. Nada se guardó."
        ) from exc


def _read(
    text: io.TextIOWrapper,
    raw: io.BufferedReader,
    total_bytes: int,
    summary: ImportSummary,
    pliego: str | None,
    progress: Progress | None,
) -> BudgetFile:
    budget = BudgetFile()
    header_line = 0
    header: list[str] | None = None
    for number, line in enumerate(text, 1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            key, sep, value = stripped.lstrip("#").partition(":")
            key = re.sub(r"[^a-z]+", "_", fold(key).strip())
            if sep and key in _META_KEYS:
                budget.metadata[key] = value.strip()
            continue
        header_line = number
        delimiter = max(_DELIMITERS, key=stripped.count)
        header = next(csv.reader([stripped], delimiter=delimiter))
        break
    if header is None:
        raise TransparencyFormatError(
            "El archivo está vacío: no tiene cabecera ni filas. Nada se guardó."
        )
    keys = [header_key(h) for h in header]
    where: dict[str, int] = {}
    for name, aliases in COLUMNS.items():
        for alias in aliases:
            if alias in keys:
                where[name] = keys.index(alias)
                break
    missing = [LABELS[name] for name in REQUIRED if name not in where]
    if missing:
        found = ", ".join(h.strip() for h in header if h.strip()) or "ninguna"
        raise TransparencyFormatError(
            "El archivo no tiene el formato de ejecución presupuestal del MEF: "
            f"faltan las columnas {', '.join(missing)}. Columnas encontradas: {found}. "
            "Nada se guardó."
        )
    budget.optional = frozenset(n for n in ("certificado", "comprometido", "girado") if n in where)
    wanted = pliego.strip().lstrip("0") if pliego else None
    rows = csv.reader(text, delimiter=delimiter)
    problems: list[str] = []
    budget_years: set[int] = set()
    monthly = "mes" in where
    width = len(header)
    for row in rows:
        number = header_line + rows.line_num
        if not any(cell.strip() for cell in row):
            continue
        summary.rows_read += 1
        if progress is not None and summary.rows_read % _PROGRESS_ROWS == 0:
            progress(summary.rows_read, raw.tell(), total_bytes)
        if len(row) != width:
            problems.append(f"línea {number}: tiene {len(row)} columnas y la cabecera {width}")
            if len(problems) > MAX_LISTED:
                break
            continue
        if not _is_wanted(row, where, wanted, budget, summary):
            continue
        if "categoria" in where:
            categoria = category_name(row[where["categoria"]])
            if fold(categoria) in ("total", "total general"):
                summary.skip(TOTAL_ROW)
                continue
        else:
            categoria = ""
        line_problem = _add(row, number, header, where, monthly, categoria, budget, budget_years)
        if line_problem:
            problems.append(line_problem)
            if len(problems) > MAX_LISTED:
                break
            continue
        summary.rows_used += 1
    if progress is not None:
        progress(summary.rows_read, total_bytes, total_bytes)
    if problems:
        listed = "; ".join(problems[:MAX_LISTED])
        more = " (y hay más)" if len(problems) > MAX_LISTED else ""
        raise TransparencyFormatError(f"El archivo tiene errores: {listed}{more}. Nada se guardó.")
    if wanted is not None and budget.pliego is None:
        raise TransparencyFormatError(
            f"Ninguna fila es del pliego {pliego}: revisa el código con que lo indicaste. "
            "Nada se guardó."
        )
    if not budget.lines:
        raise TransparencyFormatError("El archivo no tiene filas con cifras. Nada se guardó.")
    if monthly:
        without = sorted({anio for anio, _ in budget.lines} - budget_years)
        if without:
            raise TransparencyFormatError(
                "El archivo trae MES_EJE pero no las filas del presupuesto del año (MES_EJE = 0) "
                f"de {', '.join(str(y) for y in without)}: sin ellas el PIA y el PIM saldrían en "
                "cero. Descarga el archivo completo del año. Nada se guardó."
            )
    return budget


def _is_wanted(
    row: list[str],
    where: dict[str, int],
    wanted: str | None,
    budget: BudgetFile,
    summary: ImportSummary,
) -> bool:
    """Whether the row is of the entity imported: the ``--pliego`` asked for, or the only one
    the file holds (a file of several entities without ``--pliego`` is refused)."""
    if "pliego" not in where and "pliego_nombre" not in where:
        return True
    code = row[where["pliego"]].strip() if "pliego" in where else ""
    name = row[where["pliego_nombre"]].strip() if "pliego_nombre" in where else ""
    label = f"{code} {name}".strip()
    if wanted is not None:
        if code.lstrip("0") != wanted:
            summary.skip(OTHER_ENTITY)
            return False
        budget.pliego = budget.pliego or label
        return True
    if budget.pliego is None:
        budget.pliego = label
    elif budget.pliego != label:
        raise TransparencyFormatError(
            f"El archivo trae cifras de varias entidades (pliegos «{budget.pliego}» y "
            f"«{label}»): indica cuál importar con --pliego CÓDIGO. Nada se guardó."
        )
    return True


def _add(
    row: list[str],
    number: int,
    header: list[str],
    where: dict[str, int],
    monthly: bool,
    categoria: str,
    budget: BudgetFile,
    budget_years: set[int],
) -> str | None:
    """Add one row's amounts to its (year, category); the problem with the line, if any."""
    year_text = row[where["anio"]].strip()
    if not (year_text.isdigit() and FIRST_YEAR <= int(year_text) <= LAST_YEAR):
        return f"línea {number}: «{year_text}» no es un año"
    anio = int(year_text)
    fields: tuple[str, ...] = (*BUDGET, *FLOWS)
    if monthly:
        month_text = row[where["mes"]].strip()
        if not (month_text.isdigit() and 0 <= int(month_text) <= 12):
            return f"línea {number}: «{month_text}» en MES_EJE no es un mes (0 a 12)"
        if int(month_text) == 0:
            fields = BUDGET
            budget_years.add(anio)
        else:
            fields = FLOWS
    values: dict[str, int] = {}
    for name in fields:
        if name not in where:
            continue
        raw = row[where[name]]
        value = amount(raw)
        if value is None:
            return (
                f"línea {number}: «{raw.strip()}» en la columna {header[where[name]].strip()} "
                "no es un monto "
                "(escríbelo como 1234567.89 o 1,234,567.89)"
            )
        values[name] = value
    sums = budget.lines.setdefault((anio, categoria), {})
    for name, value in values.items():
        sums[name] = sums.get(name, 0) + value
    return None


def metadata_date(text: str) -> dt.date:
    """A ``fecha_corte`` written ``YYYY-MM-DD`` or ``DD/MM/YYYY``."""
    text = text.strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise TransparencyFormatError(
        f"«{text}» no es una fecha de corte válida: escríbela como AAAA-MM-DD. Nada se guardó."
    )
