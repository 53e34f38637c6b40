"""Reading SUNAT's padrón reducido del RUC file: the ``.txt`` or the ``.zip`` as downloaded.

ISO-8859-1, ``|``-delimited, a header row, 15 columns, ``-`` for a missing value, about 15
million rows. Malformed rows are skipped and counted by reason, never fatal; a file that is not
a padrón at all (empty, wrong header, corrupt zip, no valid row) is a
:class:`~bot.knowledge.padron.records.PadronFormatError`. The valid rows come out verbatim
(``RUC|14 fields``) in batches, for a store to load. Standard library only (Python 3.10).
"""

from __future__ import annotations

import contextlib
import os
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from bot.knowledge.padron.records import ImportSummary, PadronFormatError, Progress
from bot.knowledge.tax.ruc import PREFIXES, RUC_LENGTH, WEIGHTS

COLUMNS = (
    "RUC",
    "NOMBRE O RAZÓN SOCIAL",
    "ESTADO DEL CONTRIBUYENTE",
    "CONDICIÓN DE DOMICILIO",
    "UBIGEO",
    "TIPO DE VÍA",
    "NOMBRE DE VÍA",
    "CÓDIGO DE ZONA",
    "TIPO DE ZONA",
    "NÚMERO",
    "INTERIOR",
    "LOTE",
    "DEPARTAMENTO",
    "MANZANA",
    "KILÓMETRO",
)
#: The txt inside SUNAT's zip.
MEMBER = "padron_reducido_ruc.txt"

_CHUNK_BYTES = 1 << 22  # 4 MiB of file per step: ~40,000 rows, one progress call
_BATCH_ROWS = 40_000


# Skip reasons, as shown in the import summary.
EXTRA_COLUMN = "extra column"
MISSING_COLUMNS = "missing columns"
STRAY_QUOTE = "stray quote"
STRAY_BACKSLASH = "stray backslash"
RUC_NOT_11_DIGITS = "RUC not 11 digits"
UNKNOWN_PREFIX = "unknown RUC prefix"
BAD_CHECK_DIGIT = "bad check digit"
BLANK_LINE = "blank line"


def _header_key(text: str) -> tuple[str, ...]:
    """Header columns compared without accents, case or surrounding spaces (and no BOM)."""
    text = text.lstrip("\ufeff").replace("ï»¿", "", 1).strip()
    if text.endswith("|"):
        text = text[:-1]
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return tuple(col.strip().upper() for col in plain.split("|"))


_EXPECTED_HEADER = _header_key("|".join(COLUMNS))


def _check_header(line: str, source: str) -> None:
    found = _header_key(line)
    if found == _EXPECTED_HEADER:
        return
    where = next(
        (
            f"column {i + 1} is {got!r}, expected {want!r}"
            for i, (got, want) in enumerate(zip(found, _EXPECTED_HEADER, strict=False))
            if got != want
        ),
        f"it has {len(found)} columns, expected {len(COLUMNS)}",
    )
    raise PadronFormatError(
        f"{source}: not a padrón reducido del RUC header ({where}); expected the {len(COLUMNS)} "
        f"columns {' | '.join(COLUMNS)}"
    )


@contextlib.contextmanager
def _open_source(path: Path) -> Iterator[tuple[IO[bytes], int]]:
    """The padrón text as a binary stream, from the .txt or straight out of SUNAT's .zip."""
    try:
        raw = path.open("rb")
    except FileNotFoundError as exc:
        raise PadronFormatError(f"{path}: no such file") from exc
    with raw:
        magic = raw.read(4)
        raw.seek(0)
        if not magic.startswith(b"PK"):
            yield raw, os.fstat(raw.fileno()).st_size
            return
        try:
            archive = zipfile.ZipFile(raw)
        except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:
            raise PadronFormatError(f"{path}: corrupt or truncated zip ({exc})") from exc
        with archive:
            names = archive.namelist()
            txts = [n for n in names if n.lower().endswith(".txt")]
            if MEMBER in names:
                member = MEMBER
            elif len(txts) == 1:
                member = txts[0]
            else:
                raise PadronFormatError(
                    f"{path}: the zip holds no {MEMBER} (found: {', '.join(names) or 'nothing'})"
                )
            with archive.open(member) as stream:
                yield stream, archive.getinfo(member).file_size


