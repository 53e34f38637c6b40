"""Quality of the knowledge search used by the clarification step, on the held-out file.

For each held-out question of an article-backed intent: is its article among the top 3 hits
(recall@3)? For out-of-scope questions: does the search offer anything (it should not)?
Runs in either environment; ``--lemmas`` (engine env) adds spaCy's Spanish lemmas.

    python bench/search_quality.py [--lemmas]   → one JSON line
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.knowledge.articles import load_knowledge
from bot.knowledge.search import KnowledgeSearch, Lemmatizer, sample_questions

ROOT = Path(__file__).resolve().parents[1]
THRESHOLDS = (0.0, 2.0, 4.0, 6.0)
OUT_OF_SCOPE = "fuera_de_alcance"


def spacy_lemmas() -> Lemmatizer:
    import spacy

    nlp = spacy.load("es_core_news_sm", exclude=["parser", "ner", "senter"])

    def lemmatize(words: list[str]) -> list[str]:
        doc = nlp(" ".join(words))
        return [t.lower_ for t in doc] + [
            t.lemma_.lower() for t in doc if t.lemma_.lower() != t.lower_
        ]

    return lemmatize


def main() -> int:
    lemmas = "--lemmas" in sys.argv[1:]
    kb = load_knowledge(ROOT / "data" / "knowledge")
    search = KnowledgeSearch.of(kb, ROOT / "data" / "nlu", spacy_lemmas() if lemmas else None)
    heldout = sample_questions(ROOT / "heldout")
    rows = []
    for threshold in THRESHOLDS:
        found = asked = offered_out = out = 0
        for intent, questions in heldout.items():
            article = kb.get(intent)
            for question in questions:
                hits = [h.article.id for h in search.search(question, 3, threshold)]
                if intent == OUT_OF_SCOPE:
                    out += 1
                    offered_out += bool(hits)
                elif article is not None and "chitchat" not in article.tags:
                    asked += 1
                    found += intent in hits
        rows.append({"min_score": threshold, "recall_at_3": found / asked, "questions": asked,
                     "out_of_scope_offered": offered_out, "out_of_scope": out})  # fmt: skip
    print(json.dumps({"lemmas": lemmas, "thresholds": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
