"""What ``python -m bot up`` makes sure of before it starts anything: the knowledge base fits the
domain (also ``python -m bot check-knowledge``, run by ``make validate``), a padrón is loaded
so that RUC lookups answer on a fresh checkout, and (in development) budget figures are."""

from __future__ import annotations

import time
from pathlib import Path

import yaml

from bot.contract import gateway_payload
from bot.knowledge.articles import SYSTEM_ARTICLES, KnowledgeError, load_knowledge
from bot.ops.settings import ROOT

#: The invented sample padrón (data/padron/README.md), imported when no padrón is loaded.
SAMPLE_PADRON = ROOT / "data" / "padron" / "sample_padron_reducido_ruc.txt"
#: The invented sample of SUNAT's budget figures (data/transparency/README.md), imported in
#: development when none are loaded; its answers say the figures are an example.
SAMPLE_TRANSPARENCY = ROOT / "data" / "transparency" / "ejemplo_inventado_ejecucion_gasto.csv"


def domain_intents(domain_file: Path = ROOT / "domain.yml") -> list[str]:
    """The intents ``domain_file`` declares, in its order."""
    domain = yaml.safe_load(domain_file.read_text(encoding="utf-8"))
    return [i if isinstance(i, str) else next(iter(i)) for i in domain.get("intents", [])]


def check_knowledge(directory: Path) -> str:
    """Validate articles and their fit with the domain; return a summary or exit with errors."""
    try:
        kb = load_knowledge(directory)
    except KnowledgeError as exc:
        raise SystemExit(f"error: {exc}") from exc
    intents = set(domain_intents())
    problems = [
        f"intent '{i}' has no article data/knowledge/{i}.yml"
        for i in sorted(intents)
        if i not in kb
    ]
    for article in kb.articles:
        if article.id not in intents and article.id not in SYSTEM_ARTICLES:
            problems.append(f"{article.id}.yml answers no intent of domain.yml")
        for button in article.buttons:
            if button.payload[1:] not in intents and not gateway_payload(button.payload):
                problems.append(
                    f"{article.id}.yml: button '{button.title}' "
                    f"names unknown intent {button.payload}"
                )
    if problems:
        raise SystemExit("error: knowledge base and domain disagree:\n  " + "\n  ".join(problems))
    return f"knowledge OK: {len(kb)} articles, {len(intents)} intents answered"


def ensure_padron(url: str, sample: Path = SAMPLE_PADRON) -> str:
    """Import the bundled sample padrón when none is loaded, so RUC lookups answer on a fresh
    ``make run``; a loaded padrón (SUNAT's, or the sample earlier) is left alone. Says which."""
    from bot.knowledge.padron import open_padron
    from bot.knowledge.padron.records import PadronError, format_summary

    try:
        with open_padron(url) as store:
            loaded = store.count()
            if loaded:
                return f"padrón: {loaded:,} RUCs loaded"
            started = time.monotonic()
            summary = store.import_file(sample)
    except (PadronError, OSError) as exc:
        return f"padrón: none loaded and the sample could not be imported ({exc})"
    return (
        "padrón: none was loaded, so the bundled SAMPLE (invented taxpayers) was imported; "
        "import SUNAT's with `make import-padron FILE=padron_reducido_ruc.zip`\n"
        + format_summary(summary, time.monotonic() - started)
    )


def ensure_transparency(url: str, environment: str, sample: Path = SAMPLE_TRANSPARENCY) -> str:
    """In development, import the invented sample of budget figures when none are loaded, so
    "¿cuánto ha gastado SUNAT?" is answered with figures (labelled as an example) on a fresh
    ``make run``; loaded figures are left alone, and production never gets the sample. Says
    which."""
    from bot.knowledge.transparency import open_transparency
    from bot.knowledge.transparency.records import (
        TransparencyError,
        TransparencyNotLoaded,
        format_summary,
    )

    try:
        with open_transparency(url) as store:
            try:
                loaded = store.years()
            except TransparencyNotLoaded:
                loaded = []
            if loaded:
                return f"transparencia: cifras de {', '.join(str(y) for y in loaded)} cargadas"
            if environment == "production":
                return (
                    "transparencia: no hay cifras cargadas (se responde con el portal); "
                    "impórtalas con `make import-transparency FILE=...`"
                )
            started = time.monotonic()
            summary = store.import_file(sample)
    except (TransparencyError, OSError, ValueError) as exc:
        return f"transparencia: no hay cifras cargadas y no se pudo importar el ejemplo ({exc})"
    return (
        "transparencia: no había cifras, así que se importó el EJEMPLO INVENTADO (las respuestas "
        "lo dicen); importa las del MEF con `make import-transparency FILE=...`\n"
        + format_summary(summary, time.monotonic() - started)
    )
