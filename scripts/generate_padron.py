"""Write an invented padrón reducido del RUC in SUNAT's format, for tests, demos and benchmarks.

Format as published (see /work/shared/knowledge/sunat-facts.md): ISO-8859-1, ``|``-delimited,
header row, 15 columns, every row ending in ``|``, ``-`` for a missing value, estado and condición
cut to 20 characters. Names are invented; RUCs carry valid check digits (a few malformed rows are
mixed in on purpose, as in the real file). The same seed always gives the same bytes.

    python scripts/generate_padron.py OUT --rows N [--seed S] [--zip] [--malformed 0.001]
        [--order shuffled|sorted] [--demo]

Standard library only; about 15 million rows in a couple of minutes.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

HEADER = (
    "RUC|NOMBRE O RAZÓN SOCIAL|ESTADO DEL CONTRIBUYENTE|CONDICIÓN DE DOMICILIO|UBIGEO|"
    "TIPO DE VÍA|NOMBRE DE VÍA|CÓDIGO DE ZONA|TIPO DE ZONA|NÚMERO|INTERIOR|LOTE|DEPARTAMENTO|"
    "MANZANA|KILÓMETRO|"
)
MEMBER = "padron_reducido_ruc.txt"
FIELD_WIDTH = 20  # the padrón cuts estado and condición texts to 20 characters

# Values named in sunat-facts.md; weights are invented (most taxpayers are ACTIVO / HABIDO).
ESTADOS = (
    ("ACTIVO", 70),
    ("BAJA DE OFICIO", 10),
    ("BAJA DEFINITIVA", 9),
    ("SUSPENSION TEMPORAL", 6),
    ("BAJA PROVISIONAL", 3),
    ("BAJA PROV. POR OFICIO", 2),
)
CONDICIONES = (
    ("HABIDO", 80),
    ("NO HABIDO", 10),
    ("NO HALLADO", 5),
    ("PENDIENTE", 3),
    ("POR VERIFICAR", 2),
)

_SURNAMES = [
    "NÚÑEZ",
    "MUÑOZ",
    "IBÁÑEZ",
    "PEÑA",
    "CASTAÑEDA",
    "QUISPE",
    "MAMANI",
    "HUAMÁN",
    "CONDORI",
    "GARCÍA",
    "RODRÍGUEZ",
    "LÓPEZ",
    "FLORES",
    "RAMÍREZ",
    "SÁNCHEZ",
    "TORRES",
    "DÍAZ",
    "VÁSQUEZ",
    "CHÁVEZ",
    "ROJAS",
    "MENDOZA",
    "GUTIÉRREZ",
    "ESPINOZA",
    "CÓRDOVA",
    "YUPANQUI",
    "CCAHUANA",
    "ÁLVAREZ",
    "ORTIZ",
    "VILLANUEVA",
    "SALAZAR",
    "MONTAÑO",
    "ZÚÑIGA",
    "BEGAZO",
    "ACUÑA",
]
_GIVEN = [
    "JOSÉ",
    "MARÍA",
    "LUCÍA",
    "ÁNGEL",
    "RAÚL",
    "SOFÍA",
    "MARTÍN",
    "INÉS",
    "JESÚS",
    "ROSA",
    "JULIO",
    "ELENA",
    "CÉSAR",
    "NOEMÍ",
    "ÓSCAR",
    "BEATRIZ",
    "HÉCTOR",
    "ROCÍO",
    "DAVID",
    "YESENIA",
    "WILFREDO",
    "MAGALY",
    "EFRAÍN",
    "ÑUSTA",
]
_TRADES = [
    "INVERSIONES",
    "COMERCIAL",
    "CONSTRUCTORA",
    "TRANSPORTES",
    "AGROINDUSTRIAS",
    "DISTRIBUIDORA",
    "SERVICIOS",
    "CONSULTORA",
    "IMPORTACIONES",
    "TEXTIL",
    "PANIFICADORA",
    "MINERA",
    "FERRETERÍA",
    "LOGÍSTICA",
]
_MARKS = (
    "DEL SUR",
    "ANDINA",
    "LOS ÁLAMOS",
    "SAN MARTÍN",
    "EL PEÑÓN",
    "SEÑOR DE MURUHUAY",
    "MACHU PICCHU",
    "LA CAÑADA",
    "NUEVO AMANECER",
    "ÑAÑA",
    "AMAZÓNICA",
    "LAS DUNAS",
)
_FORMS = ("S.A.C.", "E.I.R.L.", "S.R.L.", "S.A.")
_VIAS = ("AV.", "JR.", "CAL.", "PJ.", "CAR.", "-")
_VIA_NAMES = (
    "LOS OLIVOS",
    "JOSÉ GÁLVEZ",
    "GRAU",
    "BOLOGNESI",
    "SAN MARTÍN",
    "LA MARINA",
    "AREQUIPA",
    "TÚPAC AMARU",
    "MARISCAL CÁCERES",
    "-",
)
_ZONE_CODES = ("URB.", "A.H.", "P.J.", "C.P.", "-", "-")
_ZONE_NAMES = ("SANTA ROSA", "LOS JAZMINES", "VILLA EL SALVADOR", "LA PERLA", "-", "-")
_UBIGEOS = ("150101", "150122", "040101", "130101", "080101", "200101", "220901", "160101")
_SPARSE = ("-",) * 6 + ("A", "B", "2", "101", "5")

_T1 = {
    f"{n:05d}": sum(w * int(d) for w, d in zip((5, 4, 3, 2, 7), f"{n:05d}", strict=True))
    for n in range(10**5)
}
_T2 = {
    f"{n:05d}": sum(w * int(d) for w, d in zip((6, 5, 4, 3, 2), f"{n:05d}", strict=True))
    for n in range(10**5)
}

# Fixed invented RUCs the tests and the chatbot demos rely on (see data/padron/README.md).
DEMO_ROWS = (
    ("10000000014", "QUISPE MAMANI ROSA ELENA", "ACTIVO", "HABIDO"),
    ("20000000010", "INVERSIONES ÑAÑA PEÑA S.A.C.", "ACTIVO", "NO HABIDO"),
    ("10000000022", "NÚÑEZ CASTAÑEDA JOSÉ MARÍA", "BAJA DEFINITIVA", "HABIDO"),
    ("20000000028", "TRANSPORTES MUÑOZ E.I.R.L.", "SUSPENSION TEMPORAL", "HABIDO"),
    ("15000000016", "GÓMEZ IBÁÑEZ ÁNGEL", "ACTIVO", "NO HALLADO"),
    ("20000000036", "CONSTRUCTORA ACUÑA S.R.L.", "BAJA DE OFICIO", "NO HABIDO"),
)


def check_digit(first10: str) -> str:
    """SUNAT's modulo-11 check digit (table lookups: this runs once per generated row)."""
    return str((11 - (_T1[first10[:5]] + _T2[first10[5:]]) % 11) % 10)


