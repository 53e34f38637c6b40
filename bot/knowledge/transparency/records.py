"""SUNAT's budget execution figures: the amounts, a year as loaded, the errors, the import
summary and the store interface shared by the reader, the stores and their callers.

Amounts are kept in céntimos (integers: exact on both databases). Standard library only
(Python 3.10).
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

#: Called as progress(rows_read, bytes_read, total_bytes) every few thousand rows.
Progress = Callable[[int, int, int], None]

#: Where the figures come from when the file and the command line do not say.
DEFAULT_SOURCE = "MEF – Datos Abiertos: Presupuesto y Ejecución de Gasto"
DEFAULT_SOURCE_URL = "https://datosabiertos.mef.gob.pe/"


class TransparencyError(Exception):
    """Base class: the figures can't be imported or consulted."""


class TransparencyFormatError(TransparencyError):
    """The file can't be imported (wrong columns, a bad number, no date); nothing was stored.

    The message is in Spanish, for whoever runs the import, and names what is wrong."""


class TransparencyUnavailable(TransparencyError):
    """The figures' database can't be reached."""


class TransparencyNotLoaded(TransparencyUnavailable):
    """The database answers, but no figures have been imported into it yet."""


@dataclass(frozen=True)
class Amounts:
    """One line of the budget, in céntimos: PIA and PIM (what was budgeted), then the phases of
    the spending. Certificado, comprometido and girado are ``None`` when the file has no such
    column."""

    pia: int
    pim: int
    devengado: int
    certificado: int | None = None
    comprometido: int | None = None
    girado: int | None = None

    @property
    def avance(self) -> Decimal | None:
        """Devengado over PIM, in percent (as the MEF's Consulta Amigable shows it); ``None``
        without a PIM."""
        if self.pim <= 0:
            return None
        share = Decimal(self.devengado) * 100 / Decimal(self.pim)
        return share.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Category:
    """The amounts of one kind of spending (a genérica de gasto, e.g. BIENES Y SERVICIOS)."""

    nombre: str
    amounts: Amounts


@dataclass(frozen=True)
class YearFigures:
    """One year as loaded: the total, its categories (largest PIM first, empty when the file
    had none), the date the figures are from, where they come from, and whether they are the
    invented sample (``ejemplo``)."""

    anio: int
    fecha_corte: dt.date
    fuente: str
    fuente_url: str
    ejemplo: bool
    total: Amounts
    categorias: tuple[Category, ...] = ()


@dataclass
class ImportSummary:
    """What an import did: rows read, rows left out (other entities, TOTAL lines), the years
    replaced and their categories."""

    source: str
    rows_read: int = 0
    rows_used: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    years: list[int] = field(default_factory=list)
    categories: int = 0
    fecha_corte: dt.date | None = None
    fuente: str = ""
    ejemplo: bool = False

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


def format_summary(summary: ImportSummary, seconds: float) -> str:
    """The closing line of an import (``python -m bot import-transparency``)."""
    years = ", ".join(str(y) for y in summary.years)
    skipped = ", ".join(f"{reason}: {n:,}" for reason, n in sorted(summary.skipped.items()))
    fecha = summary.fecha_corte.isoformat() if summary.fecha_corte else "?"
    return (
        f"transparencia importada: {len(summary.years)} año(s) ({years}) con "
        f"{summary.categories} genérica(s) de gasto, de {summary.rows_read:,} filas en "
        f"{seconds:.1f} s; filas no usadas {sum(summary.skipped.values()):,}"
        + (f" ({skipped})" if skipped else "")
        + f"; fecha de corte {fecha}; fuente: {summary.fuente}"
        + ("; EJEMPLO INVENTADO, no son cifras de SUNAT" if summary.ejemplo else "")
    )


class TransparencyStore(abc.ABC):
    """Where the figures live: read a year; replace the years a file holds."""

    @abc.abstractmethod
    def years(self) -> list[int]:
        """The years loaded, oldest first. Raises :class:`TransparencyNotLoaded` before the
        first import."""

    @abc.abstractmethod
    def year(self, anio: int) -> YearFigures | None:
        """The figures of ``anio``, ``None`` when that year is not loaded. Raises
        :class:`TransparencyNotLoaded` before the first import."""

    @abc.abstractmethod
    def import_file(
        self,
        path: Path | str,
        fecha_corte: dt.date | None = None,
        fuente: str | None = None,
        fuente_url: str | None = None,
        pliego: str | None = None,
        progress: Progress | None = None,
    ) -> ImportSummary:
        """Validate ``path`` whole, then replace each year it holds in one transaction (the
        other years stay, except the invented sample's: real figures replace all of it).
        Raises :class:`TransparencyFormatError`, with nothing stored, when the file can't be
        used."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections; the store must not be used afterwards."""

    def __enter__(self) -> TransparencyStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def centimos(soles: Decimal) -> int:
    """Soles as whole céntimos (half up)."""
    return int((soles * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
