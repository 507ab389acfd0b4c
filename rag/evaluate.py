"""Evaluation: run a question set through retrieval (and answering) in each mode, aggregate, report, gate.

    result = run_eval(settings, dataset=Path("eval/datasets/xquad-en"), modes=["dense", "bm25", "hybrid"])
    print(render_table(result)); write_report(result, Path("eval/out")); check_floors(result, {"hit@5": 0.9})

A dataset folder holds `corpus.jsonl` and `questions.jsonl`; its index is built once into
`eval/.cache/<name>-<hash>/` and reused (the build is incremental). Without a dataset, `eval/questions.jsonl`
runs against `settings.index`. Metric definitions live in `rag.metrics`; `METRICS` lists what is reported.
"""
from __future__ import annotations

import json
import re
import time
from dataclasses import replace
from pathlib import Path

from . import metrics as M
from .config import MODES, Settings
from .errors import RagError
from .types import sha256

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_QUESTIONS = ROOT / "eval" / "questions.jsonl"
CACHE = ROOT / "eval" / ".cache"
DOC_DEPTH = 3      # chunks searched per document wanted in the ranking (a long document has several chunks)
RETRIEVAL = ("hit@1", "hit@3", "hit@5", "mrr", "all_gold@5")
ANSWERING = ("answer_contains", "answer_f1", "answered", "evidence_quoted", "short_em", "short_f1",
             "citation_precision", "citation_recall", "refusal_precision", "refusal_recall", "refusal_f1",
             "unsupported_rate")
TIMING = ("seconds_median", "seconds_p95")
METRICS = RETRIEVAL + ANSWERING + TIMING
LOWER_IS_BETTER = set(TIMING)           # for these a gate value is a ceiling, not a floor
CHART = ("hit@1", "hit@5", "mrr", "answer_contains", "answer_f1", "evidence_quoted", "short_f1",
         "citation_precision", "citation_recall", "refusal_recall", "refusal_f1")


def load_questions(path: Path) -> list[dict]:
    """Question rows {id, question, answers, gold_doc_ids, answerable, type?}; a bad line is a RagError."""
    path = Path(path)
    if not path.is_file():
        raise RagError(f"questions file {path} does not exist; pass --questions FILE or --dataset DIR")
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            row["id"], row["question"] = str(row["id"]), str(row["question"])
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise RagError(f"{path}:{n}: not a question row ({e}); need JSON with id and question") from None
        row.setdefault("answers", [])
        row.setdefault("gold_doc_ids", [])
        row.setdefault("answerable", bool(row["gold_doc_ids"] or row["answers"]))
        rows.append(row)
    return rows


SPLIT_CHOICES = ("all", *M.SPLITS)


def select(rows: list[dict], split: str = "all", limit: int | None = None) -> list[dict]:
    """The questions to evaluate: first the `split` half (`rag.metrics.split_of` of the id; "all" keeps every
    row), then at most `limit` of them, a fixed sample: the answerable and the unanswerable rows are each
    `M.spread` over the file, in proportion to their counts (rounded, but at least one of each when both exist
    and limit >= 2), and the chosen rows keep their file order. The same file, split and limit always give
    the same questions, so a gate (`--split heldout --limit N --min ...`) compares like with like.

    >>> rows = [{"id": str(i), "answerable": i % 4 != 0} for i in range(40)]
    >>> [r["id"] for r in select(rows, limit=4)]
    ['0', '1', '14', '27']
    """
    if split not in SPLIT_CHOICES:
        raise RagError(f"unknown split {split!r}; use one of {', '.join(SPLIT_CHOICES)}")
    rows = [r for r in rows if split == "all" or M.split_of(r["id"]) == split]
    if not limit or limit >= len(rows):
        return rows
    groups = [[i for i, r in enumerate(rows) if r["answerable"]],
              [i for i, r in enumerate(rows) if not r["answerable"]]]
    n_unanswerable = round(limit * len(groups[1]) / len(rows))
    if groups[0] and groups[1] and limit >= 2:
        n_unanswerable = min(max(n_unanswerable, 1), limit - 1)
    chosen = M.spread(groups[0], limit - n_unanswerable) + M.spread(groups[1], n_unanswerable)
    return [rows[i] for i in sorted(chosen)]