def _text_chunks(stream: IO[bytes], source: str) -> Iterator[tuple[list[str], int]]:
    """Complete lines, a few MiB at a time, with the count of bytes read so far."""
    carry = ""
    read = 0
    while True:
        try:
            block = stream.read(_CHUNK_BYTES)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise PadronFormatError(f"{source}: corrupt or truncated zip ({exc})") from exc
        if not block:
            break
        read += len(block)
        text = carry + block.decode("latin-1")
        cut = text.rfind("\n")
        if cut < 0:
            carry = text
            continue
        carry = text[cut + 1 :]
        text = text[:cut]
        if "\r" in text:
            text = text.replace("\r", "")
        yield text.split("\n"), read
    carry = carry.replace("\r", "")
    if carry:
        yield [carry], read


def _weighted_sums(weights: tuple[int, ...], keep: Callable[[str], bool]) -> dict[str, int]:
    return {
        key: sum(w * int(d) for w, d in zip(weights, key, strict=True))
        for key in (f"{n:05d}" for n in range(10**5))
        if keep(key)
    }


# The check digit by table lookups instead of per-digit arithmetic: the hot loop runs once per row.
_HEAD = _weighted_sums(WEIGHTS[:5], lambda key: key[:2] in PREFIXES)
_TAIL = _weighted_sums(WEIGHTS[5:], lambda key: True)
_DIGIT = [str((11 - r) % 10) for r in range(11)]


def _classify(line: str) -> tuple[str | None, str | None]:
    """Why a row the fast path refused is malformed (or the row, if it is fine after all)."""
    if not line.strip():
        return BLANK_LINE, None
    parts = line.split("|")
    if len(parts) > len(COLUMNS) and (len(parts) > len(COLUMNS) + 1 or parts[-1]):
        return EXTRA_COLUMN, None
    if len(parts) < len(COLUMNS):
        return MISSING_COLUMNS, None
    if '"' in line:
        return STRAY_QUOTE, None
    if "\\" in line:
        return STRAY_BACKSLASH, None
    ruc = parts[0]
    if len(ruc) != RUC_LENGTH or not (ruc.isascii() and ruc.isdigit()):
        return RUC_NOT_11_DIGITS, None
    if ruc[:2] not in PREFIXES:
        return UNKNOWN_PREFIX, None
    if _DIGIT[(_HEAD[ruc[:5]] + _TAIL[ruc[5:10]]) % 11] != ruc[10]:
        return BAD_CHECK_DIGIT, None
    return None, "|".join(parts[: len(COLUMNS)])


def _parse(lines: list[str], skipped: dict[str, int]) -> list[str]:
    """The valid rows, verbatim (``RUC|14 fields``, trailing pipe or not); the rest counted.

    Deliberately minimal per-row work, measured: count the pipes, look for quotes and
    backslashes, check the RUC with two table lookups. Anything unusual goes to
    :func:`_classify`.
    """
    rows: list[str] = []
    append = rows.append
    head, tail, digit = _HEAD, _TAIL, _DIGIT
    for line in lines:
        pipes = line.count("|")
        if (
            ((pipes == 15 and line[-1] == "|") or pipes == 14)
            and line[11] == "|"
            and '"' not in line
            and "\\" not in line
            and (h := head.get(line[:5])) is not None
            and (t := tail.get(line[5:10])) is not None
            and digit[(h + t) % 11] == line[10]
        ):
            append(line)
            continue
        reason, row = _classify(line)
        if row is not None:
            append(row)
        elif reason is not None:
            skipped[reason] = skipped.get(reason, 0) + 1
    return rows


def read_padron(
    path: Path, summary: ImportSummary, progress: Progress | None = None
) -> Iterator[list[str]]:
    """Batches of valid rows (``RUC|14 fields``) from a padrón file, counted into ``summary``.

    Raises :class:`PadronFormatError` for an empty file, a wrong header, a corrupt zip or a file
    without a single valid row, so a caller never replaces good data with nothing.
    """
    source = str(path)
    with _open_source(path) as (stream, total):
        header_seen = False
        accepted = 0
        for lines, read in _text_chunks(stream, source):
            if not header_seen:
                while lines and not lines[0].strip():
                    lines = lines[1:]
                if not lines:
                    continue
                _check_header(lines[0], source)
                header_seen = True
                lines = lines[1:]
            summary.rows_read += len(lines)
            for start in range(0, len(lines), _BATCH_ROWS):
                rows = _parse(lines[start : start + _BATCH_ROWS], summary.skipped)
                accepted += len(rows)
                if rows:
                    yield rows
            if progress is not None:
                progress(summary.rows_read, read, total)
    if not header_seen:
        raise PadronFormatError(f"{source}: the file is empty")
    if accepted == 0:
        raise PadronFormatError(
            f"{source}: no valid rows (read {summary.rows_read:,}, skipped "
            f"{summary.skipped_total:,}); the padrón in use was kept"
        )