def _weighted(pairs: tuple[tuple[str, int], ...]) -> list[str]:
    return [value[:FIELD_WIDTH] for value, weight in pairs for _ in range(weight)]


def _demo_line(ruc: str, name: str, estado: str, condicion: str) -> str:
    address = ("150101", "AV.", "JOSÉ GÁLVEZ", "URB.", "SANTA ROSA", "123", "-", "-", "-", "-", "-")
    return "|".join((ruc, name, estado[:FIELD_WIDTH], condicion[:FIELD_WIDTH], *address, ""))


class _Rucs:
    """Unique RUC bodies per prefix: an affine permutation scatters them (``shuffled``) or
    a fixed stride keeps them ascending (``sorted``); both are collision-free and need no memory."""

    def __init__(self, rng: random.Random, order: str) -> None:
        self.order = order
        self.counters = {"10": 0, "15": 0, "17": 0, "20": 0}
        self.offsets = {p: rng.randrange(10**8) for p in self.counters}
        self.stride = 7_919_113  # not divisible by 2, 3 or 5: a permutation modulo 9 * 10**7

    def body(self, prefix: str) -> str:
        n = self.counters[prefix]
        self.counters[prefix] = n + 1
        if self.order == "sorted":
            return f"{prefix}{10**7 + n * 3:08d}"
        # Bodies 10_000_000..99_999_999 (stride coprime with 9 * 10**7): clear of the demo RUCs.
        value = 10**7 + (n * self.stride + self.offsets[prefix]) % (9 * 10**7)
        return f"{prefix}{value:08d}"


