"""The `rag` command line: index, search, ask, chat, eval. Every option falls back to a RAG_* variable.

Errors the user can fix end as one line (`Error: …`) and exit code 1; `--json` prints one JSON document.
"""
from __future__ import annotations

import json
import sys

import click

from .config import ANSWERERS, MODES, STORES, Settings
from .errors import RagError

_common = [
    click.option("--docs", type=click.Path(path_type=str), default=None,
                 help="Documents folder or corpus.jsonl [env RAG_DOCS; default seeds/]"),
    click.option("--index", "index", type=click.Path(path_type=str), default=None,
                 help="Index folder [env RAG_INDEX; default index/]"),
    click.option("--store", type=click.Choice(STORES), default=None,
                 help="Where the index lives: faiss (the index folder) or milvus (see --milvus-uri) "
                      "[env RAG_STORE; default faiss]"),
    click.option("--milvus-uri", default=None,
                 help="Milvus server (http://host:19530) or Milvus Lite file (*.db) for --store milvus "
                      "[env RAG_MILVUS_URI; default <index>/milvus.db]; a token goes in RAG_MILVUS_TOKEN"),
]


def common(f):
    for opt in reversed(_common):
        f = opt(f)
    return f


def _settings(**kw) -> Settings:
    """The settings, every value checked: a bad RAG_* variable or flag is one line naming it and what it accepts."""
    try:
        return Settings.from_env(**kw)
    except (ValueError, RagError) as e:
        raise click.ClickException(str(e)) from None


def _run(fn):
    """Turn RagError (and a missing-file OSError) into one clean line."""
    try:
        return fn()
    except RagError as e:
        raise click.ClickException(str(e)) from None


def _question(ctx, param, value: str) -> str:
    """QUESTION with its spaces trimmed; an empty one is a usage error, not a search for nothing."""
    if not value.strip():
        raise click.BadParameter('is empty: write the question in quotes, e.g. "Who chaired the meeting?"')
    return value.strip()


def _emit(obj) -> None:
    click.echo(json.dumps(obj, indent=2, ensure_ascii=False))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rag-cite")
def main():
    """Offline document Q&A with checked [n] citations.

    \b
    rag index               build or update the index of a docs folder (only changes are embedded)
    rag search "question"   show the passages retrieval finds
    rag ask "question"      a short answer whose claims cite the passages
    rag chat                the chat app in the browser (http://127.0.0.1:7860)
    rag eval                retrieval and answer quality on a question set
    """


@main.command()
@common
@click.option("--follow-links", is_flag=True, default=None,
              help="Also read symlinks that lead outside the documents folder [env RAG_FOLLOW_LINKS; off].")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON document.")
def index(docs, index, store, milvus_uri, follow_links, as_json):
    """Build or update the index from the documents folder.

    Unchanged documents keep their vectors; changed ones are re-embedded; deleted ones leave the index.
    A new build is swapped in atomically, so an interrupted run leaves the previous index usable.
    Files that cannot be read, symlinks leading outside the folder and documents over RAG_MAX_FILE_MB
    (default 20) are skipped, one `warning:` line each. The index folder must be new, empty or an index.
    """
    from .indexer import build_index

    s = _settings(docs=docs, index=index, store=store, milvus_uri=milvus_uri, follow_links=follow_links or None)
    summary = _run(lambda: build_index(s, progress=not as_json and sys.stderr.isatty()))
    if as_json:
        _emit(summary)
        return
    if summary.get("full_rebuild"):
        click.echo(summary["full_rebuild"])
    click.echo(f"{summary['documents']} documents in {summary['index']}: {summary['added']} added, "
               f"{summary['changed']} changed, {summary['removed']} removed, {summary['unchanged']} unchanged, "
               f"{summary['skipped']} skipped; {summary['chunks_embedded']} chunks embedded, "
               f"{summary['chunks_total']} in total ({summary['seconds']} s)")


def _retrieval_options(f):
    f = click.option("-k", "--top-k", type=int, default=None, help="Passages to retrieve [env RAG_TOP_K; 5]")(f)
    f = click.option("--mode", type=click.Choice(MODES), default=None,
                     help="Retrieval: dense vectors, BM25 keywords, or both fused [env RAG_MODE; hybrid]")(f)
    f = click.option("--doc", "doc_ids", multiple=True, help="Only search this document id (repeatable).")(f)
    f = click.option("--since", default=None, help="Only documents dated on/after YYYY-MM-DD.")(f)
    f = click.option("--until", default=None, help="Only documents dated on/before YYYY-MM-DD.")(f)
    return f


@main.command()
@click.argument("question", callback=_question)
@common
@_retrieval_options
@click.option("--json", "as_json", is_flag=True, help="Print the hits as one JSON document.")
def search(question, docs, index, store, milvus_uri, top_k, mode, doc_ids, since, until, as_json):
    """Show the passages that best match QUESTION, ranked."""
    from .present import hit_to_json
    from .retrieve import open_retriever
    from .storage import Filter

    s = _settings(docs=docs, index=index, store=store, milvus_uri=milvus_uri, top_k=top_k, mode=mode)
    where = Filter.of(doc_ids, since, until)
    found = _run(lambda: open_retriever(s).retrieve(question, s.top_k, s.mode, where, with_docs=False))
    rows = [hit_to_json(h) for h in found.hits]
    if as_json:
        _emit({"question": question, "searched_for": found.question, "mode": s.mode, "hits": rows})
        return
    if found.question != question:     # a misspelt word was read as the documents' word
        click.echo(f"(searched for: {found.question})")
    if not rows:
        click.echo("No passage matches.")
    for r in rows:
        also = f"  (also in {', '.join(r['also_in'])})" if r["also_in"] else ""
        click.echo(click.style(f"[{r['rank']}] cos {r['cosine']:.3f}  {r['title']}", bold=True)
                   + f"  — {r['doc_id']} {r['date'] or ''} chars {r['start']}–{r['end']}{also}")
        click.echo("    " + " ".join(r["text"].split())[:400] + "\n")


