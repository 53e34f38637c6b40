"""``python -m bench.sentiment``: how well the listening room's sentiment model reads fanpage
comments, on the labelled set ``data/listening/sentimiento.yml`` (positivo / neutral / negativo),
side by side with the obvious alternatives in the same run:

- the packaged model as deployed (``bot/listening/sentiment.py``: ``sentiment-analysis-spanish``,
  bands 1/3 and 2/3 fixed before measuring);
- always the most frequent label of the set (what "no model" scores);
- a dozen Spanish praise and complaint words (a keyword count, written for this benchmark).

Accuracy, macro-F1, each label's precision, recall and F1, and for the model: how often it puts
positive above negative on the non-neutral comments (whatever the bands), its load time and its
time per comment. Writes ``var/results/bench/sentiment.json`` and its section of
``docs/benchmarks.md`` (between its markers, so ``python -m bench.load``, which rewrites the
file and then runs this, keeps it).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from bench.doc_section import replace_section
from bench.report import machine
from bot.knowledge.text import fold
from bot.listening.sentiment import LABELS, PackagedModel, label_of
from bot.ops.settings import ROOT

DATA = ROOT / "data" / "listening" / "sentimiento.yml"
RESULTS = ROOT / "var" / "results" / "bench"
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench.sentiment: begin -->", "<!-- bench.sentiment: end -->"

#: The keyword baseline: word stems (folded: lower case, no accents) for each side.
PRAISE = ("gracias", "excelente", "buen", "genial", "util", "felicit", "encant", "agradec",
          "rapid", "amable")  # fmt: skip
COMPLAINT = ("pesim", "mal", "horrible", "verguenza", "no funciona", "nadie", "abuso", "harto",
             "queja", "reclamo", "error", "lent", "burla", "inaceptable")  # fmt: skip


def load_set(path: Path = DATA) -> list[tuple[str, str]]:
    """(text, label) of every labelled comment."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = [(str(c["text"]), str(c["sentiment"])) for c in data["comments"]]
    unknown = {label for _, label in items} - set(LABELS)
    if unknown:
        raise ValueError(f"{path}: unknown labels {sorted(unknown)}")
    return items


def keyword_label(text: str) -> str:
    folded = fold(text)
    praise = sum(len(re.findall(r"\b" + stem, folded)) for stem in PRAISE)
    complaint = sum(len(re.findall(r"\b" + stem, folded)) for stem in COMPLAINT)
    if praise > complaint:
        return "positivo"
    if complaint > praise:
        return "negativo"
    return "neutral"


def scores(gold: list[str], predicted: list[str]) -> dict[str, Any]:
    """Accuracy, macro-F1, each label's precision, recall, F1 and support, and the confusions."""
    per_label: dict[str, dict[str, float]] = {}
    for label in LABELS:
        tp = sum(g == p == label for g, p in zip(gold, predicted, strict=True))
        said = sum(p == label for p in predicted)
        real = sum(g == label for g in gold)
        precision = tp / said if said else 0.0
        recall = tp / real if real else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label[label] = {"precision": precision, "recall": recall, "f1": f1, "support": real}
    accuracy = sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold)
    confusions = Counter(f"{g}→{p}" for g, p in zip(gold, predicted, strict=True) if g != p)
    return {
        "accuracy": accuracy,
        "macro_f1": sum(v["f1"] for v in per_label.values()) / len(LABELS),
        "labels": per_label,
        "confusions": dict(confusions.most_common()),
    }


def run(items: list[tuple[str, str]]) -> dict[str, Any]:
    texts, gold = [t for t, _ in items], [label for _, label in items]
    model = PackagedModel()
    started = time.monotonic()
    model.probability("hola")
    load_seconds = time.monotonic() - started
    started = time.monotonic()
    probabilities = [model.probability(t) for t in texts]
    per_comment_ms = (time.monotonic() - started) * 1000 / len(texts)
    polar = [(p, g) for p, g in zip(probabilities, gold, strict=True) if g != "neutral"]
    majority = Counter(gold).most_common(1)[0][0]
    baselines: dict[str, Callable[[str], str]] = {
        f"always «{majority}» (most frequent label)": lambda _: majority,
        "keyword count (24 stems, written for this benchmark)": keyword_label,
    }
    runs = {"sentiment-analysis-spanish 0.0.25, bands 1/3 · 2/3 (deployed)": scores(
        gold, [label_of(p) for p in probabilities]
    )}  # fmt: skip
    runs.update(
        {name: scores(gold, [decide(t) for t in texts]) for name, decide in baselines.items()}
    )
    return {
        "command": "python -m bench.sentiment",
        "date": dt.date.today().isoformat(),
        "machine": machine(),
        "n": len(items),
        "support": dict(Counter(gold)),
        "runs": runs,
        "model": {
            "load_seconds": load_seconds,
            "per_comment_ms": per_comment_ms,
            "polarity_accuracy": sum((p >= 0.5) == (g == "positivo") for p, g in polar)
            / len(polar),
            "polar_n": len(polar),
        },
    }


def render(r: dict[str, Any]) -> str:
    rows = []
    for name, s in r["runs"].items():
        cells = " | ".join(
            f"{s['labels'][label]['precision']:.2f} / {s['labels'][label]['recall']:.2f} / "
            f"{s['labels'][label]['f1']:.2f}"
            for label in LABELS
        )
        rows.append(f"| {name} | {s['accuracy']:.3f} | {s['macro_f1']:.3f} | {cells} |")
    deployed = next(iter(r["runs"].values()))
    confusions = ", ".join(f"{k} ({n})" for k, n in deployed["confusions"].items()) or "none"
    m = r["model"]
    support = ", ".join(f"{label} {r['support'].get(label, 0)}" for label in LABELS)
    table = "\n".join(rows)
    return f"""{BEGIN}
## Sentiment of fanpage comments (listening, issue 14)

Measured {r["date"]} on {r["machine"]}.
`{r["command"]}` (part of `make bench`): {r["n"]} comments as citizens write them on a tax
agency's fanpage ({support}),
in many voices (formal, WhatsApp-style, typos, no accents, capitals, sarcasm), labelled by hand
(`data/listening/sentimiento.yml`; never used to choose the model or its bands). Each cell:
precision / recall / F1.

| model | accuracy | macro-F1 | positivo | neutral | negativo |
|---|---|---|---|---|---|
{table}

- The deployed model's mistakes: {confusions}.
- On the {m["polar_n"]} comments that are not neutral, it puts the positive ones above ½ and
  the negative ones below it {m["polarity_accuracy"]:.1%} of the time. It was trained on
  reviews, positive or negative, with no neutral class: questions score low, so most neutral
  comments come out negativo (and are flagged while `flag_negative` is on in
  `data/listening/listening.yml`).
- Loading it took {m["load_seconds"]:.1f} s (once per process, in a worker thread); then
  {m["per_comment_ms"]:.2f} ms per comment.
- The keyword count was written by the same person who wrote and labelled the set, so its
  figures are optimistic; it is here to show what the packaged model is up against.
{END}
"""


def write_section(results: dict[str, Any]) -> None:
    section = render(results)
    replace_section(DOC, section, BEGIN, END)


def main() -> int:
    results = run(load_set())
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "sentiment.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    write_section(results)
    deployed_name, deployed = next(iter(results["runs"].items()))
    print(
        f"sentiment: {deployed_name}: accuracy {deployed['accuracy']:.3f}, macro-F1 "
        f"{deployed['macro_f1']:.3f} on {results['n']} comments; written to "
        f"{DOC.relative_to(ROOT)}",
        file=sys.stdout,
        flush=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
