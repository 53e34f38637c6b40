"""Search over the knowledge base (BM25), for messages the NLU is not sure about.

Each article is indexed with its title, the sample questions that train its intent
(``data/nlu``) and its answer; titles and questions weigh more than the answer. Words are
folded (no accents, lower case) and reduced to a lemma by an optional lemmatizer (the action
server passes spaCy's Spanish one), so "vendí", "vendo" and "vender" meet. Standard library +
PyYAML; shared with the action server.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import yaml

from bot.knowledge.articles import Article, KnowledgeBase
from bot.knowledge.text import fold

#: Words too common to tell articles apart.
STOPWORDS = frozenset(
    """a al algo ante como con cual cuales cuando de del desde donde el ella ellos en entre es
    esa ese eso esta este esto estoy fue ha hay la las le les lo los mas me mi mis muy no nos o
    para pero por porque q que se si sin sobre son su sus te tengo ti tu tus un una uno unos
    y ya yo oe xfa porfa hola buenas buenos dias tardes noches gracias quiero quisiera queria saber
    puedo puede necesito hacer tiene tienen ser estar""".split()  # noqa: SIM905
)
_WORD = re.compile(r"[a-z0-9ñ]+")
#: Field weights: how many times a field's words count.
TITLE_WEIGHT, QUESTION_WEIGHT, ANSWER_WEIGHT = 3, 2, 1
K1, B = 1.2, 0.75

Lemmatizer = Callable[[List[str]], List[str]]


@dataclass(frozen=True)
class Hit:
    article: Article
    score: float


def tokens(text: str, lemmatize: Optional[Lemmatizer] = None) -> List[str]:
    words = _WORD.findall(fold(text))  # fold turns ñ into n as well
    if lemmatize is not None and words:
        words = [fold(w) for w in lemmatize(words)]
    return [w for w in words if w not in STOPWORDS and len(w) > 1]


def sample_questions(nlu_dir: Path) -> Dict[str, List[str]]:
    """Training examples by intent, from Rasa's YAML NLU files."""
    questions: Dict[str, List[str]] = {}
    for path in sorted(nlu_dir.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu") or []:
            intent, examples = block.get("intent"), block.get("examples")
            if not intent or not isinstance(examples, str):
                continue
            lines = [line.strip()[2:] for line in examples.splitlines() if line.strip()[:2] == "- "]
            questions.setdefault(intent, []).extend(lines)
    return questions


class KnowledgeSearch:
    def __init__(
        self,
        articles: Iterable[Article],
        questions: Dict[str, List[str]],
        lemmatize: Optional[Lemmatizer] = None,
        excluded_tags: Sequence[str] = ("sistema", "chitchat"),
    ) -> None:
        self._lemmatize = lemmatize
        self._docs: List[Tuple[Article, Counter[str], int]] = []
        for article in articles:
            if set(article.tags) & set(excluded_tags):
                continue
            counts: Counter[str] = Counter()
            for _ in range(TITLE_WEIGHT):
                counts.update(tokens(article.title, lemmatize))
            for question in questions.get(article.id, []):
                for _ in range(QUESTION_WEIGHT):
                    counts.update(tokens(question, lemmatize))
            counts.update(tokens(article.answer, lemmatize))
            self._docs.append((article, counts, sum(counts.values())))
        self._avg_len = sum(n for _, _, n in self._docs) / max(1, len(self._docs))
        df: Counter[str] = Counter()
        for _, counts, _ in self._docs:
            df.update(counts.keys())
        n = len(self._docs)
        self._idf = {w: math.log(1 + (n - f + 0.5) / (f + 0.5)) for w, f in df.items()}

    @classmethod
    def of(
        cls, kb: KnowledgeBase, nlu_dir: Path, lemmatize: Optional[Lemmatizer] = None
    ) -> KnowledgeSearch:
        return cls(kb.articles, sample_questions(nlu_dir), lemmatize)

    def words(self, text: str) -> List[str]:
        """The searchable words of ``text`` (folded, no stopwords)."""
        return tokens(text, self._lemmatize)

    def knows(self, text: str) -> bool:
        """Whether ``text`` has at least one word the indexed articles or questions use."""
        return any(word in self._idf for word in self.words(text))

    def search(self, text: str, limit: int = 3, min_score: float = 1.0) -> List[Hit]:
        query = set(tokens(text, self._lemmatize))
        hits = []
        for article, counts, length in self._docs:
            score = 0.0
            for word in query:
                tf = counts.get(word, 0)
                if tf:
                    norm = tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / self._avg_len))
                    score += self._idf[word] * norm
            if score >= min_score:
                hits.append(Hit(article, score))
        hits.sort(key=lambda h: h.score, reverse=True)
        return hits[:limit]
