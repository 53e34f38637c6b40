"""The padrón importer and store, on SQLite and on the real PostgreSQL of this machine."""

from __future__ import annotations

import logging
import os
import threading
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from bot.knowledge.padron import open_padron
from bot.knowledge.padron.postgres import PostgresPadron
from bot.knowledge.padron.reader import (
    BAD_CHECK_DIGIT,
    BLANK_LINE,
    EXTRA_COLUMN,
    MISSING_COLUMNS,
    RUC_NOT_11_DIGITS,
    STRAY_BACKSLASH,
    STRAY_QUOTE,
    UNKNOWN_PREFIX,
)
from bot.knowledge.padron.records import (
    ImportSummary,
    PadronFormatError,
    PadronStore,
    PadronUnavailable,
    format_summary,
)
from bot.knowledge.padron.sqlite import SqlitePadron
from bot.knowledge.tax.ruc import check_digit

ROOT = Path(__file__).resolve().parents[4]
SAMPLE = ROOT / "data" / "padron" / "sample_padron_reducido_ruc.txt"
POSTGRES = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
HEADER = (
    "RUC|NOMBRE O RAZÓN SOCIAL|ESTADO DEL CONTRIBUYENTE|CONDICIÓN DE DOMICILIO|UBIGEO|"
    "TIPO DE VÍA|NOMBRE DE VÍA|CÓDIGO DE ZONA|TIPO DE ZONA|NÚMERO|INTERIOR|LOTE|DEPARTAMENTO|"
    "MANZANA|KILÓMETRO|"
)


def ruc(n: int, prefix: str = "20") -> str:
    first10 = f"{prefix}{n:08d}"
    return first10 + str(check_digit(first10))


def row(
    number: str,
    nombre: str = "EMPRESA DE PRUEBA S.A.C.",
    estado: str = "ACTIVO",
    condicion: str = "HABIDO",
    trailing: bool = True,
) -> str:
    fields = [number, nombre, estado, condicion, "150101", "AV.", "GRAU", "-", "-", "123"]
    fields += ["-", "-", "-", "-", "-"]
    return "|".join(fields) + ("|" if trailing else "")


def write(path: Path, rows: list[str], header: str = HEADER) -> Path:
    path.write_bytes(("\n".join([header, *rows]) + "\n").encode("latin-1"))
    return path


def zipped(txt: Path) -> Path:
    out = txt.with_suffix(".zip")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(txt, "padron_reducido_ruc.txt")
    return out


def plain_dsn(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme.split('+')[0]}://{rest}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PadronStore]:
    """An empty store; for PostgreSQL a fresh database, dropped afterwards."""
    if request.param == "sqlite":
        padron = open_padron(f"sqlite:///{tmp_path / 'var' / 'padron.db'}")
        yield padron
        padron.close()
        return
    name = f"padron_test_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(plain_dsn(POSTGRES))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = POSTGRES.rpartition("/")
    padron = open_padron(f"{base}/{name}")
    try:
        yield padron
    finally:
        padron.close()
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


def test_open_padron_picks_the_backend(tmp_path: Path) -> None:
    assert isinstance(open_padron(f"sqlite+aiosqlite:///{tmp_path}/p.db"), SqlitePadron)
    assert isinstance(open_padron(f"sqlite:///{tmp_path}/p.db"), SqlitePadron)
    assert isinstance(open_padron("postgresql+asyncpg://u@h/db"), PostgresPadron)
    assert isinstance(open_padron("postgresql://u@h/db"), PostgresPadron)
    with pytest.raises(ValueError, match="unsupported"):
        open_padron("mysql://u@h/db")
    with pytest.raises(ValueError):
        open_padron("sqlite:///:memory:")


