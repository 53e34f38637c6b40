"""Runs in the engine environment (make unit-engine): the classifier's weights are laid out so
that prediction copies nothing, and its predictions are those of the plain model."""

from __future__ import annotations

import numpy as np
from scipy.sparse import random as sparse_random
from sklearn.linear_model import LogisticRegression

from bot.engine.intent_classifier import lay_out_for_prediction


def test_the_weights_transpose_is_contiguous_and_predictions_are_unchanged() -> None:
    rng = np.random.default_rng(3)
    X = sparse_random(300, 2000, density=0.01, format="csr", random_state=3)
    y = rng.integers(0, 40, size=300)
    plain = LogisticRegression(max_iter=50).fit(X, y)
    assert not plain.coef_.T.flags["C_CONTIGUOUS"]  # what made every prediction copy it
    expected = plain.predict_proba(X[:20])
    lay_out_for_prediction(plain)
    assert plain.coef_.T.flags["C_CONTIGUOUS"]
    assert np.allclose(plain.predict_proba(X[:20]), expected)


def test_a_model_without_weights_is_left_alone() -> None:
    unfitted = LogisticRegression()
    lay_out_for_prediction(unfitted)
    assert not hasattr(unfitted, "coef_")
