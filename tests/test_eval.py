"""`run_eval` end to end over the real seeds index, the report files, the gates and the questions file."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.errors import RagError
from rag.evaluate import (DEFAULT_QUESTIONS, METRICS, check_floors, load_questions, parse_floors, render_table,
                          run_eval, select, write_report)
from rag.metrics import normalize_answer, split_of

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT / "eval" / "datasets"

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


def tiny_dataset(folder: Path, questions: list[dict]) -> Path:
    """A dataset folder: a two-document corpus (a kiwi, a fjord) and `questions`."""
    folder.mkdir()
    corpus = [{"id": "kiwi", "title": "Kiwi", "text": "The kiwi is a flightless bird endemic to New Zealand."},
              {"id": "fjord", "title": "Fjord", "text": "A fjord is a long narrow inlet with steep sides."}]
    (folder / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in corpus))
    (folder / "questions.jsonl").write_text("".join(json.dumps(q) + "\n" for q in questions))
    return folder


def test_dataset_folder_gets_its_own_cached_index(seed_settings, tmp_path):
    data = tiny_dataset(tmp_path / "tiny", [
        {"id": "q1", "question": "Which bird cannot fly and lives in New Zealand?", "answers": ["kiwi"],
         "gold_doc_ids": ["kiwi"], "answerable": True}])
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


@pytest.mark.parametrize("name", ["clapnq-dev-a", "xquad-unanswerable", "xquad-en", "hotpotqa-unanswerable"])
def test_split_halves_partition_each_set_and_never_change(name):
    rows = load_questions(DATASETS / name / "questions.jsonl")
    train, heldout = select(rows, "train"), select(rows, "heldout")
    assert len(train) + len(heldout) == len(rows) and {r["id"] for r in train}.isdisjoint(r["id"] for r in heldout)
    assert all(split_of(r["id"]) == "train" for r in train) and 0.4 < len(train) / len(rows) < 0.6
    assert select(rows, "all") == rows
    assert [r["id"] for r in select(list(rows), "heldout", 40)] == [r["id"] for r in select(rows, "heldout", 40)]


@pytest.mark.parametrize("name, limit", [("clapnq-dev-a", 20), ("xquad-unanswerable", 30), ("xquad-unanswerable", 2)])
def test_limited_sample_comes_from_the_split_and_keeps_both_kinds_in_proportion(name, limit):
    rows = load_questions(DATASETS / name / "questions.jsonl")
    half = select(rows, "heldout")
    sample = select(rows, "heldout", limit)
    assert len(sample) == limit and all(split_of(r["id"]) == "heldout" for r in sample)
    positions = [half.index(r) for r in sample]
    assert positions == sorted(positions)                       # file order kept
    share = sum(not r["answerable"] for r in half) / len(half)
    n_unanswerable = sum(not r["answerable"] for r in sample)
    assert n_unanswerable >= 1 and limit - n_unanswerable >= 1
    assert abs(n_unanswerable - share * limit) <= 1


def test_select_rejects_an_unknown_split_and_the_run_says_which_split(seed_settings, questions):
    with pytest.raises(RagError, match="unknown split 'test'"):
        select([], "test")
    with pytest.raises(RagError, match="unknown split"):
        run_eval(seed_settings, questions=questions, modes=["bm25"], progress=False, answers=False, split="dev")
    result = run_eval(seed_settings, questions=questions, modes=["bm25"], progress=False, answers=False,
                      split="heldout")
    expected = [i for i, *_ in EASY if split_of(i) == "heldout"]
    assert result["split"] == "heldout" and [r["id"] for r in result["rows"]] == expected
    assert "[split heldout]" in render_table(result).splitlines()[0]


def test_cli_eval_split_option(seed_settings, questions):
    from click.testing import CliRunner

    from rag.cli import main
    args = ["eval", "--docs", str(seed_settings.docs), "--index", str(seed_settings.index), "--questions",
            str(questions), "--modes", "bm25", "--no-answers", "--json"]
    out = CliRunner().invoke(main, [*args, "--split", "train"])
    assert out.exit_code == 0, out.output
    result = json.loads(out.output)
    assert result["split"] == "train" and {r["id"] for r in result["rows"]} == {i for i, *_ in EASY
                                                                                 if split_of(i) == "train"}
    assert CliRunner().invoke(main, [*args, "--split", "test"]).exit_code == 2     # not a choice


def test_answer_run_scores_short_answers_and_evidence_quotes(seed_settings, tmp_path):
    questions = [
        {"id": "span", "question": "Which flightless bird is endemic to New Zealand?", "answers": ["kiwi"],
         "gold_doc_ids": ["kiwi"], "answerable": True},
        {"id": "long", "question": "What kind of bird is the kiwi?", "answers": ["A flightless bird of New Zealand."],
         "gold_doc_ids": ["kiwi"], "answerable": True, "answer_style": "long-form",
         "evidence_sentences": ["the Kiwi is a flightless  bird endemic to New Zealand."]},
        {"id": "none", "question": "How tall is the tallest fjord cliff in Norway?", "answers": [],
         "gold_doc_ids": [], "answerable": False}]
    data = tiny_dataset(tmp_path / "tiny", questions)
    result = run_eval(seed_settings, dataset=data, modes=["hybrid"], progress=False, cache=tmp_path / "cache")
    rows = {r["id"]: r for r in result["rows"]}
    span, long, none = rows["span"], rows["long"], rows["none"]
    assert isinstance(span["short_em"], bool) and 0 <= span["short_f1"] <= 1 and "evidence_quoted" not in span
    if not span["refused"]:          # scored on the short answer when there is one, else on the whole text
        assert span["short_f1"] > 0
    # the kiwi document is that one evidence sentence: citing it quotes the evidence
    assert long["evidence_quoted"] is (not long["refused"] and "kiwi" in long["citations"])
    assert long["pass"] is (long["gold_rank"] is not None and long["evidence_quoted"])
    assert "short_em" not in long and "short_em" not in none and "evidence_quoted" not in none
    values = result["modes"]["hybrid"]
    assert values["short_em"] == float(span["short_em"]) and values["evidence_quoted"] == float(long["evidence_quoted"])
    assert values["answered"] == (2 - span["refused"] - long["refused"]) / 2
    assert "refusal_f1" in values and {"short_em", "evidence_quoted", "refusal_f1", "answered"} <= set(METRICS)
    write_report(result, tmp_path / "out")
    md = (tmp_path / "out" / "report.md").read_text()
    assert "**evidence_quoted**" in md and "**short_em, short_f1**" in md


def _maker():
    import importlib.util
    spec = importlib.util.spec_from_file_location("make_unanswerable", ROOT / "eval" / "make_unanswerable.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _rebuilt(source: str, made: str):
    """The maker, the source set's corpus and questions, and the made set's, checked to be the script's output."""
    mk = _maker()
    src, out = DATASETS / source, DATASETS / made
    corpus, questions = mk.read_jsonl(src / "corpus.jsonl"), mk.read_jsonl(src / "questions.jsonl")
    kept, rows = mk.read_jsonl(out / "corpus.jsonl"), mk.read_jsonl(out / "questions.jsonl")
    assert mk.make(corpus, questions)[:2] == (kept, rows)          # the committed files are the script's output
    return mk, corpus, questions, kept, rows


