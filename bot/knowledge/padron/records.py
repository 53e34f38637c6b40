"""The padrón's records and the store interface: what every part of ``bot.knowledge.padron``
shares (the file reader, the SQLite store, the PostgreSQL store and their callers).

Standard library only (Python 3.10). Full RUCs and names are never logged at info level: an
entry's ``repr`` masks the RUC and leaves the name out.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path

from bot.knowledge.tax.ruc import RUC_LENGTH, mask_ruc

#: How the padrón writes a missing value.
MISSING = "-"

#: Called as progress(rows_read, bytes_read, total_bytes) once per chunk of the file.
Progress = Callable[[int, int, int], None]


class PadronError(Exception):
    """Base class: the padrón can't be imported or consulted."""


class PadronFormatError(PadronError):
    """The file is not a usable padrón (empty, wrong header, corrupt zip); nothing was replaced."""


class PadronUnavailable(PadronError):
    """No padrón has been imported yet, or its database can't be reached."""


class PadronNotLoaded(PadronUnavailable):
    """The database answers, but no padrón has been imported into it yet."""


@dataclass(frozen=True, repr=False)
class PadronEntry:
    """One taxpayer as listed in the padrón; values are stripped, ``None`` where it says ``-``."""

    ruc: str
    nombre: str | None
    estado: str | None
    condicion: str | None
    ubigeo: str | None
    tipo_via: str | None
    nombre_via: str | None
    codigo_zona: str | None
    tipo_zona: str | None
    numero: str | None
    interior: str | None
    lote: str | None
    departamento: str | None
    manzana: str | None
    kilometro: str | None

    def __repr__(self) -> str:  # safe to log: no full RUC, no name
        return (
            f"PadronEntry(ruc={mask_ruc(self.ruc)!r}, estado={self.estado!r}, "
            f"condicion={self.condicion!r})"
        )

    @classmethod
    def from_fields(cls, ruc: str, values: list[str | None]) -> PadronEntry:
        cleaned = [_value(v) for v in values]
        return cls(ruc, *cleaned)


#: Columns of an entry after the RUC (14).
ENTRY_FIELDS = len(fields(PadronEntry)) - 1


def _value(raw: str | None) -> str | None:
    if raw is None:
        return None
    text = raw.strip()
    return None if not text or text == MISSING else text


@dataclass
class ImportSummary:
    """What an import did: rows read, stored, skipped by reason, and replaced by a later row."""

    source: str
    rows_read: int = 0
    imported: int = 0
    replaced: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


def format_summary(summary: ImportSummary, seconds: float) -> str:
    """The closing line of an import, e.g. for ``python -m bot padron import``."""
    rate = summary.rows_read / seconds if seconds > 0 else 0.0
    skipped = ", ".join(f"{reason}: {n:,}" for reason, n in sorted(summary.skipped.items()))
    return (
        f"padrón imported: {summary.imported:,} RUCs from {summary.rows_read:,} rows in "
        f"{seconds:.1f} s ({rate:,.0f} rows/s); skipped {summary.skipped_total:,}"
        + (f" ({skipped})" if skipped else "")
        + f"; replaced by a later row {summary.replaced:,}"
    )


class PadronStore(abc.ABC):
    """Where the padrón lives: look up one RUC; replace everything from a SUNAT file."""

    @abc.abstractmethod
    def lookup(self, ruc: str) -> PadronEntry | None:
        """The taxpayer with this RUC, ``None`` if the padrón doesn't list it.

        Raises :class:`PadronUnavailable` if no padrón has been imported yet.
        """

    @abc.abstractmethod
    def import_file(self, path: Path | str, progress: Progress | None = None) -> ImportSummary:
        """Replace the whole padrón with ``path`` (.txt or .zip) atomically."""

    @abc.abstractmethod
    def count(self) -> int:
        """RUCs in the padrón in use (0 before the first import)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections; the store must not be used afterwards."""

    def __enter__(self) -> PadronStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def lookup_key(ruc: str) -> int | None:
    """The RUC as the stores' integer key, ``None`` if it is not 11 digits."""
    ruc = ruc.strip()
    if len(ruc) != RUC_LENGTH or not (ruc.isascii() and ruc.isdigit()):
        return None
    return int(ruc)