def prepare(settings: Settings, dataset: Path | None, questions: Path | None,
            progress: bool = True, cache: Path = CACHE) -> tuple[Settings, Path, str]:
    """Settings pointing at the index to evaluate (built if needed), the questions file and a dataset name."""
    from .indexer import build_index
    from .storage import index_exists
    if dataset is not None:
        dataset = Path(dataset)
        corpus = dataset / "corpus.jsonl"
        if not corpus.is_file():
            raise RagError(f"{corpus} does not exist; a --dataset folder needs corpus.jsonl and questions.jsonl")
        key = sha256(f"{corpus.resolve()}\x00{settings.model}\x00{settings.embed_backend}\x00{settings.chunking()}")[:10]
        store = "" if settings.store == "faiss" else f"-{settings.store}"    # the FAISS caches keep their names
        settings = replace(settings, docs=corpus, index=Path(cache) / f"{dataset.resolve().name}-{key}{store}",
                           milvus_prefix=re.sub(r"\W", "_", f"rag_{dataset.resolve().name}")[:29] + f"_{key}")
        build_index(settings, progress=progress)       # incremental: a no-op when the corpus is unchanged
        return settings, Path(questions or dataset / "questions.jsonl"), dataset.resolve().name
    if not index_exists(settings):
        build_index(settings, progress=progress)
    return settings, Path(questions or DEFAULT_QUESTIONS), "seeds" if questions is None else Path(questions).stem


def evaluate_one(retriever, row: dict, settings: Settings, mode: str, k: int, answers: bool) -> dict:
    """One question in one mode: the per-question row of the report."""
    t0 = time.perf_counter()
    # document level: the first k distinct documents, so retrieve past the chunks of documents already listed
    hits = retriever.search(row["question"], k=DOC_DEPTH * k, mode=mode)
    ranking = M.doc_ranking(h.doc_ids for h in hits)[:k]
    gold = row["gold_doc_ids"]
    rank = M.first_gold_rank(ranking, gold) if row["answerable"] else None
    out = {"mode": mode, "id": row["id"], "question": row["question"], "type": row.get("type"),
           "answerable": row["answerable"], "gold_doc_ids": gold, "gold_answers": row["answers"],
           "ranking": ranking[:k], "gold_rank": rank,
           "all_gold": M.all_gold_at_k(ranking, gold, 5) if row["answerable"] and M.needs_all(row) else None}
    ok = rank is not None if row["answerable"] else None
    if answers:
        from .answer import ask
        ans = ask(retriever, row["question"], replace(settings, mode=mode, top_k=k))
        stands_for = {h.chunk.id: h.doc_ids for h in ans.hits}
        cited = [stands_for.get(c.chunk_id, (c.doc_id,)) for c in ans.citations]
        contains, f1 = M.answer_scores(ans.text, row["answers"]) if not ans.refused else (False, 0.0)
        short = getattr(ans, "short_answer", None)
        out.update(searched_for=ans.standalone_question, answer=ans.text, refused=ans.refused,
                   unsupported=list(ans.unsupported),
                   citations=[c.doc_id for c in ans.citations], contains=contains, f1=round(f1, 4),
                   short_answer=short.text if short and not ans.refused else None,
                   citation_precision=M.citation_precision(cited, gold) if row["answerable"] else None,
                   citation_recall=M.citation_recall(cited, gold, M.needs_all(row)) if row["answerable"] else None)
        if M.has_span_answer(row):
            prediction = "" if ans.refused else (short.text if short else ans.text)
            em, sf1 = M.short_answer_scores(prediction, row["answers"])
            out.update(short_em=em, short_f1=round(sf1, 4))
        evidence = row.get("evidence_sentences") if row["answerable"] else None
        if evidence:
            out["evidence_quoted"] = not ans.refused and M.quotes_evidence((c.quote for c in ans.citations), evidence)
        # long-form gold answers are never contained verbatim: such a question passes by quoting its evidence
        ok = (ok and out.get("evidence_quoted", contains)) if row["answerable"] else ans.refused
    out["seconds"] = round(time.perf_counter() - t0, 4)
    out["pass"] = ok
    return out


