"""What to do with a message the NLU is unsure about: answer, ask, or say it was not understood.

The NLU's ranking is one signal; the knowledge-base search (``bot.knowledge.search``) is a
second one, independent of the classifier (it reads the articles and their sample questions
word by word). When the two agree, or the search points clearly to one article, the article is
answered (followed by "¿Te sirvió?") instead of asking; otherwise the likeliest articles are
offered; a message with no word the knowledge base knows is not understood.

Also here: finding a second question in a message whose first one was answered.

Pure functions over plain data: the action server decides with them, and the held-out
evaluation (``python -m bot evaluate-answers``) replays the same decisions offline.
Standard library only; shared by both runtimes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Sequence, Tuple

from bot.knowledge.articles import SYSTEM_ARTICLES, KnowledgeBase

#: Articles with this tag (greetings, thanks…) are never offered nor answered by search.
NOT_SUGGESTED_TAG = "chitchat"
#: The intent Rasa's FallbackClassifier predicts under its threshold (config.yml).
FALLBACK_INTENT = "nlu_fallback"

#: Candidates offered by "¿Quisiste decir…?": at most this many, each at least this confident.
MAX_CANDIDATES = 3
MIN_CANDIDATE_CONFIDENCE = 0.05
#: Knowledge-base search hits below this BM25 score are not offered (docs/benchmarks.md).
MIN_SEARCH_SCORE = 4.0
#: The NLU's best guess and the search's best hit agree: answered when the NLU gave it at least
#: this confidence and the hit scored at least MIN_SEARCH_SCORE.
AGREEMENT_MIN_CONFIDENCE = 0.15
#: The search alone decides when its best hit scores at least this and at least CLEAR_MARGIN
#: times the second one. Set a priori (a strong, lonely match), never tuned on a held-out set.
CLEAR_SEARCH_SCORE = 10.0
CLEAR_MARGIN = 1.6

#: A second question: a segment of at least this many searchable words whose best hit scores
#: at least this, and SECOND_MARGIN times the next, for another article than the one answered.
#: Looser than CLEAR_MARGIN: the second question is only offered (a button), not answered.
SECOND_MIN_WORDS = 2
SECOND_MIN_SCORE = 6.0
SECOND_MARGIN = 1.25

ANSWER = "answer"  # the NLU was sure: the rule answers its intent
ANSWER_SEARCHED = "answer_searched"  # the NLU was unsure, the second signal decided
CLARIFY = "clarify"  # "¿Quisiste decir…?" with candidates
NOT_UNDERSTOOD = "not_understood"  # nothing to offer: "no te entendí" and the menu

Ranking = Sequence[Tuple[str, float]]
Hits = Sequence[Tuple[str, float]]


@dataclass(frozen=True)
class Decision:
    kind: str
    #: The article answered (ANSWER, ANSWER_SEARCHED); None otherwise.
    intent: Optional[str] = None
    #: The articles offered (CLARIFY), best first.
    candidates: Tuple[str, ...] = field(default_factory=tuple)


def offerable(kb: KnowledgeBase) -> Callable[[str], bool]:
    """Whether an intent has an article that may be offered or answered by search."""

    def check(intent: str) -> bool:
        article = kb.get(intent) if intent not in SYSTEM_ARTICLES else None
        return article is not None and NOT_SUGGESTED_TAG not in article.tags

    return check


def decide_unsure(
    ranking: Ranking,
    hits: Hits,
    offerable: Callable[[str], bool],
    known_words: bool = True,
) -> Decision:
    """The step after the NLU fell under its threshold.

    ``ranking``: the NLU's intents with confidences, best first (``nlu_fallback`` may be in it);
    ``hits``: the search's articles with scores, best first; ``offerable(intent)``: whether the
    intent has an article that may be offered (not a greeting, not a system article);
    ``known_words``: whether the message has any word the knowledge base knows.
    """
    if not known_words:
        return Decision(NOT_UNDERSTOOD)
    guesses = [(n, c) for n, c in ranking if n != FALLBACK_INTENT and offerable(n)]
    strong = [(a, s) for a, s in hits if s >= MIN_SEARCH_SCORE and offerable(a)]
    if guesses and strong:
        (guess, confidence), (hit, score) = guesses[0], strong[0]
        if guess == hit and confidence >= AGREEMENT_MIN_CONFIDENCE:
            return Decision(ANSWER_SEARCHED, guess)
    if strong:
        hit, score = strong[0]
        runner_up = strong[1][1] if len(strong) > 1 else 0.0
        if score >= CLEAR_SEARCH_SCORE and score >= CLEAR_MARGIN * runner_up:
            return Decision(ANSWER_SEARCHED, hit)
    offered: List[str] = []
    for name, confidence in guesses:
        if confidence < MIN_CANDIDATE_CONFIDENCE or len(offered) == MAX_CANDIDATES:
            break
        offered.append(name)
    for hit, _ in strong:
        if hit not in offered and len(offered) < MAX_CANDIDATES:
            offered.append(hit)
    if not offered:
        return Decision(NOT_UNDERSTOOD)
    return Decision(CLARIFY, candidates=tuple(offered))


def decide(
    ranking: Ranking,
    hits: Hits,
    offerable: Callable[[str], bool],
    threshold: float,
    known_words: bool = True,
) -> Decision:
    """The whole choice for one message, as the engine makes it: the NLU's intent when its
    confidence reaches the fallback ``threshold`` (config.yml), else :func:`decide_unsure`.
    Used offline to replay the engine's decisions."""
    if ranking and ranking[0][0] != FALLBACK_INTENT and ranking[0][1] >= threshold:
        return Decision(ANSWER, ranking[0][0])
    return decide_unsure(ranking, hits, offerable, known_words)


#: Where one question ends and another may start.
_SEGMENT_BREAK = re.compile(
    r"[?¿!¡.;\n]+|\b(?:y\s+)?(?:tambi[eé]n|adem[aá]s|otra\s+(?:pregunta|consulta|cosa))\b",
    re.IGNORECASE,
)


def segments(text: str) -> List[str]:
    """The parts of a message that may each hold a question."""
    return [part.strip() for part in _SEGMENT_BREAK.split(text or "") if part and part.strip()]


def second_question(
    text: str,
    answered: str,
    search: Callable[[str], Hits],
    words: Callable[[str], int],
    offerable: Callable[[str], bool],
) -> Optional[str]:
    """Another article a message asks about besides ``answered``, if one part of it points
    clearly elsewhere ("¿qué es el RUC? y también ¿cuánto cuesta?"); None when it holds one
    question. ``search(part)`` gives a part's hits, ``words(part)`` its searchable words."""
    parts = segments(text)
    if len(parts) < 2:
        return None
    for part in parts:
        if words(part) < SECOND_MIN_WORDS:
            continue
        hits = [(a, s) for a, s in search(part) if offerable(a)]
        if not hits or answered in [a for a, _ in hits[:MAX_CANDIDATES]]:
            continue  # this part asks what was answered (or nothing clear)
        article, score = hits[0]
        runner_up = hits[1][1] if len(hits) > 1 else 0.0
        if score >= SECOND_MIN_SCORE and score >= SECOND_MARGIN * runner_up:
            return article
    return None
