"""The fitted answer model: logistic regressions read from `rag/models/answer.json`, which `eval/fit.py` writes.

- `sentence_probability(X)`: P(this sentence answers the question) from `rag.evidence.FEATURES`;
- `answer_probability(p, x)`: P(the retrieved sentences answer the question at all), from the sentence
  probabilities of its own sentence model (which leaves out the features that only rank: `eval/fit.py`,
  RANKING_ONLY) and a few features of the best sentences, each read as a broken line (`hats`); a question below
  `answer_threshold()` is declined (the threshold is chosen on the training halves for the best refusal F1 that
  still answers 85 % of answerable questions);
- `threshold()`: the sentence probability a further sentence needs to join an answer;
- `support(claim, sentence, passage, cosine)`: P(a source sentence supports a claim an LLM wrote).

The file holds plain numbers (coefficients, standardisation or knots, thresholds) with what they were fitted on; no
pickle.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import text as T
from .errors import RagError

MODEL_FILE = Path(__file__).parent / "models" / "answer.json"
FORMAT_VERSION = 2       # 2: the answer model reads its features through a piecewise-linear basis ("knots")
SUPPORT_FEATURES = ("cos", "lex", "lex_passage", "numbers_missing", "names_missing")
QUESTION_FEATURES = ("best", "second", "top3", "cos_max", "lex_max", "type_missing", "qlen", "cos_passage_max")


@lru_cache(maxsize=1)
def model() -> dict:
    try:
        data = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise RagError(f"answer model {MODEL_FILE} is missing or unreadable ({e}); "
                       f"reinstall, or refit it with `python eval/fit.py`") from None
    if data.get("format_version") != FORMAT_VERSION:
        raise RagError(f"answer model {MODEL_FILE} has format {data.get('format_version')}, this version reads "
                       f"{FORMAT_VERSION}; refit it with `python eval/fit.py`")
    return data


def hats(x: np.ndarray, knots) -> np.ndarray:
    """Each column of `x` as a piecewise-linear curve's basis: one "hat" per knot (1 at its knot, falling to 0 at
    the knots beside it; a value beyond the outer knots counts as the outer knot), so a logistic regression over
    them fits each feature's effect as a broken line instead of a straight one (what scikit-learn's
    SplineTransformer(degree=1) computes).

    >>> hats(np.array([[0.25], [2.0]]), [[0.0, 0.5, 1.0]]).round(2).tolist()
    [[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]]
    """
    cols = []
    for j, k in enumerate(knots):
        k = np.asarray(k, dtype=np.float64)
        v = np.clip(x[:, j], k[0], k[-1])[:, None]
        cols.append(np.clip(1.0 - np.abs(v - k[None, :]) / (k[1] - k[0]), 0.0, 1.0))
    return np.concatenate(cols, axis=1)


def _logistic(part: dict, x: np.ndarray) -> np.ndarray:
    """P from a fitted part: standardised features, or (a part with "knots") their piecewise-linear basis (`hats`)."""
    if "knots" in part:
        design = hats(np.asarray(x, dtype=np.float64), part["knots"])
    else:
        design = (x - np.asarray(part["mean"])) / np.asarray(part["scale"])
    z = design @ np.asarray(part["coef"]) + part["intercept"]
    return 1.0 / (1.0 + np.exp(-z))


def sentence_probability(x: np.ndarray, features: tuple[str, ...], part: dict | None = None) -> np.ndarray:
    """P(answers) for rows of `features`; the model reads the columns it was fitted on, by name."""
    part = part or model()["sentence"]
    cols = [features.index(f) for f in part["features"]]
    return _logistic(part, x[:, cols]) if len(x) else np.zeros(0)


def question_features(p: np.ndarray, x: np.ndarray, features: tuple[str, ...]) -> list[float]:
    """QUESTION_FEATURES of one question from its sentences' probabilities `p` and feature rows `x` (all zero when
    nothing was retrieved)."""
    if not len(p):
        return [0.0] * len(QUESTION_FEATURES)
    top = np.sort(p)[::-1]
    best = int(np.argmax(p))
    col = features.index
    return [float(top[0]), float(top[1]) if len(top) > 1 else 0.0, float(top[:3].mean()), float(x[:, col("cos")].max()),
            float(x[:, col("lex")].max()), float(x[best, col("type_missing")]), float(x[best, col("qlen")]),
            float(x[:, col("cos_passage")].max())]


def answer_probability(p: np.ndarray, x: np.ndarray, features: tuple[str, ...]) -> float:
    """P(the retrieved sentences answer the question), from `question_features` of the sentence probabilities by
    the answer model's own sentence model (`p`, the ranking's, when the file has none)."""
    part = model()["question"]
    if "sentences" in part:     # the answer model reads its own sentence model's probabilities
        p = sentence_probability(x, features, part["sentences"])
    q = np.asarray([question_features(p, x, features)], dtype=np.float64)
    return float(_logistic(part, q)[0])


def answer_threshold() -> float:
    return float(model()["question"]["threshold"])


def threshold() -> float:
    return float(model()["sentence"]["threshold"])


def extra_ratio() -> float:
    """A further sentence joins the answer when it covers a part of the question the others do not and scores at
    least this share of the best sentence's probability (chosen on the train halves; eval/fit.py)."""
    return float(model()["sentence"]["extra_ratio"])


def support_features(claim: str, sentence: str, passage: str, cosine: float) -> list[float]:
    terms = T.stems(claim)
    nums = set(re.findall(r"\d[\d,.]*\d|\d", claim))
    names = {T.fold(n) for n in T.names(claim)}
    folded = T.fold(passage + " " + sentence)
    return [cosine, len(terms & T.stems(sentence)) / (len(terms) or 1),
            len(terms & T.stems(passage)) / (len(terms) or 1),
            float(bool(nums - set(re.findall(r"\d[\d,.]*\d|\d", passage + " " + sentence)))),
            sum(n not in folded for n in names) / len(names) if names else 0.0]


def support(claim: str, sentence: str, passage: str, cosine: float) -> float:
    """P(the sentence, read in its passage, supports the claim)."""
    x = np.asarray([support_features(claim, sentence, passage, cosine)], dtype=np.float64)
    return float(_logistic(model()["support"], x)[0])


def support_threshold() -> float:
    return float(model()["support"]["threshold"])
