"""Evaluation metrics: pure functions over document rankings, answers, citations and refusals.

Each function's docstring is the metric's definition (the README copies them). Nothing here loads a model
or an index; `rag.evaluate` runs the questions and feeds these functions.

A question *needs all* its gold documents when its `type` is "multi", or, lacking a type, when it lists two
or more (HotpotQA's two supporting paragraphs). Otherwise any one gold document answers it.
"""
from __future__ import annotations

import hashlib
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_POSSESSIVE = re.compile(r"['’]s\b")


SPLITS = ("train", "heldout")


def split_of(question_id: str) -> str:
    """The half a question belongs to, by a hash of its id: fit on "train", report on "heldout", never the reverse.

    >>> split_of("56beb4343aeaaa14008c925b") in SPLITS
    True
    """
    return SPLITS[int(hashlib.sha256(str(question_id).encode("utf-8")).hexdigest()[:8], 16) % 2]


def needs_all(row: dict) -> bool:
    """A "multi" question, or (untyped) one with 2+ gold documents, needs every gold document."""
    return row.get("type") == "multi" or ("type" not in row and len(row["gold_doc_ids"]) >= 2)


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lowercase, drop punctuation (ASCII and Unicode, e.g. ’ and –), drop the
    articles a/an/the, collapse whitespace. One addition: a possessive 's is dropped first, so "Albanese’s"
    still contains "Albanese" as a word.

    >>> normalize_answer("The  Kiwi’s $16-million pledge.")
    'kiwi 16million pledge'
    """
    text = _POSSESSIVE.sub("", text.lower())
    text = "".join(ch for ch in text
                   if ch not in string.punctuation and not unicodedata.category(ch).startswith(("P", "S")))
    return " ".join(_ARTICLES.sub(" ", text).split())


def token_f1(prediction: str, gold: str) -> float:
    """SQuAD token F1 between normalised prediction and gold: 2PR/(P+R) over the multiset of shared tokens.

    >>> round(token_f1("Prime Minister Christopher Luxon", "Christopher Luxon"), 3)
    0.667
    """
    pred, ref = normalize_answer(prediction).split(), normalize_answer(gold).split()
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    p, r = common / len(pred), common / len(ref)
    return 2 * p * r / (p + r)


def answer_scores(prediction: str, golds: Sequence[str]) -> tuple[bool, float]:
    """Answer correctness against acceptable gold strings, max over the golds:
    `contains` = some normalised gold string occurs in the normalised answer (on word boundaries);
    `f1` = the best SQuAD token F1. An empty answer scores (False, 0.0); so does an empty gold list.

    >>> answer_scores("Luxon chaired it [1].", ["Christopher Luxon", "Luxon"])
    (True, 0.4)
    """
    pred = f" {normalize_answer(prediction)} "
    golds = [g for g in golds if normalize_answer(g)]
    if not golds or not pred.strip():
        return False, 0.0
    contains = any(f" {normalize_answer(g)} " in pred for g in golds)
    return contains, max(token_f1(prediction, g) for g in golds)


def doc_ranking(doc_ids_per_hit: Iterable[Sequence[str]]) -> list[str]:
    """The document ranking: unique document ids in hit order, where each hit contributes every document it
    stands in for (`Hit.doc_ids`: its own first, then its near-duplicates').

    >>> doc_ranking([("a",), ("b", "a", "c"), ("a",)])
    ['a', 'b', 'c']
    """
    ranking: list[str] = []
    for ids in doc_ids_per_hit:
        ranking.extend(d for d in ids if d not in ranking)
    return ranking


def first_gold_rank(ranking: Sequence[str], gold: Iterable[str]) -> int | None:
    """1-based rank of the first gold document in the ranking, None if none is there.
    hit@k = 1 if this rank is <= k else 0; MRR = mean of 1/rank (0 when None)."""
    gold = set(gold)
    return next((i for i, d in enumerate(ranking, 1) if d in gold), None)


def all_gold_at_k(ranking: Sequence[str], gold: Iterable[str], k: int) -> bool:
    """all-gold@k: every gold document is among the top k documents of the ranking (False with no gold)."""
    gold = set(gold)
    return bool(gold) and gold <= set(ranking[:k])


def citation_precision(cited: Sequence[Iterable[str]], gold: Iterable[str]) -> float | None:
    """Citation precision: the share of an answer's citations whose passage belongs to a gold document (a
    passage belongs to its own document and to the documents it is a near-duplicate of). None without citations.

    >>> citation_precision([["a"], ["b"], ["c", "a"]], ["a"])
    0.6666666666666666
    """
    if not cited:
        return None
    gold = set(gold)
    return sum(1 for ids in cited if gold & set(ids)) / len(cited)


def citation_recall(cited: Sequence[Iterable[str]], gold: Sequence[str], needs_all: bool) -> float | None:
    """Citation recall: for a question that needs all its gold documents, the share of them cited; otherwise
    1.0 if any gold document is cited, else 0.0. None for a question without gold documents."""
    if not gold:
        return None
    covered = set().union(*map(set, cited)) if cited else set()
    if needs_all:
        return len(set(gold) & covered) / len(set(gold))
    return 1.0 if covered & set(gold) else 0.0


def refusal_scores(refused: Sequence[bool], answerable: Sequence[bool]) -> dict[str, float | None]:
    """Refusal precision = refused and unanswerable / refused; refusal recall = refused and unanswerable /
    unanswerable; refusal F1 = 2PR / (P + R), their harmonic mean (0.0 when both are 0). Each is None when its
    denominator is zero (F1: when precision or recall is None).

    >>> refusal_scores([True, True, False, False], [False, True, False, True])
    {'refusal_precision': 0.5, 'refusal_recall': 0.5, 'refusal_f1': 0.5}
    """
    both = sum(1 for r, a in zip(refused, answerable) if r and not a)
    n_refused, n_unanswerable = sum(map(bool, refused)), sum(1 for a in answerable if not a)
    p = both / n_refused if n_refused else None
    r = both / n_unanswerable if n_unanswerable else None
    f1 = None if p is None or r is None else (2 * p * r / (p + r) if p + r else 0.0)
    return {"refusal_precision": p, "refusal_recall": r, "refusal_f1": f1}


EVIDENCE_OVERLAP = 0.8


def _casefold_ws(text: str) -> str:
    return " ".join(text.split()).casefold()


def quotes_evidence(quotes: Iterable[str], evidence: Iterable[str], overlap: float = EVIDENCE_OVERLAP) -> bool:
    """evidence_quoted (one question): some citation quote matches some annotated evidence sentence. Both are
    compared whitespace-collapsed and case-folded; a quote matches a sentence when one of the two occurs in the
    other on word boundaries (equal, or one contains the other) and the shorter has at least `overlap` (80 %) as
    many whitespace tokens as the longer. So quoting the sentence, the sentence plus a short clause, or the
    sentence less a few words counts; quoting half of it, or it merged with a second sentence, does not.

    >>> quotes_evidence(["The  Kiwi is a flightless bird endemic to New Zealand , it said"],
    ...                 ["the kiwi is a flightless bird endemic to new zealand ,"])
    True
    >>> quotes_evidence(["The kiwi is a bird ."], ["The kiwi is a flightless bird endemic to New Zealand ."])
    False
    """
    evidence = [f" {e} " for e in map(_casefold_ws, evidence) if e]
    for quote in map(_casefold_ws, quotes):
        if not quote:
            continue
        for sentence in evidence:
            shorter, longer = sorted((f" {quote} ", sentence), key=len)
            if shorter in longer and len(shorter.split()) >= overlap * len(longer.split()):
                return True
    return False


_CITATION_MARKER = re.compile(r"\[\d+(?:\s*,\s*\d+)*\]")


def short_answer_scores(prediction: str, golds: Sequence[str]) -> tuple[bool, float]:
    """short_em / short_f1 (one question): SQuAD exact match (the normalised prediction equals a normalised
    gold answer) and SQuAD token F1, max over the gold answers, after [n] citation markers are removed from the
    prediction. The prediction is the answer's short answer when it has one, else its whole text; a refusal is
    the empty prediction and scores (False, 0.0), as does an empty gold list.

    >>> short_answer_scores("the Luxon [1]", ["Luxon"])
    (True, 1.0)
    """
    prediction = _CITATION_MARKER.sub(" ", prediction)
    golds = [g for g in golds if normalize_answer(g)]
    if not golds or not normalize_answer(prediction):
        return False, 0.0
    em = any(normalize_answer(prediction) == normalize_answer(g) for g in golds)
    return em, max(token_f1(prediction, g) for g in golds)


def has_span_answer(row: dict) -> bool:
    """Short EM/F1 are measured on answerable questions with short gold answers: not `answer_style: long-form`
    (ClapNQ) and `answer_type` absent or "span" (HotpotQA's yes/no questions are left out)."""
    return (bool(row.get("answerable")) and bool(row.get("answers")) and row.get("answer_style") != "long-form"
            and row.get("answer_type", "span") == "span")


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation between closest ranks (numpy's default);
    median = percentile 50. None for no values.

    >>> percentile([1, 2, 3, 4], 50), percentile([1, 2, 3, 4], 95)
    (2.5, 3.85)
    """
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return round(xs[lo] + (xs[hi] - xs[lo]) * (pos - lo), 10)


def percentiles(ms: Sequence[float]) -> dict:
    """Median and p95 of latencies in ms by nearest rank (a latency that was observed, as latency reports give),
    with their count; the benchmark's summary of a timing loop.

    >>> percentiles([1, 2, 3, 4, 100])
    {'p50_ms': 3.0, 'p95_ms': 100.0, 'n': 5}
    """
    s = sorted(ms)
    if not s:
        return {"p50_ms": None, "p95_ms": None, "n": 0}
    rank = lambda q: float(s[max(0, -(-q * len(s) // 100) - 1)])  # noqa: E731  (q in percent: exact ceiling)
    return {"p50_ms": round(rank(50), 2), "p95_ms": round(rank(95), 2), "n": len(s)}


def spread(rows: list, limit: int | None) -> list:
    """`limit` rows spread evenly over the list (benchmarks are sorted by topic, so the head is not a sample); all
    of them when `limit` is None or not smaller.

    >>> spread(list(range(10)), 4)
    [0, 2, 5, 7]
    """
    if not limit or limit >= len(rows):
        return rows
    return [rows[i * len(rows) // limit] for i in range(limit)]


def mean(values: Iterable[float | None]) -> float | None:
    """Mean over the values that are not None; None if there are none."""
    xs = [v for v in values if v is not None]
    return sum(xs) / len(xs) if xs else None


def summarize(rows: list[dict], answers: bool) -> dict:
    """The metrics of one mode from its per-question rows (as `rag.evaluate.evaluate_one` makes them).

    Retrieval, answer-correctness and citation metrics are means over answerable questions (all_gold@5 over
    those that need all their gold documents); answered = share of answerable questions not refused;
    evidence_quoted over answerable questions with annotated evidence sentences (a refusal counts as not
    quoting); short_em / short_f1 over questions with span answers (`has_span_answer`); refusal metrics over
    all questions; unsupported_rate = the share of non-refused answers with a sentence no source supports;
    seconds = retrieval + answering time. A metric with no question to count is None.
    """
    ok = [r for r in rows if r["answerable"]]
    ranks = [r["gold_rank"] for r in ok]
    out = {f"hit@{n}": mean(float(x is not None and x <= n) for x in ranks) for n in (1, 3, 5)}
    out["mrr"] = mean(1 / x if x else 0.0 for x in ranks)
    out["all_gold@5"] = mean(float(r["all_gold"]) for r in ok if r["all_gold"] is not None)
    if answers:
        out["answer_contains"] = mean(float(r["contains"]) for r in ok)
        out["answer_f1"] = mean(r["f1"] for r in ok)
        out["answered"] = mean(float(not r["refused"]) for r in ok)
        out["evidence_quoted"] = mean(None if r.get("evidence_quoted") is None else float(r["evidence_quoted"])
                                      for r in ok)
        out["short_em"] = mean(None if r.get("short_em") is None else float(r["short_em"]) for r in ok)
        out["short_f1"] = mean(r.get("short_f1") for r in ok)
        out["citation_precision"] = mean(r["citation_precision"] for r in ok)
        out["citation_recall"] = mean(r["citation_recall"] for r in ok)
        out.update(refusal_scores([r["refused"] for r in rows], [r["answerable"] for r in rows]))
        out["unsupported_rate"] = mean(float(bool(r["unsupported"])) for r in rows if not r["refused"])
    seconds = [r["seconds"] for r in rows]
    out["seconds_median"], out["seconds_p95"] = percentile(seconds, 50), percentile(seconds, 95)
    return {m: (round(v, 4) if isinstance(v, float) else v) for m, v in out.items()}