@main.command()
@click.argument("question", callback=_question)
@common
@_retrieval_options
@click.option("--answerer", type=click.Choice(ANSWERERS), default=None,
              help="extractive (offline quotes), openai (any OpenAI-compatible server: RAG_LLM_BASE_URL, "
                   "RAG_LLM_MODEL, RAG_LLM_API_KEY) or local (GGUF in RAG_LLM_GGUF) [env RAG_ANSWERER]")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as one JSON document.")
def ask(question, docs, index, store, milvus_uri, top_k, mode, doc_ids, since, until, answerer, as_json):
    """Answer QUESTION from the documents, citing the passages [n]; declines when they don't say."""
    from .answer import ask as do_ask
    from .present import answer_to_json, format_answer
    from .retrieve import open_retriever
    from .storage import Filter

    s = _settings(docs=docs, index=index, store=store, milvus_uri=milvus_uri, top_k=top_k, mode=mode, answerer=answerer)
    where = Filter.of(doc_ids, since, until)
    answer = _run(lambda: do_ask(open_retriever(s), question, s, (), where))
    if as_json:
        _emit(answer_to_json(answer))
    else:
        click.echo(format_answer(answer))


@main.command()
@common
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (0.0.0.0 exposes it).")
@click.option("--port", default=7860, show_default=True, type=int)
@click.option("--share", is_flag=True, help="Ask Gradio for a public share link (needs internet).")
def chat(docs, index, store, milvus_uri, host, port, share):
    """Open the chat app in the browser (builds the index first if there is none)."""
    from ui.app import launch

    s = _settings(docs=docs, index=index, store=store, milvus_uri=milvus_uri)
    _run(lambda: launch(s, host=host, port=port, share=share))


@main.command("eval")
@common
@click.option("--dataset", type=click.Path(exists=True, file_okay=False, path_type=str), default=None,
              help="A corpus folder with corpus.jsonl + questions.jsonl (e.g. eval/datasets/xquad-en); its own "
                   "index is built once and cached in eval/.cache/.")
@click.option("--questions", type=click.Path(exists=True, dir_okay=False, path_type=str), default=None,
              help="A questions.jsonl to evaluate instead [default eval/questions.jsonl over the seeds].")
@click.option("--modes", default="dense,bm25,hybrid", show_default=True,
              help="Retrieval modes to compare, comma-separated.")
@click.option("-k", "k", type=int, default=5, show_default=True, help="Passages retrieved per question.")
@click.option("--answerer", type=click.Choice(ANSWERERS), default=None,
              help="Answerer whose answers are scored [env RAG_ANSWERER; extractive].")
@click.option("--no-answers", is_flag=True, help="Score retrieval only (much faster on big sets).")
@click.option("--split", type=click.Choice(["all", "train", "heldout"]), default="all", show_default=True,
              help="Only the train or heldout half of the questions (sha256 of the id; see rag.metrics.split_of).")
@click.option("--limit", type=int, default=None,
              help="Evaluate only N questions of the split: a fixed sample spread over the file, answerable and "
                   "unanswerable in proportion.")
@click.option("--min", "floors", multiple=True, metavar="METRIC=VALUE",
              help="Fail (exit 1) when METRIC falls below VALUE in any mode, e.g. --min hit@5=0.9 (repeatable).")
@click.option("--out", type=click.Path(file_okay=False, path_type=str), default=None,
              help="Write results.json, report.md and chart.png into this folder.")
@click.option("--json", "as_json", is_flag=True, help="Print the full result as one JSON document.")
def eval_(docs, index, store, milvus_uri, dataset, questions, modes, k, answerer, no_answers, split, limit, floors, out, as_json):
    """Score retrieval (hit@k, MRR, all-gold@k), answers (containment, F1), citations and refusals.

    \b
    rag eval                                  the seed questions in eval/questions.jsonl
    rag eval --dataset eval/datasets/xquad-en --modes dense,bm25,hybrid --out /tmp/x
    rag eval --dataset eval/datasets/clapnq-dev-a --split heldout --limit 60 --modes hybrid
    rag eval --min hit@5=0.9 --min answer_contains=0.6     gate: exit 1 on a regression
    """
    from pathlib import Path

    from .evaluate import check_floors, parse_floors, render_table, run_eval, write_report

    s = _settings(docs=docs, index=index, store=store, milvus_uri=milvus_uri, answerer=answerer)

    def go():
        gates = parse_floors(floors)
        result = run_eval(s, Path(dataset) if dataset else None, Path(questions) if questions else None,
                          [m.strip() for m in modes.split(",") if m.strip()], k=k,
                          progress=not as_json and sys.stderr.isatty(), answers=not no_answers, limit=limit,
                          split=split)
        return result, gates

    result, gates = _run(go)
    if out:
        paths = write_report(result, Path(out))
        if not as_json:
            click.echo(f"wrote {', '.join(str(p) for p in paths.values())}")
    if as_json:
        _emit(result)
    else:
        click.echo(render_table(result))
    problems = check_floors(result, gates) if gates else []
    if problems:
        raise click.ClickException("quality below the floor: " + "; ".join(problems))


if __name__ == "__main__":
    main()