def test_sample_import_and_lookup(store: PadronStore) -> None:
    with pytest.raises(PadronUnavailable):
        store.lookup("20000000010")
    assert store.count() == 0

    summary = store.import_file(SAMPLE)

    assert summary.rows_read == 200 and summary.imported == 185 and summary.replaced == 0
    assert summary.skipped == {
        STRAY_BACKSLASH: 3,
        RUC_NOT_11_DIGITS: 4,
        STRAY_QUOTE: 4,
        BAD_CHECK_DIGIT: 2,
        MISSING_COLUMNS: 1,
        EXTRA_COLUMN: 1,
    }
    assert store.count() == 185
    persona = store.lookup("10000000014")
    assert persona is not None
    assert (persona.nombre, persona.estado, persona.condicion) == (
        "QUISPE MAMANI ROSA ELENA",
        "ACTIVO",
        "HABIDO",
    )
    assert (persona.ubigeo, persona.tipo_via, persona.nombre_via) == (
        "150101",
        "AV.",
        "JOSÉ GÁLVEZ",
    )
    assert persona.interior is None and persona.kilometro is None  # "-" in the file
    company = store.lookup("20000000010")
    assert company is not None and company.condicion == "NO HABIDO"
    assert company.nombre == "INVERSIONES ÑAÑA PEÑA S.A.C."
    baja = store.lookup("10000000022")
    assert baja is not None and baja.estado == "BAJA DEFINITIVA"
    suspendida = store.lookup("20000000028")
    assert suspendida is not None and suspendida.estado == "SUSPENSION TEMPORAL"
    assert store.lookup("17000000019") is None  # valid, not listed
    assert store.lookup("2010007097") is None  # not a RUC at all


def test_malformed_rows_are_counted_by_reason(store: PadronStore, tmp_path: Path) -> None:
    good = row(ruc(1))
    rows = [
        good,
        row(ruc(2)) + "EXTRA|",  # an extra column with content
        row(ruc(3)) + "EXTRA",
        "|".join(row(ruc(4)).split("|")[:8]),  # too few columns
        row(ruc(5), nombre='EL "SOL" S.A.C.'),
        row(ruc(6), nombre="BARRA \\ S.A.C."),
        row(ruc(7)[:10]),  # 10-digit RUC
        row("ABCDEFGHIJK"),
        row("30" + ruc(8)[2:]),  # unknown prefix
        row(ruc(9)[:10] + str((int(ruc(9)[10]) + 1) % 10)),  # wrong check digit
        "",
        row(ruc(10)) + "|",  # an empty extra column after the trailing pipe: still extra
    ]
    summary = store.import_file(write(tmp_path / "malformed.txt", rows))
    assert summary.skipped == {
        EXTRA_COLUMN: 3,
        MISSING_COLUMNS: 1,
        STRAY_QUOTE: 1,
        STRAY_BACKSLASH: 1,
        RUC_NOT_11_DIGITS: 2,
        UNKNOWN_PREFIX: 1,
        BAD_CHECK_DIGIT: 1,
        BLANK_LINE: 1,
    }
    assert summary.imported == 1 and summary.rows_read == len(rows)
    assert store.lookup(ruc(1)) is not None
    assert store.lookup(ruc(2)) is None and store.lookup(ruc(5)) is None


def test_trailing_pipe_is_optional(store: PadronStore, tmp_path: Path) -> None:
    rows = [row(ruc(1), "CON PIPE FINAL"), row(ruc(2), "SIN PIPE FINAL", trailing=False)]
    summary = store.import_file(write(tmp_path / "mixed.txt", rows))
    assert summary.imported == 2 and summary.skipped == {}
    with_pipe, without = store.lookup(ruc(1)), store.lookup(ruc(2))
    assert with_pipe is not None and without is not None
    assert with_pipe.nombre == "CON PIPE FINAL" and without.nombre == "SIN PIPE FINAL"
    assert with_pipe.numero == without.numero == "123"
    assert with_pipe.kilometro is None and without.kilometro is None


def test_crlf_and_padded_values(store: PadronStore, tmp_path: Path) -> None:
    path = tmp_path / "crlf.txt"
    lines = [HEADER, row(ruc(1), nombre=" ESPACIOS S.A. ", condicion="NO HALLADO ")]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("latin-1"))
    store.import_file(path)
    entry = store.lookup(ruc(1))
    assert entry is not None and entry.nombre == "ESPACIOS S.A." and entry.condicion == "NO HALLADO"


def test_latin1_names_round_trip(store: PadronStore, tmp_path: Path) -> None:
    name = "PEÑA NÚÑEZ JOSÉ ÁNGEL - CAFÉ ÑUÑOA"
    path = write(tmp_path / "latin1.txt", [row(ruc(1), nombre=name)])
    assert "Ñ".encode("latin-1") in path.read_bytes()  # one byte 0xD1, not UTF-8
    store.import_file(path)
    entry = store.lookup(ruc(1))
    assert entry is not None and entry.nombre == name