def test_xquad_unanswerable_invariants_and_it_is_rebuilt_exactly():
    mk, corpus, questions, kept, rows = _rebuilt("xquad-en", "xquad-unanswerable")
    assert kept == [d for d in corpus if not mk.left_out(d["id"])] and 0.25 < 1 - len(kept) / len(corpus) < 0.42
    kept_ids = {d["id"] for d in kept}
    original = {q["id"]: q for q in questions}
    kept_texts = [f" {normalize_answer(d['text'])} " for d in kept]
    unanswerable = [q for q in rows if not q["answerable"]]
    assert len(unanswerable) > 200 and len(rows) - len(unanswerable) > 600
    for q in unanswerable:
        assert q["answers"] == q["gold_doc_ids"] == [] and q["removed_doc_ids"] == original[q["id"]]["gold_doc_ids"]
        assert not kept_ids & set(q["removed_doc_ids"])           # its paragraph is not in the corpus
        for answer in original[q["id"]]["answers"]:              # and its answer is in no kept paragraph
            assert not any(f" {normalize_answer(answer)} " in t for t in kept_texts), (q["id"], answer)
    for q in rows:
        if q["answerable"]:
            assert q == original[q["id"]] and set(q["gold_doc_ids"]) <= kept_ids
    assert len({q["id"] for q in rows}) == len(rows)