def run_eval(settings: Settings, dataset: Path | None = None, questions: Path | None = None,
             modes=MODES, k: int = 5, progress: bool = True, answers: bool = True,
             limit: int | None = None, cache: Path = CACHE, split: str = "all") -> dict:
    """Evaluate every mode on one question set (its `split` half, then `limit` questions: see `select`);
    returns a JSON-serialisable result (see module docstring)."""
    from tqdm import tqdm

    from .retrieve import RETRIEVAL_MODES, open_retriever
    modes = list(modes)
    bad = [m for m in modes if m not in RETRIEVAL_MODES]
    if bad or not modes:
        raise RagError(f"unknown retrieval mode {', '.join(bad) or '(none)'}; use {','.join(RETRIEVAL_MODES)}")
    if split not in SPLIT_CHOICES:      # before building an index for nothing
        raise RagError(f"unknown split {split!r}; use one of {', '.join(SPLIT_CHOICES)}")
    settings, qpath, name = prepare(settings, dataset, questions, progress, cache)
    qs = select(load_questions(qpath), split, limit)
    if not qs:
        raise RagError(f"{qpath} has no questions" + ("" if split == "all" else f" in the {split} split"))
    rows = []
    with tqdm(total=len(qs) * len(modes), desc=f"eval {name}", unit="q", disable=not progress) as bar:
        for mode in modes:
            # one retriever per mode: the answerer searches with its retriever's own mode
            retriever = open_retriever(replace(settings, mode=mode, top_k=k))
            retriever.search("warm up", k=1, mode=mode)     # load models before the clock runs
            for row in qs:
                rows.append(evaluate_one(retriever, row, settings, mode, k, answers))
                bar.update()
    return {"dataset": name, "questions_file": str(qpath), "index": str(settings.index),
            "split": split, "limit": limit, "questions": len(qs), "answerable": sum(1 for q in qs if q["answerable"]),
            "multi": sum(1 for q in qs if q["answerable"] and M.needs_all(q)), "k": k, "answers": answers,
            "answerer": settings.answerer if answers else None,
            "modes": {m: M.summarize([r for r in rows if r["mode"] == m], answers) for m in modes},
            "rows": rows}


def _fmt(v) -> str:
    return "–" if v is None else f"{v:.3f}"


def _table_rows(result: dict) -> tuple[list[str], list[list[str]]]:
    modes = list(result["modes"])
    names = [m for m in METRICS if any(result["modes"][x].get(m) is not None for x in modes)]
    return ["metric", *modes], [[m, *(_fmt(result["modes"][x].get(m)) for x in modes)] for m in names]


def render_table(result: dict) -> str:
    """A terminal table: metrics as rows, modes as columns, under a one-line header."""
    head, body = _table_rows(result)
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]

    def line(cells):
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
    title = (f"{result['dataset']} [split {result.get('split', 'all')}]: {result['questions']} questions "
             f"({result['answerable']} answerable, "
             f"{result['multi']} multi-document), k={result['k']}"
             + (f", answerer={result['answerer']}" if result["answers"] else ", retrieval only"))
    return "\n".join([title, line(head), line(["-" * w for w in widths]), *map(line, body)])


def check_floors(result: dict, floors: dict[str, float], mode: str | None = None) -> list[str]:
    """One line per metric (and mode) that misses its gate: below a floor, or above a ceiling for timings."""
    problems = []
    for mode_name in [mode] if mode else list(result["modes"]):
        values = result["modes"].get(mode_name)
        if values is None:
            problems.append(f"mode {mode_name} was not evaluated")
            continue
        for metric, gate in floors.items():
            if metric not in METRICS:
                problems.append(f"unknown metric {metric}; use one of {', '.join(METRICS)}")
            elif values.get(metric) is None:
                problems.append(f"{mode_name}: {metric} was not measured (needs answers or multi-gold questions)")
            elif metric in LOWER_IS_BETTER and values[metric] > gate:
                problems.append(f"{mode_name}: {metric} = {values[metric]:.3f} > {gate:g}")
            elif metric not in LOWER_IS_BETTER and values[metric] < gate:
                problems.append(f"{mode_name}: {metric} = {values[metric]:.3f} < {gate:g}")
    return list(dict.fromkeys(problems))


