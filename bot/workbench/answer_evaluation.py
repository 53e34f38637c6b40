"""How the assistant answers a held-out set: replays the engine's decisions offline.

For each labelled question the trained model gives its intent ranking (``bot.engine.parse``, in
the engine environment); then the same decision the engine makes is taken
(:func:`bot.knowledge.clarification.decide`: the NLU when sure, else the knowledge search as a
second signal, a clarification, or "no te entendí"). A question counts as:

- **right**: answered with its own article (by the NLU or by the search);
- **misrouted**: answered confidently with another article;
- **clarified**: the citizen is asked ("¿Quisiste preguntar por…?") or not understood.

Accuracy is right / all; misroute and clarification rates likewise. Macro-F1 is over the
answered intent (a clarification is no prediction). ``python -m bot evaluate-answers``.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.knowledge.articles import KnowledgeBase, load_knowledge
from bot.knowledge.clarification import (
    ANSWER,
    ANSWER_SEARCHED,
    MAX_CANDIDATES,
    MIN_SEARCH_SCORE,
    Decision,
    decide,
    offerable,
)
from bot.knowledge.search import KnowledgeSearch, sample_questions
from bot.ops.settings import ROOT


@dataclass(frozen=True)
class Example:
    text: str
    intent: str


@dataclass
class Outcome:
    example: Example
    decision: Decision
    nlu_top: tuple[str, float]


@dataclass
class AnswerReport:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.outcomes)

    def _share(self, kinds: Sequence[str], right: bool | None = None) -> float:
        hits = [
            o
            for o in self.outcomes
            if o.decision.kind in kinds
            and (right is None or (o.decision.intent == o.example.intent) == right)
        ]
        return len(hits) / self.n if self.n else 0.0

    @property
    def accuracy(self) -> float:
        return self._share((ANSWER, ANSWER_SEARCHED), right=True)

    @property
    def misroute_rate(self) -> float:
        return self._share((ANSWER, ANSWER_SEARCHED), right=False)

    @property
    def clarification_rate(self) -> float:
        return 1.0 - self.accuracy - self.misroute_rate

    @property
    def searched_rate(self) -> float:
        """Answers the knowledge search decided (the NLU was unsure)."""
        return self._share((ANSWER_SEARCHED,))

    @property
    def nlu_accuracy(self) -> float:
        """The NLU's best intent alone, before any threshold or search."""
        right = sum(o.nlu_top[0] == o.example.intent for o in self.outcomes)
        return right / self.n if self.n else 0.0

    @property
    def macro_f1(self) -> float:
        labels = {o.example.intent for o in self.outcomes}
        tp: Counter[str] = Counter()
        predicted: Counter[str] = Counter()
        for o in self.outcomes:
            if o.decision.kind in (ANSWER, ANSWER_SEARCHED) and o.decision.intent:
                predicted[o.decision.intent] += 1
                if o.decision.intent == o.example.intent:
                    tp[o.example.intent] += 1
        support = Counter(o.example.intent for o in self.outcomes)
        scores = []
        for label in labels:
            precision = tp[label] / predicted[label] if predicted[label] else 0.0
            recall = tp[label] / support[label]
            total = precision + recall
            scores.append(2 * precision * recall / total if total else 0.0)
        return sum(scores) / len(scores) if scores else 0.0

    def misroutes(self) -> Counter[tuple[str, str]]:
        """(expected, answered) pairs of the misrouted questions, most frequent first."""
        answered = [o for o in self.outcomes if o.decision.kind in (ANSWER, ANSWER_SEARCHED)]
        return Counter(
            (o.example.intent, o.decision.intent or "")
            for o in answered
            if o.decision.intent != o.example.intent
        )

    def summary(self) -> str:
        return (
            f"{self.n} questions: accuracy {self.accuracy:.3f}, "
            f"misroutes {self.misroute_rate:.1%}, "
            f"clarifications {self.clarification_rate:.1%} "
            f"(answered by search {self.searched_rate:.1%}), macro-F1 {self.macro_f1:.3f}, "
            f"NLU top-1 {self.nlu_accuracy:.3f}"
        )

    def as_dict(self) -> dict[str, float]:
        return {
            "n": float(self.n),
            "accuracy": self.accuracy,
            "misroute_rate": self.misroute_rate,
            "clarification_rate": self.clarification_rate,
            "searched_rate": self.searched_rate,
            "macro_f1": self.macro_f1,
            "nlu_accuracy": self.nlu_accuracy,
        }


def load_examples(path: Path) -> list[Example]:
    """The labelled questions of a Rasa NLU YAML file (entity annotations are not used)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    examples = []
    for block in data.get("nlu") or []:
        intent = block.get("intent")
        for line in str(block.get("examples") or "").splitlines():
            line = line.strip()
            if intent and line.startswith("- "):
                examples.append(Example(line[2:].strip(), str(intent)))
    return examples


def fallback_threshold(config: Path) -> float:
    """The FallbackClassifier's threshold in a Rasa config (what "sure" means)."""
    data = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    for component in data.get("pipeline") or []:
        if component.get("name") == "FallbackClassifier":
            return float(component.get("threshold", 0.3))
    raise ValueError(f"{config}: no FallbackClassifier in the pipeline")


def parse_with_model(model: Path, texts: list[str]) -> list[list[tuple[str, float]]]:
    """The model's intent rankings, from the engine environment (``bot.engine.parse``)."""
    from bot.ops.engine_env import engine_bin, engine_environ

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "rankings.json"
        done = subprocess.run(
            [str(engine_bin("python")), "-m", "bot.engine.parse", str(model), str(out)],
            input=json.dumps(texts),
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=engine_environ(),
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"parsing with {model} failed: {done.stderr.strip()[-2000:]}")
        rankings = json.loads(out.read_text(encoding="utf-8"))
    return [[(str(n), float(c)) for n, c in r] for r in rankings]


def evaluate(
    examples: list[Example],
    rankings: list[list[tuple[str, float]]],
    kb: KnowledgeBase,
    search: KnowledgeSearch,
    threshold: float,
    use_search: bool = True,
) -> AnswerReport:
    """Replay the engine's decision for each example, given the model's rankings
    (``use_search=False``: as if the knowledge search gave no second signal)."""
    check = offerable(kb)
    report = AnswerReport()
    for example, ranking in zip(examples, rankings, strict=True):
        hits = [
            (h.article.id, h.score)
            for h in search.search(example.text, MAX_CANDIDATES + 1, MIN_SEARCH_SCORE)
        ]
        if not use_search:
            hits = []
        decision = decide(ranking, hits, check, threshold, search.knows(example.text))
        top = next(((n, c) for n, c in ranking if n != "nlu_fallback"), ("", 0.0))
        report.outcomes.append(Outcome(example, decision, top))
    return report


def evaluate_file(
    heldout: Path,
    model: Path,
    config: Path = ROOT / "config.yml",
    knowledge_dir: Path = ROOT / "data" / "knowledge",
    nlu_dir: Path = ROOT / "data" / "nlu",
) -> tuple[AnswerReport, AnswerReport]:
    """The engine's answers on ``heldout``, and the same without the search's second signal."""
    examples = load_examples(heldout)
    kb = load_knowledge(knowledge_dir)
    search = KnowledgeSearch(kb.articles, sample_questions(nlu_dir))
    rankings = parse_with_model(model, [e.text for e in examples])
    threshold = fallback_threshold(config)
    return (
        evaluate(examples, rankings, kb, search, threshold),
        evaluate(examples, rankings, kb, search, threshold, use_search=False),
    )
