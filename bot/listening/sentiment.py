"""A comment's sentiment: positivo, neutral or negativo, with the model's score.

The model ships inside the PyPI package ``sentiment-analysis-spanish`` (0.0.25): an n-gram
counter (1–3 words, 5,000 features) and a multinomial naive Bayes classifier trained on
Spanish reviews, pickled with scikit-learn 0.23. Nothing is downloaded at run time. It gives
the probability that a text is positive; a comment is *positivo* from 2/3 up, *negativo* up
to 1/3, *neutral* in between (bands chosen before measuring, not tuned on the labelled set).
How well that does on fanpage comments: ``make bench`` (``bench/sentiment.py``, figures in
docs/benchmarks.md).

Loading takes about 15 seconds and, for that moment, some 600 MB (the pickled counter carries
every n-gram it dropped, ``stop_words_``, which scikit-learn keeps only for introspection: it is
dropped at once, leaving about 5 MB). So the model loads once, lazily, in a worker thread, never
on the event loop; a test gives a fake :class:`SentimentModel` instead.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
import time
import warnings
from dataclasses import dataclass
from typing import Any, Literal, Protocol

logger = logging.getLogger(__name__)

Label = Literal["positivo", "neutral", "negativo"]
LABELS: tuple[Label, ...] = ("positivo", "neutral", "negativo")
#: Probability of "positive" from which a comment is positivo / up to which it is negativo.
POSITIVE_FROM = 2 / 3
NEGATIVE_UP_TO = 1 / 3


@dataclass(frozen=True)
class Sentiment:
    label: Label
    #: The model's probability that the text is positive (0–1).
    score: float


def label_of(score: float) -> Label:
    """The label of a probability of "positive" (the bands above)."""
    if score >= POSITIVE_FROM:
        return "positivo"
    if score <= NEGATIVE_UP_TO:
        return "negativo"
    return "neutral"


class SentimentModel(Protocol):
    """What the listening room asks of a sentiment model."""

    async def estimate(self, text: str) -> Sentiment:
        """The sentiment of ``text`` (off the event loop when it takes time)."""
        ...


class PackagedModel:
    """``sentiment-analysis-spanish``'s model, loaded at the first estimate (once, in a worker
    thread; estimates wait for it meanwhile) and kept for the life of the process."""

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                started = time.monotonic()
                with warnings.catch_warnings():
                    # Pickled by scikit-learn 0.23; the benchmark and a unit test check it
                    # still answers as it should under the pinned version.
                    warnings.simplefilter("ignore")
                    from sentiment_analysis_spanish.sentiment_analysis import (
                        SentimentAnalysisSpanish,
                    )

                    model = SentimentAnalysisSpanish()
                model.vectorizer.stop_words_ = None  # introspection only: ~600 MB
                gc.collect()
                self._model = model
                logger.info("sentiment model loaded in %.1f s", time.monotonic() - started)
            return self._model

    def probability(self, text: str) -> float:
        """The probability that ``text`` is positive (blocking: loads the model if needed)."""
        return float(self._load().sentiment(text))

    async def estimate(self, text: str) -> Sentiment:
        score = await asyncio.to_thread(self.probability, text)
        return Sentiment(label_of(score), round(score, 4))