def parse_floors(items) -> dict[str, float]:
    """["hit@5=0.9", "mrr=0.7"] -> {"hit@5": 0.9, "mrr": 0.7}, for a repeatable --min option."""
    floors = {}
    for item in items:
        metric, _, value = item.partition("=")
        try:
            floors[metric.strip()] = float(value)
        except ValueError:     # also catches a missing "=" (float(""))
            raise RagError(f"--min {item!r} is not METRIC=NUMBER, e.g. --min hit@5=0.9") from None
    return floors


def write_report(result: dict, out_dir: Path) -> dict[str, Path]:
    """Write results.json, report.md (table, metric definitions, failures) and chart.png into out_dir."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "results.json", "markdown": out / "report.md", "chart": out / "chart.png"}
    paths["json"].write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    paths["markdown"].write_text(_markdown(result), encoding="utf-8")
    _chart(result, paths["chart"])
    return paths


DEFINITIONS = {
    "hit@n": M.first_gold_rank, "all_gold@5": M.all_gold_at_k, "document ranking": M.doc_ranking,
    "answer_contains, answer_f1": M.answer_scores, "normalisation": M.normalize_answer,
    "citation_precision": M.citation_precision, "citation_recall": M.citation_recall,
    "answered, evidence_quoted, short_em, short_f1 (which questions count)": M.summarize,
    "evidence_quoted": M.quotes_evidence, "short_em, short_f1": M.short_answer_scores,
    "span answers": M.has_span_answer,
    "refusal_precision, refusal_recall, refusal_f1": M.refusal_scores,
    "seconds_median, seconds_p95": M.percentile}


def _markdown(result: dict, max_failures: int = 100) -> str:
    head, body = _table_rows(result)
    md = [f"# Evaluation: {result['dataset']}", "", render_table(result).splitlines()[0], "",
          "| " + " | ".join(head) + " |", "|" + "---|" * len(head), *("| " + " | ".join(r) + " |" for r in body),
          "", "Retrieval and answer-correctness metrics are over answerable questions only; unsupported_rate is "
          "the share of non-refused answers with a sentence no source supports.", "", "## Definitions", ""]
    for name, fn in DEFINITIONS.items():
        doc = " ".join(line.strip() for line in (fn.__doc__ or "").split(">>>")[0].splitlines() if line.strip())
        md.append(f"- **{name}**: {doc}")
    fails = [r for r in result["rows"] if r["pass"] is False]
    md += ["", f"## Failures ({len(fails)})", ""]
    for r in fails[:max_failures]:
        what = f"gold {r['gold_doc_ids'] or 'none (unanswerable)'}, top docs {r['ranking']}"
        if "answer" in r:
            what += f"; answer: {'(refused) ' if r['refused'] else ''}{r['answer'][:200]!r}"
            if r.get("short_em") is not None:
                what += f"; short answer {r.get('short_answer')!r} (F1 {r['short_f1']:.2f})"
            if r.get("evidence_quoted") is not None:
                what += f"; evidence {'quoted' if r['evidence_quoted'] else 'not quoted'}"
        asked = r["question"]
        if r.get("searched_for") and r["searched_for"] != asked:      # a follow-up rewritten, or a typo read
            asked += f" (searched as: {r['searched_for']})"
        md.append(f"- `{r['mode']}` `{r['id']}` {asked} — expected {r['gold_answers'] or 'a refusal'}; {what}")
    return "\n".join(md) + "\n"


def _chart(result: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    modes = list(result["modes"])
    names = [m for m in CHART if any(result["modes"][x].get(m) is not None for x in modes)]
    fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(names)), 4))
    width = 0.8 / max(len(modes), 1)
    for i, mode in enumerate(modes):
        vals = [result["modes"][mode].get(n) or 0.0 for n in names]
        ax.bar([x + i * width for x in range(len(names))], vals, width, label=mode)
    ax.set_xticks([x + width * (len(modes) - 1) / 2 for x in range(len(names))], names, rotation=30, ha="right")
    ax.set_ylim(0, 1)
    ax.set_title(f"{result['dataset']} ({result.get('split', 'all')}: {result['questions']} questions, "
                 f"k={result['k']})")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
