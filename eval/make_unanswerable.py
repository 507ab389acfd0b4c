"""Make `eval/datasets/xquad-unanswerable/` from the xquad-en copy: XQuAD questions asked with their own paragraph
left out of the index, so that the article's other paragraphs are on topic but (mostly) do not answer them; and
`eval/datasets/hotpotqa-unanswerable/` from hotpotqa-dev500 the same way: a question whose answer-bearing paragraph
was left out still finds its other gold paragraph and its eight distractors, picked to look like the question.

    python eval/make_unanswerable.py                        # rewrites eval/datasets/xquad-unanswerable/
    python eval/make_unanswerable.py --source hotpotqa-dev500   # rewrites eval/datasets/hotpotqa-unanswerable/

Rules, all deterministic (no randomness, no model):
1. A paragraph is left out when sha256 of its id, first 8 hex digits as an integer, is divisible by 3 (about a
   third of the 240 paragraphs). The corpus is the xquad-en corpus without them, unchanged and in order.
2. A question whose gold paragraph was left out becomes unanswerable: `answerable: false`, `answers: []`,
   `gold_doc_ids: []`, and `removed_doc_ids` = its original paragraph id. But when its gold answer still occurs
   in a kept paragraph (SQuAD-normalised, `rag.metrics.normalize_answer`, on word boundaries) the documents may
   well still answer it, so that question is dropped instead.
3. Questions on kept paragraphs stay as they are (answerable). Question ids are the source's ids, so
   `rag.metrics.split_of` puts each question in the same half as in its source set.
4. A yes/no question (HotpotQA's comparisons) that lost a paragraph is dropped: no sentence holds "yes", so
   "does the answer still occur" cannot be checked for it.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from rag.metrics import normalize_answer, split_of  # noqa: E402

DATASETS = ROOT / "eval" / "datasets"
OUT_OF = {"xquad-en": "xquad-unanswerable", "hotpotqa-dev500": "hotpotqa-unanswerable"}


def left_out(doc_id: str) -> bool:
    """Rule 1: the paragraph is left out of the corpus (about one in three)."""
    return int(hashlib.sha256(doc_id.encode("utf-8")).hexdigest()[:8], 16) % 3 == 0


def make(corpus: list[dict], questions: list[dict]) -> tuple[list[dict], list[dict], int]:
    """(kept corpus, question rows, number of questions dropped by rule 2) from the xquad-en rows."""
    kept = [d for d in corpus if not left_out(d["id"])]
    kept_texts = [f" {normalize_answer(d['text'])} " for d in kept]
    out, dropped = [], 0
    for q in questions:
        removed = [g for g in q["gold_doc_ids"] if left_out(g)]
        if not removed:
            out.append(q)
            continue
        if {normalize_answer(a) for a in q["answers"]} & {"yes", "no"}:
            dropped += 1                     # rule 4
            continue
        golds = [normalize_answer(a) for a in q["answers"] if normalize_answer(a)]
        if any(f" {g} " in text for g in golds for text in kept_texts):
            dropped += 1
            continue
        out.append({"id": q["id"], "question": q["question"], "answers": [], "gold_doc_ids": [],
                    "answerable": False, "removed_doc_ids": removed,
                    **({"distractor_doc_ids": q["distractor_doc_ids"]} if "distractor_doc_ids" in q else {})})
    return kept, out, dropped


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


ABOUT = {
    "xquad-en": dict(
        title="xquad-unanswerable — XQuAD questions asked without their own paragraph",
        origin="XQuAD's English part = 1,190 SQuAD v1.1 dev questions on 240 paragraphs of 48 Wikipedia articles",
        license="**CC BY-SA 4.0**, as XQuAD and SQuAD (credit the source and share alike if redistributed)",
        ids="the SQuAD ids",
        context="The article's other paragraphs stay in the corpus, so retrieval finds on-topic text"),
    "hotpotqa-dev500": dict(
        title="hotpotqa-unanswerable — HotpotQA questions asked without a paragraph that answers them",
        origin="500 HotpotQA dev (distractor setting) questions over 4,858 Wikipedia lead paragraphs",
        license="**CC BY-SA 4.0**, as HotpotQA (credit the source and share alike if redistributed)",
        ids="the HotpotQA ids",
        context="A question keeps its other gold paragraph (when that was kept) and its eight TF-IDF distractors, "
                "picked to look like the question, so retrieval finds on-topic text"),
}


def source_md(source: str, corpus: list[dict], kept: list[dict], questions: list[dict], out: list[dict],
              dropped: int) -> str:
    about = ABOUT[source]
    counts = Counter((split_of(q["id"]), q["answerable"]) for q in out)
    n_unans = sum(1 for q in out if not q["answerable"])
    split_lines = "\n".join(f"  - {s}: {counts[(s, True)]} answerable, {counts[(s, False)]} unanswerable"
                            for s in ("train", "heldout"))
    return f"""# {about["title"]}

- Origin: made by `eval/make_unanswerable.py --source {source}` from this repo's copy of {source}
  (`eval/datasets/{source}/`, itself {about["origin"]}; see its SOURCE.md).
  Rerun the script to rebuild this folder; it is deterministic.
- License: {about["license"]}.
- How: a paragraph is left out of the corpus when sha256(its id)[:8] as an integer is divisible by 3.
  A question that lost a gold paragraph becomes unanswerable (`answerable: false`, `answers: []`,
  `gold_doc_ids: []`, `removed_doc_ids` = what was left out), unless its gold answer still occurs
  (SQuAD-normalised, on word boundaries) in some kept paragraph: then it is dropped, because the documents may
  still answer it; so is a yes/no question that lost one. Other questions are unchanged and answerable. Ids are
  {about["ids"]}, so `rag.metrics.split_of(id)` (sha256 of the id, even → train) gives the same halves as in {source}.

## Counts
- `corpus.jsonl`: {len(kept)} of {len(corpus)} paragraphs kept ({len(corpus) - len(kept)} left out).
- `questions.jsonl`: {len(out)} of {len(questions)} questions: {len(out) - n_unans} answerable, {n_unans} unanswerable;
  {dropped} dropped (answer still in a kept paragraph, or yes/no).
{split_lines}

## Caveats
- "Unanswerable" means the gold answer string is in no kept paragraph. A kept one may still imply the
  answer in other words (a paraphrase or a different number format); such cases are rare but exist.
- {about["context"]}: the test is whether the answerer declines instead of quoting a related sentence.
"""


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", choices=sorted(OUT_OF), default="xquad-en",
                        help="the set to make unanswerable questions from (eval/datasets/<source>)")
    parser.add_argument("--out", type=Path, help="the folder to (re)write [eval/datasets/xquad-unanswerable or "
                                                 "hotpotqa-unanswerable]")
    args = parser.parse_args(argv)
    src, out_dir = DATASETS / args.source, args.out or DATASETS / OUT_OF[args.source]
    corpus, questions = read_jsonl(src / "corpus.jsonl"), read_jsonl(src / "questions.jsonl")
    kept, out, dropped = make(corpus, questions)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_jsonl(out_dir / "corpus.jsonl", kept)
    write_jsonl(out_dir / "questions.jsonl", out)
    (out_dir / "SOURCE.md").write_text(source_md(args.source, corpus, kept, questions, out, dropped), encoding="utf-8")
    print(f"{out_dir}: {len(kept)} paragraphs, {len(out)} questions "
          f"({sum(not q['answerable'] for q in out)} unanswerable, {dropped} dropped)")


if __name__ == "__main__":
    main()
