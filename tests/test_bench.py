"""`make bench` (eval/bench.py): a tiny run of each phase on small data, checking the numbers it reports are
computed and consistent. Timings themselves are never asserted: they belong to the benchmark, not the tests."""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
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
        for m in ("search_dense", "search_bm25", "search_hybrid", "ask_extractive"):
            assert 1 <= q[name][m]["n"] <= 2
            assert q[name][m]["p50_ms"] <= q[name][m]["p95_ms"]


def test_synthetic_index_searches_like_a_built_one(bench, work):
    s = bench.phase_synthetic(work, rows=300, queries=3, flat_sizes=[300])
    for ix in ("flat", "hnsw"):
        assert s[ix]["search_hybrid"]["n"] == 3
    for ef in (64, 128, 256):
        assert 0.0 <= s[f"hnsw_recall@10_ef{ef}"] <= 1.0
    assert s["hnsw_recall@10_ef256"] >= 0.9   # 300 rows: HNSW with efSearch 256 is all but exhaustive
    assert s["flat_faiss_300"]["n"] == 3


def test_synthetic_generators_are_deterministic_and_unit_length(bench):
    assert bench.synthetic_texts(5) == bench.synthetic_texts(5)
    assert all(40 <= len(t.split()) <= 120 for t in bench.synthetic_texts(20))
    real = np.random.default_rng(1).normal(size=(10, 384)).astype(np.float32)
    v = bench.synthetic_vectors(real, 50)
    assert v.shape == (50, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)


def test_goals_and_table_from_a_result(bench):
    lat = {"p50_ms": 10.0, "p95_ms": 20.0, "n": 3}
    modes = {m: lat for m in ("search_dense", "search_bm25", "search_hybrid", "ask_extractive")}
    r = {"quick": True, "machine": {"cpus": 2, "load_start": 0.1, "load_end": 0.2}, "total_s": 1.0,
         "ingest": {"documents": 10, "chunks": 12, "model_load_s": 1.0, "build_s": 0.2, "build_cpu_s": 0.3,
                    "chunks_per_s": 60.0, "chunks_per_cpu_s": 40.0, "batch_size": 64, "peak_rss_mb": 1.0},
         "bare": {"chunks": 12, "seconds": 0.3, "cpu_s": 0.4, "chunks_per_s": 40.0, "chunks_per_cpu_s": 30.0,
                  "peak_rss_mb": 1.0},
         "incremental": {"seconds": 0.1, "chunks_embedded": 1, "full_build_s": 10.0, "share_of_full": 0.01,
                         "peak_rss_mb": 1.0},
         "query": {"seeds": {"chunks": 4, **modes}, "hotpot": {"chunks": 12, **modes},
                   "peak_rss_mb": 1.0},
         "synthetic": {"rows": 300, "vectors": "v", "built": "hnsw", "flat": modes, "hnsw": {**modes, "search_bm25": {**lat, "p50_ms": 31.0}},
                       "flat_build_s": 1, "hnsw_build_s": 1, "flat_faiss_300": lat, "peak_rss_mb": 1.0,
                       **{f"hnsw_recall@10_ef{e}": 1.0 for e in (64, 128, 256)},
                       **{f"hnsw_ms_per_query_ef{e}": 0.1 for e in (64, 128, 256)}}}
    assert [g["met"] for g in bench.goals(r)] == [True, True, True, False, True]
    assert bench.goals(r)[0]["value"] == 1.5
    r["goals"] = bench.goals(r)
    table = bench.render(r)
    assert "build_index / bare: 150% wall" in table
    assert "[ ] search p50 <= 30 ms at 300 chunks (HNSW, the index rag builds" in table
    assert "ask_extractive" in table


@pytest.mark.skipif(sys.platform != "linux", reason="VmHWM is Linux-only")
def test_peak_rss_is_reported_in_mb(bench):
    assert 10 < bench.peak_rss_mb() < 100_000