def test_hotpotqa_unanswerable_is_rebuilt_exactly_and_its_unanswerable_questions_lost_their_answer():
    mk, corpus, questions, kept, rows = _rebuilt("hotpotqa-dev500", "hotpotqa-unanswerable")
    kept_ids = {d["id"] for d in kept}
    kept_texts = [f" {normalize_answer(d['text'])} " for d in kept]
    original = {q["id"]: q for q in questions}
    unanswerable = [q for q in rows if not q["answerable"]]
    assert len(unanswerable) > 40
    for q in unanswerable:
        was = original[q["id"]]
        assert q["removed_doc_ids"] and set(q["removed_doc_ids"]) <= set(was["gold_doc_ids"])
        assert not kept_ids & set(q["removed_doc_ids"])
        assert normalize_answer(was["answers"][0]) not in ("yes", "no")    # yes/no questions that lost one: dropped
        for answer in was["answers"]:
            assert not any(f" {normalize_answer(answer)} " in t for t in kept_texts), (q["id"], answer)
    assert all(q == original[q["id"]] and set(q["gold_doc_ids"]) <= kept_ids for q in rows if q["answerable"])


def test_make_unanswerable_drops_a_question_whose_answer_a_kept_paragraph_still_holds():
    mk = _maker()
    ids = [f"p{i}" for i in range(30)]
    gone, stays = next(i for i in ids if mk.left_out(i)), next(i for i in ids if not mk.left_out(i))
    corpus = [{"id": gone, "title": "T", "text": "The bridge opened in 1932 and cost 9 million."},
              {"id": stays, "title": "T", "text": "Its designer was Bradfield; it cost 9 million."}]
    q = [{"id": "a", "question": "When did it open?", "answers": ["1932"], "gold_doc_ids": [gone], "answerable": True},
         {"id": "b", "question": "What did it cost?", "answers": ["9 million"], "gold_doc_ids": [gone],
          "answerable": True},
         {"id": "c", "question": "Who designed it?", "answers": ["Bradfield"], "gold_doc_ids": [stays],
          "answerable": True}]
    kept, rows, dropped = mk.make(corpus, q)
    assert kept == [corpus[1]] and dropped == 1
    assert rows == [{"id": "a", "question": "When did it open?", "answers": [], "gold_doc_ids": [],
                     "answerable": False, "removed_doc_ids": [gone]}, q[2]]


def test_a_question_read_otherwise_says_so_in_its_row_and_in_the_failure_list(seed_settings, tmp_path):
    data = tiny_dataset(tmp_path / "typo", [      # a wrong gold answer, so that it is listed as a failure
        {"id": "q1", "question": "Which bird cannot fly in New Zeland?", "answers": ["emu"],
         "gold_doc_ids": ["kiwi"], "answerable": True}])
    result = run_eval(seed_settings, dataset=data, modes=["hybrid"], progress=False, cache=tmp_path / "cache")
    assert result["rows"][0]["searched_for"] == "Which bird cannot fly in New Zealand?"
    write_report(result, tmp_path / "out")
    assert "(searched as: Which bird cannot fly in New Zealand?)" in (tmp_path / "out" / "report.md").read_text()