def test_duplicate_ruc_last_row_wins(store: PadronStore, tmp_path: Path) -> None:
    rows = [row(ruc(1), estado="ACTIVO"), row(ruc(2)), row(ruc(1), estado="BAJA DE OFICIO")]
    summary = store.import_file(write(tmp_path / "dup.txt", rows))
    assert (summary.imported, summary.replaced) == (2, 1)
    entry = store.lookup(ruc(1))
    assert entry is not None and entry.estado == "BAJA DE OFICIO"
    assert store.count() == 2


def test_empty_file_is_a_clear_error(store: PadronStore, tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(PadronFormatError, match="empty"):
        store.import_file(empty)
    with pytest.raises(PadronFormatError, match="no valid rows"):
        store.import_file(write(tmp_path / "header_only.txt", []))
    with pytest.raises(PadronFormatError, match="no such file"):
        store.import_file(tmp_path / "missing.txt")
    assert store.count() == 0


def test_wrong_header_names_what_was_expected(store: PadronStore, tmp_path: Path) -> None:
    store.import_file(write(tmp_path / "ok.txt", [row(ruc(1))]))
    bad = write(tmp_path / "bad.txt", [row(ruc(2))], header=HEADER.replace("UBIGEO", "DISTRITO"))
    with pytest.raises(PadronFormatError) as error:
        store.import_file(bad)
    message = str(error.value)
    assert "column 5 is 'DISTRITO', expected 'UBIGEO'" in message
    assert "RUC | NOMBRE O RAZÓN SOCIAL | ESTADO DEL CONTRIBUYENTE" in message
    assert store.lookup(ruc(1)) is not None and store.lookup(ruc(2)) is None


def test_header_without_accents_or_trailing_pipe_is_accepted(
    store: PadronStore, tmp_path: Path
) -> None:
    header = HEADER.rstrip("|").replace("Ó", "O").replace("Í", "I").replace("Ú", "U")
    summary = store.import_file(write(tmp_path / "plain.txt", [row(ruc(1))], header=header))
    assert summary.imported == 1


def test_zip_as_downloaded_is_accepted(store: PadronStore, tmp_path: Path) -> None:
    archive = zipped(
        write(tmp_path / "padron.txt", [row(ruc(n), f"EMPRESA Ñ {n}") for n in range(50)])
    )
    progress: list[tuple[int, int, int]] = []
    summary = store.import_file(archive, progress=lambda *p: progress.append(p))
    assert summary.imported == 50
    entry = store.lookup(ruc(7))
    assert entry is not None and entry.nombre == "EMPRESA Ñ 7"
    rows_read, bytes_read, total = progress[-1]
    assert rows_read == 50 and bytes_read == total == (tmp_path / "padron.txt").stat().st_size


def test_corrupt_zip_keeps_the_old_data(store: PadronStore, tmp_path: Path) -> None:
    store.import_file(write(tmp_path / "old.txt", [row(ruc(1), "VIEJO")]))
    # Big enough that a damaged member fails mid-stream, after rows were already loaded.
    new_rows = [row(ruc(n), f"NUEVO {n:07d} {uuid.uuid4().hex}") for n in range(2, 60_000)]
    archive = zipped(write(tmp_path / "new.txt", new_rows)).read_bytes()

    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(archive[: len(archive) // 2])
    with pytest.raises(PadronFormatError, match="corrupt or truncated zip"):
        store.import_file(truncated)

    damaged = tmp_path / "damaged.zip"
    middle = len(archive) // 2
    damaged.write_bytes(
        archive[:middle]
        + bytes(b ^ 0xFF for b in archive[middle : middle + 64])
        + archive[middle + 64 :]
    )
    with pytest.raises(PadronFormatError, match="corrupt or truncated zip"):
        store.import_file(damaged)

    entry = store.lookup(ruc(1))
    assert entry is not None and entry.nombre == "VIEJO"
    assert store.lookup(ruc(2)) is None and store.count() == 1
    if isinstance(store, SqlitePadron):  # no half-written import files left behind
        assert [p.name for p in store.path.parent.iterdir()] == [store.path.name]


def test_reimport_is_atomic_for_concurrent_lookups(store: PadronStore, tmp_path: Path) -> None:
    """A reader running during the re-import sees version A, then version B, never a mix."""
    numbers = range(1, 30_001)
    old = write(tmp_path / "a.txt", [row(ruc(n), "VERSION A", "ACTIVO") for n in numbers])
    new_rows = [row(ruc(n), "VERSION B", "BAJA DEFINITIVA") for n in numbers]
    new_rows += [row(ruc(n, "10"), "SOLO EN B") for n in numbers]
    new = write(tmp_path / "b.txt", new_rows)
    store.import_file(old)

    seen: list[str] = []
    errors: list[BaseException] = []
    done = threading.Event()
    started = threading.Event()

    def reader() -> None:
        i = 0
        try:
            while True:
                # The last observation starts after the import returned: it must see B.
                finishing = done.is_set()
                n = numbers[i % len(numbers)]
                entry = store.lookup(ruc(n))
                assert entry is not None, "a RUC in both versions went missing"
                version = (entry.nombre, entry.estado)
                assert version in {("VERSION A", "ACTIVO"), ("VERSION B", "BAJA DEFINITIVA")}
                only_new = store.lookup(ruc(n, "10"))
                seen.append(f"{entry.nombre[-1]}{'B' if only_new is not None else 'A'}")
                started.set()
                i += 1
                if finishing and i >= 50:
                    break
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    during: list[str] = []

    def progress(rows: int, read: int, total: int) -> None:
        entry = store.lookup(ruc(5))  # mid-import, from the importing thread
        assert entry is not None
        during.append(entry.nombre or "")

    thread = threading.Thread(target=reader)
    thread.start()
    assert started.wait(timeout=10)
    try:
        summary = store.import_file(new, progress=progress)
    finally:
        done.set()
        thread.join(timeout=30)
    assert not errors, errors
    assert summary.imported == 60_000
    assert during and set(during) == {"VERSION A"}
    assert seen[0] == "AA" and seen[-1][1] == "B", "the reader did not overlap the re-import"
    # Each observation pairs what one RUC said with whether a B-only RUC existed a moment later:
    # "BA" (B seen, then the B-only RUC missing) would be a mix; "AB" is a swap in between. And
    # once B is seen, A never comes back.
    assert "BA" not in seen
    first_b = next((i for i, s in enumerate(seen) if s[0] == "B"), len(seen))
    assert all(s == "BB" for s in seen[first_b:])
    assert all(s in ("AA", "AB") for s in seen[:first_b])
    assert store.lookup(ruc(1, "10")) is not None
    entry = store.lookup(ruc(1))
    assert entry is not None and entry.nombre == "VERSION B"


def test_reimport_drops_rucs_no_longer_listed(store: PadronStore, tmp_path: Path) -> None:
    store.import_file(write(tmp_path / "a.txt", [row(ruc(1)), row(ruc(2))]))
    store.import_file(write(tmp_path / "b.txt", [row(ruc(2)), row(ruc(3))]))
    assert store.lookup(ruc(1)) is None and store.lookup(ruc(3)) is not None
    assert store.count() == 2


def test_logs_hold_no_full_ruc_or_name(
    store: PadronStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.knowledge.padron")
    store.import_file(write(tmp_path / "p.txt", [row(ruc(1), "NOMBRE SECRETO")]))
    entry = store.lookup(ruc(1))
    logging.getLogger("bot.knowledge.padron").info("lookup: %r", entry)
    assert caplog.records
    assert ruc(1) not in caplog.text and "SECRETO" not in caplog.text


def test_format_summary() -> None:
    summary = ImportSummary(
        source="padron_reducido_ruc.zip",
        rows_read=15_000_000,
        imported=14_980_000,
        replaced=5_000,
        skipped={EXTRA_COLUMN: 10_000, STRAY_QUOTE: 5_000},
    )
    line = format_summary(summary, 50.0)
    assert "14,980,000 RUCs" in line and "15,000,000 rows" in line
    assert "300,000 rows/s" in line
    assert "skipped 15,000 (extra column: 10,000, stray quote: 5,000)" in line
    assert "replaced by a later row 5,000" in line
