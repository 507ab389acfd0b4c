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
    assert got == {"refusal_precision": 0.5, "refusal_recall": 0.5, "refusal_f1": 0.5}
    assert M.refusal_scores([False, False], [True, True]) == {"refusal_precision": None, "refusal_recall": None,
                                                              "refusal_f1": None}


@pytest.mark.parametrize("refused, answerable, p, r, f1", [
    # 3 refusals, 2 of them right; 4 unanswerable: P = 2/3, R = 1/2, F1 = 2PR/(P+R) = 4/7
    ([True, True, True, False, False, False], [False, False, True, False, False, True], 2 / 3, 1 / 2, 4 / 7),
    ([True, False], [True, False], 0.0, 0.0, 0.0),          # refuses only the answerable one
    ([True, True], [False, False], 1.0, 1.0, 1.0),
    ([False, False], [False, True], None, 0.0, None),       # never refuses: no precision, so no F1
])
def test_refusal_f1_is_the_harmonic_mean_of_precision_and_recall(refused, answerable, p, r, f1):
    got = M.refusal_scores(refused, answerable)
    assert got["refusal_precision"] == pytest.approx(p) if p is not None else got["refusal_precision"] is None
    assert got["refusal_recall"] == pytest.approx(r)
    assert got["refusal_f1"] == pytest.approx(f1) if f1 is not None else got["refusal_f1"] is None


EVIDENCE = ["Seasonality is a characteristic of a time series in which the data experiences regular and "
            "predictable changes which recur every calendar year .",
            "The kiwi is a flightless bird ."]


@pytest.mark.parametrize("quotes, expected", [
    ([EVIDENCE[0]], True),                                                  # verbatim
    (["  seasonality IS a characteristic of a time series in which the data\nexperiences regular and "
      "predictable changes which recur every calendar year ."], True),     # whitespace and case do not matter
    (["Unrelated sentence .", EVIDENCE[1]], True),                          # any quote, any evidence sentence
    ([EVIDENCE[0][:-len(" calendar year .")]], True),                       # 20 of 23 tokens: >= 80 %
    (["Seasonality is a characteristic of a time series ."], False),      # contained but only 9 of 23 tokens
    (["It said The kiwi is a flightless bird ."], False),                   # contains it, 7 of 9 tokens: < 80 %
    (["The kiwi is a flightless bird , it said"], False),                   # "bird ." is not in it: no containment
    (["The kiwi is a flightless bird"], True),                              # 6 of 7 tokens
    (["The kiwi is a flight less bird ."], False),                          # neither contains the other
    (["kiwi is a flightless bird . The"], False),                           # overlapping, not containing
    ([], False),
    ([""], False),
])
def test_quotes_evidence(quotes, expected):
    assert M.quotes_evidence(quotes, EVIDENCE) is expected


def test_quotes_evidence_needs_word_boundaries_and_the_threshold_is_a_parameter():
    assert M.quotes_evidence(["kiwi is a flightless bird"], ["Kiwi is a flightless bird"])
    assert not M.quotes_evidence(["Akiwi is a flightless bird"], ["kiwi is a flightless bird"])   # not a word
    assert M.quotes_evidence(["The kiwi is a flightless bird . Yes ."], EVIDENCE, overlap=0.7)
    assert not M.quotes_evidence(["The kiwi is a flightless bird . Yes ."], EVIDENCE, overlap=0.8)   # 7 of 9
    assert not M.quotes_evidence([EVIDENCE[1]], [])


@pytest.mark.parametrize("prediction, golds, em, f1", [
    ("308", ["308"], True, 1.0),
    ("The Denver Broncos", ["Denver Broncos"], True, 1.0),            # SQuAD normalisation drops articles
    ("Denver Broncos [1]", ["Denver Broncos"], True, 1.0),            # citation markers are not part of it
    ("Broncos [1, 2]", ["Denver Broncos"], False, 2 / 3),             # P = 1, R = 1/2
    ("the Panthers defense gave up just 308 points [1].", ["308"], False, 0.25),    # whole text: P = 1/7
    ("", ["308"], False, 0.0),                                        # refusal
    ("308", [], False, 0.0),
])
def test_short_answer_scores(prediction, golds, em, f1):
    got_em, got_f1 = M.short_answer_scores(prediction, golds)
    assert got_em is em
    assert got_f1 == pytest.approx(f1)


@pytest.mark.parametrize("row, expected", [
    ({"answerable": True, "answers": ["308"]}, True),                                   # XQuAD
    ({"answerable": True, "answers": ["Animorphs"], "answer_type": "span"}, True),      # HotpotQA span
    ({"answerable": True, "answers": ["yes"], "answer_type": "yes/no"}, False),
    ({"answerable": True, "answers": ["A long answer."], "answer_style": "long-form"}, False),   # ClapNQ
    ({"answerable": False, "answers": []}, False),
])
def test_has_span_answer(row, expected):
    assert M.has_span_answer(row) is expected


def test_split_of_is_a_fixed_hash_half():
    ids = [f"q{i}" for i in range(400)]
    halves = [M.split_of(i) for i in ids]
    assert set(halves) == set(M.SPLITS) == {"train", "heldout"}
    assert 150 < halves.count("train") < 250                       # about half each
    assert halves == [M.split_of(i) for i in ids]                  # same answer every time
    assert M.split_of("56beb4343aeaaa14008c925b") == M.split_of(str("56beb4343aeaaa14008c925b"))


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
            "citation_precision": extra.get("cp"), "citation_recall": extra.get("cr", 0.0 if answerable else None),
            **{k: v for k, v in extra.items() if k not in ("cp", "cr")}}


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


def test_summarize_answered_evidence_and_short_answers_count_only_their_questions():
    rows = [row(True, 1, evidence_quoted=True), row(True, 1, evidence_quoted=False),
            row(True, 1, refused=True, evidence_quoted=False),
            row(True, 1, short_em=True, short_f1=1.0), row(True, 2, short_em=False, short_f1=0.5),
            row(False, None, refused=True), row(False, None)]
    s = M.summarize(rows, answers=True)
    assert s["answered"] == 0.8                                   # 4 of 5 answerable, unanswerable ones not counted
    assert s["evidence_quoted"] == pytest.approx(1 / 3, abs=1e-4)  # over the 3 questions with evidence
    assert s["short_em"] == 0.5 and s["short_f1"] == 0.75         # over the 2 span questions
    assert s["refusal_precision"] == 0.5 and s["refusal_recall"] == 0.5 and s["refusal_f1"] == 0.5
    none = M.summarize([row(True, 1), row(False, None)], answers=True)
    assert none["evidence_quoted"] is None and none["short_em"] is None and none["short_f1"] is None
