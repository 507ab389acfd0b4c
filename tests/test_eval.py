"""`run_eval` end to end over the real seeds index, the report files, the gates and the questions file."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.errors import RagError
from rag.evaluate import (DEFAULT_QUESTIONS, METRICS, check_floors, load_questions, parse_floors, render_table,
                          run_eval, write_report)
from rag.metrics import normalize_answer

A, B, C, D = "000_a5161bc88c4f9418.txt", "001_88c7197dd4cdd008.txt", "002_891ee57fec840978.txt", "003_1fcb2ff00d21c651.txt"
EASY = [
    ("e1", "Which US senator was Luxon hoping to meet before leaving?", ["Ted Cruz"], [A]),
    ("e2", "How many nations are in the NATO alliance according to Stoltenberg?", ["32"], [B]),
    ("e3", "Which country besides North Korea is fuelling Russia's war by providing military support?", ["Iran"], [C]),
    ("e4", "How many new flagship projects did NATO and its Indo-Pacific Partners welcome?", ["four"], [D]),
    ("e5", "Where will the 2030 NATO summit be held?", [], []),
]


@pytest.fixture
def questions(tmp_path) -> Path:
    path = tmp_path / "questions.jsonl"
    path.write_text("".join(json.dumps({"id": i, "question": q, "answers": a, "gold_doc_ids": g,
                                        "answerable": bool(g)}) + "\n" for i, q, a, g in EASY))
    return path


@pytest.fixture(scope="module")
def retrieval_result(seed_settings, tmp_path_factory):
    path = tmp_path_factory.mktemp("q") / "questions.jsonl"
    path.write_text("".join(json.dumps({"id": i, "question": q, "answers": a, "gold_doc_ids": g}) + "\n"
                            for i, q, a, g in EASY))
    return run_eval(seed_settings, questions=path, modes=["dense", "bm25", "hybrid"], k=5, progress=False,
                    answers=False)


def test_retrieval_run_structure_and_easy_questions_are_found(retrieval_result):
    result = json.loads(json.dumps(retrieval_result))      # JSON-serialisable, unchanged by a round trip
    assert result == retrieval_result
    assert result["questions"] == 5 and result["answerable"] == 4
    assert set(result["modes"]) == {"dense", "bm25", "hybrid"}
    assert len(result["rows"]) == 15
    for mode, values in result["modes"].items():
        assert values["hit@5"] >= 0.75, (mode, values)
        assert 0 <= values["hit@1"] <= values["hit@3"] <= values["hit@5"] <= 1
        assert "answer_contains" not in values                # answers=False: retrieval only
    assert result["modes"]["hybrid"]["hit@5"] == 1.0
    row = next(r for r in result["rows"] if r["mode"] == "hybrid" and r["id"] == "e2")
    assert row["gold_rank"] is not None and row["ranking"][row["gold_rank"] - 1] == B and row["pass"] is True
    unanswerable = next(r for r in result["rows"] if r["id"] == "e5")
    assert unanswerable["gold_rank"] is None and unanswerable["pass"] is None


def test_render_table_has_modes_as_columns_and_metrics_as_rows(retrieval_result):
    table = render_table(retrieval_result)
    lines = table.splitlines()
    assert "5 questions" in lines[0] and "retrieval only" in lines[0]
    assert lines[1].split() == ["metric", "dense", "bm25", "hybrid"]
    assert any(line.split()[0] == "hit@5" and len(line.split()) == 4 for line in lines[3:])
    assert "answer_f1" not in table


def test_write_report_writes_json_markdown_and_png(retrieval_result, tmp_path):
    paths = write_report(retrieval_result, tmp_path / "out")
    assert {p.name for p in (tmp_path / "out").iterdir()} == {"results.json", "report.md", "chart.png"}
    assert json.loads(paths["json"].read_text())["modes"] == retrieval_result["modes"]
    md = paths["markdown"].read_text()
    assert "| metric | dense | bm25 | hybrid |" in md and "## Definitions" in md and "## Failures" in md
    assert paths["chart"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_answer_run_scores_answers_citations_and_refusals(seed_settings, questions, tmp_path):
    result = run_eval(seed_settings, questions=questions, modes=["hybrid"], progress=False)
    values = result["modes"]["hybrid"]
    for metric in ("answer_contains", "answer_f1", "citation_precision", "citation_recall",
                   "refusal_recall", "seconds_median", "seconds_p95"):
        assert metric in values
    rows = {r["id"]: r for r in result["rows"]}
    assert all(isinstance(r["answer"], str) and isinstance(r["citations"], list) for r in rows.values())
    # a correct answer contains the gold string, so its recorded pass agrees with the answer text
    for r in rows.values():
        if r["answerable"] and r["pass"]:
            assert normalize_answer(r["gold_answers"][0]) in normalize_answer(r["answer"])
    write_report(result, tmp_path)
    assert "answer_contains" in (tmp_path / "report.md").read_text()


def test_dataset_folder_gets_its_own_cached_index(seed_settings, tmp_path):
    data = tmp_path / "tiny"
    data.mkdir()
    corpus = [{"id": "kiwi", "title": "Kiwi", "text": "The kiwi is a flightless bird endemic to New Zealand."},
              {"id": "fjord", "title": "Fjord", "text": "A fjord is a long narrow inlet with steep sides."}]
    (data / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in corpus))
    (data / "questions.jsonl").write_text(json.dumps(
        {"id": "q1", "question": "Which bird cannot fly and lives in New Zealand?", "answers": ["kiwi"],
         "gold_doc_ids": ["kiwi"], "answerable": True}) + "\n")
    cache = tmp_path / "cache"
    first = run_eval(seed_settings, dataset=data, modes=["bm25"], progress=False, answers=False, cache=cache)
    assert first["dataset"] == "tiny" and first["modes"]["bm25"]["hit@1"] == 1.0
    assert Path(first["index"]).parent == cache and Path(first["index"]).name.startswith("tiny-")
    again = run_eval(seed_settings, dataset=data, modes=["bm25"], progress=False, answers=False, cache=cache)
    assert again["index"] == first["index"] and len(list(cache.iterdir())) == 1


def test_check_floors_reports_each_shortfall(retrieval_result):
    assert check_floors(retrieval_result, {"hit@5": 0.5}) == []
    short = check_floors(retrieval_result, {"hit@5": 1.01, "mrr": 0.0}, mode="hybrid")
    assert len(short) == 1 and short[0].startswith("hybrid: hit@5 = 1.000 < 1.01")
    assert "not measured" in check_floors(retrieval_result, {"answer_f1": 0.1}, mode="dense")[0]
    assert "unknown metric" in check_floors(retrieval_result, {"hit@7": 0.1})[0]
    assert check_floors(retrieval_result, {"seconds_p95": 1e9}) == []    # timings are ceilings
    assert "was not evaluated" in check_floors(retrieval_result, {"hit@5": 0.1}, mode="nope")[0]


def test_parse_floors():
    assert parse_floors(["hit@5=0.9", " mrr = 0.5"]) == {"hit@5": 0.9, "mrr": 0.5}
    for bad in ("hit@5", "hit@5=high"):
        with pytest.raises(RagError, match="METRIC=NUMBER"):
            parse_floors([bad])


def test_unknown_mode_and_bad_questions_file_are_one_line_errors(seed_settings, tmp_path):
    with pytest.raises(RagError, match="unknown retrieval mode sparse"):
        run_eval(seed_settings, modes=["sparse"], progress=False)
    bad = tmp_path / "q.jsonl"
    bad.write_text('{"id": "x", "question": "ok?"}\n{"question": "no id"}\n')
    with pytest.raises(RagError, match=r"q.jsonl:2"):
        load_questions(bad)
    with pytest.raises(RagError, match="does not exist"):
        load_questions(tmp_path / "missing.jsonl")


def test_shipped_seed_questions_are_well_formed():
    rows = load_questions(DEFAULT_QUESTIONS)
    seeds = Path(__file__).resolve().parents[1] / "seeds"
    texts = {p.name: p.read_text(encoding="utf-8") for p in seeds.iterdir()}
    assert len(rows) >= 40 and len({r["id"] for r in rows}) == len(rows)
    types = {r["type"] for r in rows}
    assert types == {"single", "numeric", "date", "paraphrase", "multi", "unanswerable"}
    assert sum(not r["answerable"] for r in rows) >= 8
    for r in rows:
        assert r["answerable"] == bool(r["answers"]) == bool(r["gold_doc_ids"]) == (r["type"] != "unanswerable")
        if r["type"] == "multi":
            assert len(r["gold_doc_ids"]) >= 2
        for answer in r["answers"]:       # every acceptable answer is in some gold document
            assert any(normalize_answer(answer) in normalize_answer(texts[d]) for d in r["gold_doc_ids"]), answer
    assert set(METRICS) >= {"hit@1", "hit@3", "hit@5", "mrr", "all_gold@5"}
