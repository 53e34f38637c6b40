"""What ``python -m bot up`` makes sure of before it starts anything: the knowledge base fits the
domain (also ``python -m bot check-knowledge``, run by ``make validate``), and a padrón is loaded
so that RUC lookups answer on a fresh checkout."""

from __future__ import annotations

import time
from pathlib import Path

import yaml

from bot.contract import gateway_payload
from bot.knowledge.articles import SYSTEM_ARTICLES, KnowledgeError, load_knowledge
from bot.ops.settings import ROOT

#: The invented sample padrón (data/padron/README.md), imported when no padrón is loaded.
SAMPLE_PADRON = ROOT / "data" / "padron" / "sample_padron_reducido_ruc.txt"


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