def _malformed(rng: random.Random, line: str) -> str:
    kind = rng.randrange(6)
    if kind == 0:
        return line + "EXTRA|"  # extra column with content
    if kind == 1:
        return "|".join(line.split("|")[:9])  # too few columns
    if kind == 2:
        return line.replace("|", '|"', 1)  # stray quote
    if kind == 3:
        return line.replace("|", "\\|", 2)  # stray backslash
    if kind == 4:
        bad = str((int(line[10]) + 1) % 10)
        return line[:10] + bad + line[11:]  # wrong check digit
    return line[1:]  # RUC of 10 digits


def generate_lines(
    rows: int, seed: int = 0, malformed: float = 0.0, order: str = "shuffled", demo: bool = False
) -> Iterator[str]:
    """The file's lines (header first, no newline), ``rows`` data rows in total."""
    rng = random.Random(seed)
    rucs = _Rucs(rng, order)
    estados = _weighted(ESTADOS)
    condiciones = _weighted(CONDICIONES)
    prefixes = ["10"] * 74 + ["20"] * 22 + ["15"] * 2 + ["17"] * 2
    people = [f"{a} {b} {c}" for a in _SURNAMES for b in _SURNAMES for c in _GIVEN]
    companies = [f"{t} {m} {f}" for t in _TRADES for m in _MARKS for f in _FORMS]
    numbers = [str(n) for n in range(1, 2000)] + ["-"] * 400
    yield HEADER
    written = 0
    if demo:
        for row in DEMO_ROWS[:rows]:
            yield _demo_line(*row)
        written = min(rows, len(DEMO_ROWS))
    choices = rng.choices
    batch = 50_000
    while written < rows:
        n = min(batch, rows - written)
        pref = choices(prefixes, k=n)
        cols = zip(
            pref,
            choices(estados, k=n),
            choices(condiciones, k=n),
            choices(_UBIGEOS, k=n),
            choices(_VIAS, k=n),
            choices(_VIA_NAMES, k=n),
            choices(_ZONE_CODES, k=n),
            choices(_ZONE_NAMES, k=n),
            choices(numbers, k=n),
            choices(_SPARSE, k=n),
            choices(_SPARSE, k=n),
            choices(_SPARSE, k=n),
            choices(_SPARSE, k=n),
            choices(_SPARSE, k=n),
            strict=True,
        )
        names_p = iter(choices(people, k=n))
        names_c = iter(choices(companies, k=n))
        bad = {i for i in range(n) if rng.random() < malformed} if malformed else set()
        for i, (p, *rest) in enumerate(cols):
            first10 = rucs.body(p)
            name = next(names_c) if p == "20" else next(names_p)
            line = f"{first10}{check_digit(first10)}|{name}|{'|'.join(rest)}|"
            yield _malformed(rng, line) if i in bad else line
        written += n


def write_padron(
    out: Path,
    rows: int,
    seed: int = 0,
    malformed: float = 0.0,
    as_zip: bool = False,
    order: str = "shuffled",
    demo: bool = False,
) -> Path:
    """Write the file (or a zip holding ``padron_reducido_ruc.txt``, as SUNAT publishes it)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = generate_lines(rows, seed, malformed, order, demo)
    if as_zip:
        with (
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive,
            archive.open(MEMBER, "w", force_zip64=True) as member,
        ):
            _write_lines(member, lines)
    else:
        with out.open("wb") as handle:
            _write_lines(handle, lines)
    return out


def _write_lines(
    handle: io.RawIOBase | io.BufferedIOBase | zipfile.ZipExtFile, lines: Iterator[str]
) -> None:
    chunk: list[str] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) >= 20_000:
            handle.write(("\n".join(chunk) + "\n").encode("latin-1"))
            chunk.clear()
    if chunk:
        handle.write(("\n".join(chunk) + "\n").encode("latin-1"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--zip", action="store_true", help="write a zip as SUNAT publishes it")
    parser.add_argument("--malformed", type=float, default=0.001, help="share of malformed rows")
    parser.add_argument("--order", choices=("shuffled", "sorted"), default="shuffled")
    parser.add_argument("--demo", action="store_true", help="start with the fixed demo RUCs")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    write_padron(args.out, args.rows, args.seed, args.malformed, args.zip, args.order, args.demo)
    seconds = time.perf_counter() - start
    print(f"wrote {args.out}: {args.rows:,} rows in {seconds:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
