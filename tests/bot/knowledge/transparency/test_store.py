"""The figures' stores, on SQLite and on the real PostgreSQL of this machine: an import replaces
the years of its file whole, or stores nothing."""

from __future__ import annotations

import datetime as dt
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from bot.knowledge.transparency import open_transparency
from bot.knowledge.transparency.records import (
    DEFAULT_SOURCE,
    DEFAULT_SOURCE_URL,
    TransparencyFormatError,
    TransparencyNotLoaded,
    TransparencyStore,
    TransparencyUnavailable,
    format_summary,
)
from bot.knowledge.transparency.store import PostgresTransparency, SqliteTransparency

ROOT = Path(__file__).resolve().parents[4]
SAMPLE = ROOT / "data" / "transparency" / "ejemplo_inventado_ejecucion_gasto.csv"
POSTGRES = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
HEADER = "ANO_EJE,GENERICA_NOMBRE,MONTO_PIA,MONTO_PIM,MONTO_DEVENGADO,MONTO_GIRADO"


def plain_dsn(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme.split('+')[0]}://{rest}"


def csv_file(tmp_path: Path, rows: list[str], name: str = "gasto.csv", meta: str = "") -> Path:
    path = tmp_path / name
    path.write_text(meta + "\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TransparencyStore]:
    """An empty store; for PostgreSQL a fresh database, dropped afterwards."""
    if request.param == "sqlite":
        figures = open_transparency(f"sqlite:///{tmp_path / 'var' / 'transparencia.db'}")
        yield figures
        figures.close()
        return
    name = f"transparency_test_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(plain_dsn(POSTGRES))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = POSTGRES.rpartition("/")
    figures = open_transparency(f"{base}/{name}")
    try:
        yield figures
    finally:
        figures.close()
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


def test_open_transparency_picks_the_backend(tmp_path: Path) -> None:
    assert isinstance(open_transparency(f"sqlite+aiosqlite:///{tmp_path}/t.db"), SqliteTransparency)
    assert isinstance(open_transparency("postgresql+asyncpg://u@h/db"), PostgresTransparency)
    for bad in ("sqlite:///:memory:", "mysql://u@h/db", "no-url"):
        with pytest.raises(ValueError):
            open_transparency(bad)


def test_nothing_is_loaded_before_the_first_import(store: TransparencyStore) -> None:
    with pytest.raises(TransparencyNotLoaded):
        store.years()
    with pytest.raises(TransparencyNotLoaded):
        store.year(2026)


def test_the_sample_round_trips_with_its_label_date_and_categories(
    store: TransparencyStore,
) -> None:
    summary = store.import_file(SAMPLE)
    assert summary.years == [2025, 2026] and summary.ejemplo
    assert store.years() == [2025, 2026]
    year = store.year(2026)
    assert year is not None and year.ejemplo
    assert year.fecha_corte == dt.date(2026, 11, 30)
    assert year.total.pim == 253_000_000_000 and year.total.avance is not None
    assert len(year.categorias) == 5
    assert year.categorias[0].nombre == "PERSONAL Y OBLIGACIONES SOCIALES"
    assert sum(c.amounts.devengado for c in year.categorias) == year.total.devengado
    assert store.year(2019) is None


def test_the_date_and_source_come_from_the_command_line_else_the_default(
    store: TransparencyStore, tmp_path: Path
) -> None:
    path = csv_file(tmp_path, ["2026,BIENES Y SERVICIOS,10,20,5,4"])
    store.import_file(path, fecha_corte=dt.date(2026, 6, 30))
    year = store.year(2026)
    assert year is not None and not year.ejemplo
    assert (year.fuente, year.fuente_url) == (DEFAULT_SOURCE, DEFAULT_SOURCE_URL)
    assert year.fecha_corte == dt.date(2026, 6, 30) and year.total.comprometido is None
    store.import_file(path, dt.date(2026, 7, 31), "Consulta Amigable", "https://example.gob.pe/")
    year = store.year(2026)
    assert year is not None and year.fuente == "Consulta Amigable"
    assert year.fecha_corte == dt.date(2026, 7, 31)


@pytest.mark.parametrize(
    ("meta", "fecha", "url", "problem"),
    [("", None, None, "Falta la fecha de corte"),
     ("# fecha_corte: 31/02/2026\n", None, None, "no es una fecha de corte válida"),
     ("", dt.date.today() + dt.timedelta(days=1), None, "está en el futuro"),
     ("# fecha_corte: 2026-01-31\n", None, "http://inseguro.pe", "debe empezar con https://")],
)  # fmt: skip
def test_a_file_without_a_good_date_or_source_stores_nothing(
    store: TransparencyStore,
    tmp_path: Path,
    meta: str,
    fecha: dt.date | None,
    url: str | None,
    problem: str,
) -> None:
    store.import_file(csv_file(tmp_path, ["2025,BYS,1,1,1,1"], "antes.csv"), dt.date(2025, 12, 31))
    path = csv_file(tmp_path, ["2025,BYS,9,9,9,9"], meta=meta)
    with pytest.raises(TransparencyFormatError, match=problem):
        store.import_file(path, fecha_corte=fecha, fuente_url=url)
    year = store.year(2025)
    assert year is not None and year.total.pia == 100


def test_wrong_columns_store_nothing_and_keep_what_was_loaded(
    store: TransparencyStore, tmp_path: Path
) -> None:
    store.import_file(SAMPLE)
    before = store.year(2026)
    bad = tmp_path / "otro.csv"
    bad.write_text("ANIO;MONTO;CONCEPTO\n2026;100;X\n", encoding="utf-8")
    with pytest.raises(TransparencyFormatError, match="faltan las columnas"):
        store.import_file(bad, fecha_corte=dt.date(2026, 11, 30))
    assert store.years() == [2025, 2026] and store.year(2026) == before


def test_an_import_replaces_its_years_and_real_figures_replace_the_sample(
    store: TransparencyStore, tmp_path: Path
) -> None:
    store.import_file(csv_file(tmp_path, ["2024,BYS,1,1,1,1"], "a.csv"), dt.date(2025, 1, 31))
    store.import_file(SAMPLE)
    assert store.years() == [2024, 2025, 2026]
    real = csv_file(tmp_path, ["2026,PERSONAL,100,200,50,40", "2026,BYS,10,20,5,4"], "real.csv")
    summary = store.import_file(real, fecha_corte=dt.date(2026, 10, 31))
    # the sample's 2025 is gone with it; the earlier real year stays
    assert store.years() == [2024, 2026]
    year = store.year(2026)
    assert year is not None and not year.ejemplo
    assert [c.nombre for c in year.categorias] == ["PERSONAL", "BYS"]
    assert year.total.pim == 22000 and year.total.girado == 4400
    line = format_summary(summary, 1.0)
    assert line.startswith("transparencia importada: 1 año(s) (2026) con 2 genérica(s)")
    assert "fecha de corte 2026-10-31" in line and "EJEMPLO" not in line


def test_readers_see_the_old_figures_or_the_new_never_a_mix(
    store: TransparencyStore, tmp_path: Path
) -> None:
    old = csv_file(tmp_path, [f"2026,G{i},1,1,1,1" for i in range(40)], "old.csv")
    new = csv_file(tmp_path, [f"2026,N{i},2,2,2,2" for i in range(40)], "new.csv")
    store.import_file(old, dt.date(2026, 1, 31))
    seen: list[tuple[int, int]] = []
    stop = threading.Event()
    if isinstance(store, SqliteTransparency):
        reader = open_transparency(f"sqlite:///{store.path.absolute()}")
    else:
        assert isinstance(store, PostgresTransparency)
        reader = open_transparency(store.dsn)

    def read() -> None:
        while not stop.is_set():
            year = reader.year(2026)
            assert year is not None
            seen.append((year.total.pia, len({c.amounts.pia for c in year.categorias})))

    thread = threading.Thread(target=read)
    thread.start()
    try:
        for i in range(6):
            store.import_file(new if i % 2 == 0 else old, dt.date(2026, 1, 31))
    finally:
        stop.set()
        thread.join()
        reader.close()
    assert seen and set(seen) <= {(4000, 1), (8000, 1)}


def test_an_unreachable_database_is_unavailable_not_a_crash() -> None:
    store = open_transparency("postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(TransparencyUnavailable):
        store.years()
