"""Metric functions on hand-checked cases: what `rag eval` reports must mean what its definition says."""
from __future__ import annotations

import pytest

from rag import metrics as M
from rag.types import Chunk, Hit


def hit(doc_id: str, rank: int, *dup_docs: str) -> Hit:
    dups = tuple(Chunk.make(d, "same passage", 0, 12, 2) for d in dup_docs)
    return Hit(Chunk.make(doc_id, f"passage of {doc_id}", 0, 10, 3), 1.0 / rank, rank, duplicates=dups)


@pytest.mark.parametrize("text, expected", [
    ("The Kiwi’s $16-million pledge.", "kiwi 16million pledge"),
    ("  An   apple, a pear and THE end! ", "apple pear and end"),
    ("Kyiv’s children’s hospital", "kyiv children hospital"),
    ("Albanese's decision", "albanese decision"),
    ("", ""),
])
def test_normalize_answer(text, expected):
    assert M.normalize_answer(text) == expected


@pytest.mark.parametrize("prediction, gold, f1", [
    ("Christopher Luxon", "Christopher Luxon", 1.0),
    ("Prime Minister Christopher Luxon", "Christopher Luxon", 2 * 0.5 * 1 / 1.5),
    ("the Luxon", "Luxon", 1.0),                       # articles do not count
    ("Biden", "Luxon", 0.0),
    ("", "Luxon", 0.0),
])
def test_token_f1(prediction, gold, f1):
    assert M.token_f1(prediction, gold) == pytest.approx(f1)


@pytest.mark.parametrize("answer, golds, contains, f1", [
    ("New Zealand announced $16 million more [1].", ["$16 million", "16 million"], True, 4 / 9),  # P=2/7, R=1
    ("Anthony Albanese’s decision not to attend [1]", ["Albanese"], True, 1 / 4),  # P=1/7, R=1
    ("It was about fourteen.", ["four"], False, 0.0),   # containment is on word boundaries
    ("", ["Luxon"], False, 0.0),                       # empty answer
    ("Luxon", [], False, 0.0),                         # no gold answers (unanswerable question)
    ("Luxon", ["", "Luxon"], True, 1.0),               # an empty gold string is ignored
])
def test_answer_scores(answer, golds, contains, f1):
    got_contains, got_f1 = M.answer_scores(answer, golds)
    assert got_contains is contains
    assert got_f1 == pytest.approx(f1)


def test_doc_ranking_dedupes_and_counts_near_duplicates_in_place():
    hits = [hit("a", 1), hit("b", 2, "c", "a"), hit("a", 3), hit("d", 4)]
    assert M.doc_ranking(h.doc_ids for h in hits) == ["a", "b", "c", "d"]
    assert M.doc_ranking([]) == []


def test_first_gold_rank_and_mrr_use_document_ranks_not_passage_ranks():
    # passages: a, a, a, b -> documents: a, b; gold b is document rank 2 although passage rank 4
    ranking = M.doc_ranking(h.doc_ids for h in [hit("a", 1), hit("a", 2), hit("a", 3), hit("b", 4)])
    assert M.first_gold_rank(ranking, ["b"]) == 2
    assert M.first_gold_rank(ranking, ["z"]) is None
    assert M.first_gold_rank(ranking, []) is None
    # a gold document reached only as a near-duplicate of the top passage counts at rank 2
    assert M.first_gold_rank(M.doc_ranking([hit("x", 1, "g").doc_ids]), ["g"]) == 2


def test_all_gold_at_k():
    ranking = ["a", "b", "c", "d", "e", "f"]
    assert M.all_gold_at_k(ranking, ["a", "e"], 5)
    assert not M.all_gold_at_k(ranking, ["a", "f"], 5)
    assert not M.all_gold_at_k(ranking, [], 5)          # no gold: nothing to find


def test_citation_precision_and_recall():
    gold = ["g1", "g2"]
    cited = [("g1",), ("x",), ("y", "g2")]               # the third passage is a near-duplicate of a gold doc
    assert M.citation_precision(cited, gold) == pytest.approx(2 / 3)
    assert M.citation_precision([], gold) is None        # an answer without citations has no precision
    assert M.citation_recall([("g1",)], gold, needs_all=True) == 0.5
    assert M.citation_recall([("g1",), ("g1",)], gold, needs_all=True) == 0.5   # citing twice is still one doc
    assert M.citation_recall(cited, gold, needs_all=True) == 1.0
    assert M.citation_recall([("g1",)], gold, needs_all=False) == 1.0
    assert M.citation_recall([], gold, needs_all=False) == 0.0
    assert M.citation_recall([("g1",)], [], needs_all=False) is None


def test_refusal_scores():
    # refused: q1 (unanswerable, right), q2 (answerable, wrong); q3 unanswerable but answered
    got = M.refusal_scores([True, True, False, False], [False, True, False, True])
    assert got == {"refusal_precision": 0.5, "refusal_recall": 0.5}
    assert M.refusal_scores([False, False], [True, True]) == {"refusal_precision": None, "refusal_recall": None}


def test_percentile_and_mean():
    assert M.percentile([3.0], 95) == 3.0
    assert M.percentile([4, 1, 3, 2], 50) == 2.5          # order does not matter
    assert M.percentile(list(range(1, 101)), 95) == pytest.approx(95.05)
    assert M.percentile([], 50) is None
    assert M.mean([1.0, None, 0.0]) == 0.5
    assert M.mean([None]) is None


@pytest.mark.parametrize("row, expected", [
    ({"type": "multi", "gold_doc_ids": ["a", "b"]}, True),
    ({"type": "single", "gold_doc_ids": ["a", "b"]}, False),   # the fact is in either document
    ({"gold_doc_ids": ["a", "b"]}, True),                       # untyped (HotpotQA): both are needed
    ({"gold_doc_ids": ["a"]}, False),
])
def test_needs_all(row, expected):
    assert M.needs_all(row) is expected


def row(answerable, gold_rank, refused=False, contains=False, all_gold=None, seconds=1.0, **extra):
    return {"answerable": answerable, "gold_rank": gold_rank, "refused": refused, "contains": contains,
            "f1": 1.0 if contains else 0.0, "all_gold": all_gold, "seconds": seconds, "unsupported": [],
            "citation_precision": extra.get("cp"), "citation_recall": extra.get("cr", 0.0 if answerable else None)}


def test_summarize_counts_retrieval_over_answerable_questions_only():
    rows = [row(True, 1, contains=True, cp=1.0, cr=1.0), row(True, 4, all_gold=False), row(True, None, refused=True),
            row(True, 2, all_gold=True, contains=True, cp=0.5, cr=1.0, seconds=3.0), row(False, None, refused=True)]
    s = M.summarize(rows, answers=True)
    assert s["hit@1"] == 0.25 and s["hit@3"] == 0.5 and s["hit@5"] == 0.75
    assert s["mrr"] == pytest.approx((1 + 1 / 4 + 0 + 1 / 2) / 4, abs=1e-4)
    assert s["all_gold@5"] == 0.5
    assert s["answer_contains"] == 0.5
    assert s["citation_precision"] == 0.75 and s["citation_recall"] == 0.5
    assert s["refusal_precision"] == 0.5 and s["refusal_recall"] == 1.0
    assert s["seconds_median"] == 1.0
    retrieval_only = M.summarize(rows, answers=False)
    assert "answer_contains" not in retrieval_only and retrieval_only["hit@5"] == 0.75
