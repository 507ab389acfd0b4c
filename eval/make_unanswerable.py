"""Make `eval/datasets/xquad-unanswerable/` from the xquad-en copy: XQuAD questions asked with their own paragraph
left out of the index, so that the article's other paragraphs are on topic but (mostly) do not answer them.

    python eval/make_unanswerable.py          # rewrites eval/datasets/xquad-unanswerable/ (deterministic)

Rules, all deterministic (no randomness, no model):
1. A paragraph is left out when sha256 of its id, first 8 hex digits as an integer, is divisible by 3 (about a
   third of the 240 paragraphs). The corpus is the xquad-en corpus without them, unchanged and in order.
2. A question whose gold paragraph was left out becomes unanswerable: `answerable: false`, `answers: []`,
   `gold_doc_ids: []`, and `removed_doc_ids` = its original paragraph id. But when its gold answer still occurs
   in a kept paragraph (SQuAD-normalised, `rag.metrics.normalize_answer`, on word boundaries) the documents may
   well still answer it, so that question is dropped instead.
3. Questions on kept paragraphs stay as they are (answerable). Question ids are the SQuAD ids, so
   `rag.metrics.split_of` puts each question in the same half as in xquad-en.
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

SRC = ROOT / "eval" / "datasets" / "xquad-en"
OUT = ROOT / "eval" / "datasets" / "xquad-unanswerable"


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
        golds = [normalize_answer(a) for a in q["answers"] if normalize_answer(a)]
        if any(f" {g} " in text for g in golds for text in kept_texts):
            dropped += 1
            continue
        out.append({"id": q["id"], "question": q["question"], "answers": [], "gold_doc_ids": [],
                    "answerable": False, "removed_doc_ids": removed})
    return kept, out, dropped


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def source_md(corpus: list[dict], kept: list[dict], questions: list[dict], out: list[dict], dropped: int) -> str:
    counts = Counter((split_of(q["id"]), q["answerable"]) for q in out)
    n_unans = sum(1 for q in out if not q["answerable"])
    articles = Counter(d["title"] for d in corpus)
    emptied = sorted(t for t in articles if not any(d["title"] == t for d in kept))
    split_lines = "\n".join(f"  - {s}: {counts[(s, True)]} answerable, {counts[(s, False)]} unanswerable"
                            for s in ("train", "heldout"))
    return f"""# xquad-unanswerable — XQuAD questions asked without their own paragraph

- Origin: made by `eval/make_unanswerable.py` from this repo's copy of xquad-en (`eval/datasets/xquad-en/`,
  itself XQuAD's English part = 1,190 SQuAD v1.1 dev questions on 240 paragraphs of 48 Wikipedia articles).
  Rerun the script to rebuild this folder; it is deterministic.
- License: **CC BY-SA 4.0**, as XQuAD and SQuAD (credit the source and share alike if redistributed).
- How: a paragraph is left out of the corpus when sha256(paragraph id)[:8] as an integer is divisible by 3.
  A question whose gold paragraph was left out becomes unanswerable (`answerable: false`, `answers: []`,
  `gold_doc_ids: []`, `removed_doc_ids` = the left-out paragraph), unless its gold answer still occurs
  (SQuAD-normalised, on word boundaries) in some kept paragraph: then it is dropped, because the documents may
  still answer it. Questions on kept paragraphs are unchanged and answerable. Ids are the SQuAD ids, so
  `rag.metrics.split_of(id)` (sha256 of the id, even → train) gives the same halves as in xquad-en.

## Counts
- `corpus.jsonl`: {len(kept)} of {len(corpus)} paragraphs kept ({len(corpus) - len(kept)} left out).
  Articles with every paragraph left out: {", ".join(emptied) or "none"}.
- `questions.jsonl`: {len(out)} of {len(questions)} questions: {len(out) - n_unans} answerable, {n_unans} unanswerable;
  {dropped} dropped because their answer still occurs in a kept paragraph.
{split_lines}

## Caveats
- "Unanswerable" means the gold answer string is in no kept paragraph. A kept paragraph may still imply the
  answer in other words (a paraphrase or a different number format); such cases are rare but exist.
- The article's other paragraphs stay in the corpus, so retrieval finds on-topic text: the test is whether the
  answerer declines instead of quoting a related sentence.
"""


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=SRC, help="the xquad-en folder")
    parser.add_argument("--out", type=Path, default=OUT, help="the folder to (re)write")
    args = parser.parse_args(argv)
    corpus, questions = read_jsonl(args.src / "corpus.jsonl"), read_jsonl(args.src / "questions.jsonl")
    kept, out, dropped = make(corpus, questions)
    args.out.mkdir(parents=True, exist_ok=True)
    write_jsonl(args.out / "corpus.jsonl", kept)
    write_jsonl(args.out / "questions.jsonl", out)
    (args.out / "SOURCE.md").write_text(source_md(corpus, kept, questions, out, dropped), encoding="utf-8")
    print(f"{args.out}: {len(kept)} paragraphs, {len(out)} questions "
          f"({sum(not q['answerable'] for q in out)} unanswerable, {dropped} dropped)")


if __name__ == "__main__":
    main()
