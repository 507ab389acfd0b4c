"""`make bench` (eval/bench.py): a tiny run of each phase on small data, checking the numbers it reports are
computed and consistent. Timings themselves are never asserted: they belong to the benchmark, not the tests."""
from __future__ import annotations

import doctest
import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench", ROOT / "eval" / "bench.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def work(tmp_path_factory, bench) -> Path:
    """A work folder after the ingest phase on 12 HotpotQA documents."""
    w = tmp_path_factory.mktemp("bench")
    (w / "ingest.json").write_text(json.dumps(bench.phase_ingest(w, docs=12)))
    return w


def test_percentiles_nearest_rank(bench):
    assert bench.percentiles([5.0]) == {"p50_ms": 5.0, "p95_ms": 5.0, "n": 1}
    assert bench.percentiles(list(range(1, 101))) == {"p50_ms": 50, "p95_ms": 95, "n": 100}
    assert bench.percentiles([])["n"] == 0


def test_ingest_and_bare_encode_count_the_same_texts(bench, work):
    ing = json.loads((work / "ingest.json").read_text())
    bare = bench.phase_bare(work)
    texts = json.loads((work / "texts.json").read_text())
    assert ing["documents"] == 12
    assert ing["chunks"] == bare["chunks"] == len(texts) == len(set(texts)) > 0
    for r in (ing, bare):
        assert r["chunks_per_s"] > 0 and r["chunks_per_cpu_s"] > 0


def test_incremental_embeds_only_the_new_document(bench, work):
    inc = bench.phase_incremental(work)
    assert inc["added"] == 1 and inc["unchanged"] == 12
    assert inc["chunks_embedded"] == 1
    # both figures are rounded (seconds to 0.01 s, share to 4 places): compare within that rounding
    assert inc["share_of_full"] * inc["full_build_s"] == pytest.approx(inc["seconds"], abs=0.006 + inc["full_build_s"] * 5e-5)


def test_query_phase_times_every_mode_on_both_indexes(bench, work):
    q = bench.phase_query(work, queries=2)
    for name in ("seeds", "hotpot"):
        assert q[name]["chunks"] > 0
        for m in ("search_dense", "search_bm25", "search_hybrid", "ask_extractive", "ask_extractive_cold"):
            assert 1 <= q[name][m]["n"] <= 2
            assert q[name][m]["p50_ms"] <= q[name][m]["p95_ms"]


@pytest.mark.parametrize("backend", ["faiss", "milvus", "server"])
def test_store_phase_grows_the_index_and_adds_documents_without_embedding_the_corpus_again(bench, work, backend):
    out = bench.phase_store(work, backend, queries=2, copies=3, adds=2)
    n = json.loads((work / "ingest.json").read_text())["chunks"]
    assert out["ingest"]["chunks"] == n and out["ingest"]["model_embedded"] == 0   # the ingest phase's vectors
    assert out["grow"]["chunks"] == out["large"]["chunks"] == 3 * n and out["grow"]["model_embedded"] == 0
    assert out["grow"]["documents"] == 3 * 12
    assert out["add_one"]["model_embedded"] == [1, 1] and len(out["add_one"]["seconds"]) == 2
    for size in ("small", "large"):
        for m in ("search_dense", "search_bm25", "search_hybrid"):
            assert 1 <= out[size][m]["n"] <= 2 and out[size][m]["p50_ms"] <= out[size][m]["p95_ms"]
    if backend == "faiss":    # Milvus Lite may still be closing its files when the phase removes them
        assert not (work / backend).exists()      # its index is removed afterwards


def test_corpus_copies_get_new_ids_and_keep_their_text(bench, tmp_path):
    rows = [{"id": "a", "title": "A", "text": "alpha"}, {"id": "b", "title": "B", "text": "beta"}]
    bench.write_copies(rows, tmp_path / "c.jsonl", 3)
    got = bench.read_jsonl(tmp_path / "c.jsonl")
    assert [r["id"] for r in got] == ["a", "b", "a-c1", "b-c1", "a-c2", "b-c2"]
    assert {(r["title"], r["text"]) for r in got} == {("A", "alpha"), ("B", "beta")}


def test_goals_and_table_from_a_result(bench):
    lat = {"p50_ms": 10.0, "p95_ms": 20.0, "n": 3}
    modes = {m: lat for m in ("search_dense", "search_bm25", "search_hybrid", "ask_extractive")}

    def store(name, p50, add_s):
        size = {"chunks": 300, "open_s": 0.1, "warm_s": 0.1, **{m: lat for m in ("search_dense", "search_bm25", "search_hybrid")}}
        return {"backend": name, "ingest": {"chunks": 100, "seconds": 1.0, "chunks_per_s": 100.0, "model_embedded": 0},
                "small": {**size, "chunks": 100}, "large": {**size, "search_bm25": {**lat, "p50_ms": p50}},
                "grow": {"chunks": 300, "documents": 30, "seconds": 1.0, "chunks_per_s": 200.0, "model_embedded": 0},
                "add_one": {"seconds": [add_s], "cpu_s": [add_s], "median_s": add_s, "model_embedded": [1]},
                "peak_rss_mb": 1.0}

    r = {"quick": True, "machine": {"cpus": 2, "load_start": 0.1, "load_end": 0.2}, "total_s": 1.0,
         "ingest": {"documents": 10, "chunks": 12, "model_load_s": 1.0, "build_s": 0.2, "build_cpu_s": 0.3,
                    "chunks_per_s": 60.0, "chunks_per_cpu_s": 40.0, "batch_size": 64, "peak_rss_mb": 1.0},
         "bare": {"chunks": 12, "seconds": 0.3, "cpu_s": 0.4, "chunks_per_s": 40.0, "chunks_per_cpu_s": 30.0,
                  "peak_rss_mb": 1.0},
         "incremental": {"seconds": 0.1, "chunks_embedded": 1, "full_build_s": 10.0, "share_of_full": 0.01,
                         "peak_rss_mb": 1.0},
         "query": {"seeds": {"chunks": 4, **modes}, "hotpot": {"chunks": 12, **modes}, "peak_rss_mb": 1.0},
         "faiss": store("FAISS folder", 5.0, 0.5), "milvus": store("Milvus Lite file", 12.0, 1.5),
         "server": store("Milvus Lite server", 31.0, 0.9)}
    assert [g["met"] for g in bench.goals(r)] == [True, True, True, False, True, False, True]
    assert bench.goals(r)[0]["value"] == 1.5
    r["goals"] = bench.goals(r)
    table = bench.render(r)
    assert "build_index / bare: 150% wall" in table
    assert "[ ] search p50 <= 30 ms at 300 chunks through the Milvus Lite server (slowest mode): 31.0" in table
    assert "[ ] add one document <= 1 s at 300 chunks, Milvus Lite file (median): 1.5" in table
    assert "ask_extractive" in table and "Milvus Lite server" in table


def test_latency_summary_is_the_shared_one(bench):
    from rag import metrics

    assert bench.percentiles is metrics.percentiles and bench.spread is metrics.spread
    assert doctest.testmod(metrics).failed == 0


@pytest.mark.skipif(sys.platform != "linux", reason="VmHWM is Linux-only")
def test_peak_rss_is_reported_in_mb(bench):
    assert 10 < bench.peak_rss_mb() < 100_000
