"""Fit the answer model (`rag/models/answer.json`) on the TRAINING halves of public QA sets; report on the held-out ones.

    .venv/bin/python eval/fit.py              # features (cached in eval/.cache/fit/), fit, write, report
    .venv/bin/python eval/fit.py --cv         # decide a change: 5-fold cross-validation inside the train halves
    .venv/bin/python eval/fit.py --cv --without F   # the same without sentence feature F: judge a new feature

What is fitted, all with scikit-learn's LogisticRegression:
1. the sentence model: P(a retrieved sentence answers the question), from `rag.evidence.FEATURES`. Each training
   question is retrieved exactly as `rag ask` does (hybrid, k=5) in its own corpus, its passages are cut into
   sentences, and a sentence is labelled 1 when it holds the gold answer in a gold document (XQuAD, HotpotQA), or is
   an annotated evidence sentence (ClapNQ); every sentence of an unanswerable question (ClapNQ's, XQuAD-made) is 0;
2. the answer model: P(the question is answered by what was retrieved) from the sentence probabilities and a few
   features of the best sentences (`scorer.QUESTION_FEATURES`), each read as a broken line (`scorer.hats`: the
   regression is over a piecewise-linear basis of each feature, not the standardised feature); its sentence
   probabilities come from a sentence model of its own, fitted like the first without the features that only rank
   (RANKING_ONLY); and its refusal threshold:
   the best mean refusal F1 over the sets with unanswerable questions, among thresholds that still answer 85 % of
   every set's answerable questions (train halves; `--answered`); the same rule on the best sentence's probability
   gives the sentence threshold a further sentence must reach to join an answer;
3. the support model for LLM claims: ClapNQ's annotator-written answers (train half) sentence by sentence against
   the evidence sentence that backs them (1) and against other sentences of the same and other passages (0).
Questions are split by `rag.metrics.split_of` (a hash of the id). eval/questions.jsonl and eval/heldout.jsonl are
never read here.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag import metrics as M, scorer, text as T  # noqa: E402
from rag.config import TEXT_VERSION, Settings  # noqa: E402
from rag.evaluate import load_questions, prepare  # noqa: E402
from rag.embed import ANSWER_ENCODER, answer_encoder  # noqa: E402
from rag.evidence import FEATURES, READING, Evidence  # noqa: E402

sys.path.insert(0, str(ROOT / "eval"))
from train_answer_encoder import FOLDS as ENCODER_FOLDS, N_FOLDS, fold_of  # noqa: E402

# hotpotqa-unanswerable joined because `--cv`'s leave-one-set-out figures (train halves) said so: a kind of
# unanswerable question left out of the fit was declined better with it than without (ClapNQ refusal F1
# 0.773 -> 0.791, answering 77 % -> 83 % of its answerable ones; XQuAD-made 0.789 -> 0.837), while the 5-fold
# figures inside the sets moved by noise (mean refusal F1 over the other two 0.817 -> 0.813).
DATASETS = ("xquad-en", "xquad-unanswerable", "clapnq-dev-a", "hotpotqa-dev500", "hotpotqa-unanswerable")
CACHE = ROOT / "eval" / ".cache" / "fit"
K = 5


def label(row: dict, ev: Evidence) -> list[int]:
    """1 for each sentence that answers the row's question (see the module docstring), else 0."""
    if not row["answerable"]:
        return [0] * len(ev.sents)
    evidence = [M.normalize_answer(e) for e in row.get("evidence_sentences") or []]
    golds = [f" {M.normalize_answer(a)} " for a in row["answers"] if M.normalize_answer(a)]
    out = []
    for s in ev.sents:
        norm = M.normalize_answer(s.text)
        if evidence:
            out.append(int(any(e and (e in norm or norm in e or M.token_f1(e, norm) >= 0.7) for e in evidence)))
        else:
            in_gold = ev.hits[s.n - 1].chunk.doc_id in row["gold_doc_ids"]
            out.append(int(in_gold and any(g in f" {norm} " for g in golds)))
    return out


def usable(row: dict) -> bool:
    """Yes/no comparison questions have no sentence holding their answer; they teach nothing here."""
    return not row["answerable"] or bool(row.get("evidence_sentences")) or any(
        M.normalize_answer(a) not in ("yes", "no", "") for a in row["answers"])


def made_with(split: str) -> str:
    """What the cached features of a split depend on besides the code: which answer encoders read its questions
    (for the train halves the fold models, each question read by the one that never saw it; for the held-out halves
    the shipped one), how its sentences are read (each alone since session 18), the text version its passages were
    cut into sentences with, the table of countries' words (`rag.text.place_words`), and that a question is read as
    searched, a misspelt word as the documents' word (`rag.spelling`, since session 21)."""
    folders = [ENCODER_FOLDS / f"fold{k}" for k in range(N_FOLDS)] if split == "train" else [ANSWER_ENCODER]
    missing = [str(f.relative_to(ROOT)) for f in folders if not (f / "model.onnx").is_file()]
    if missing:
        sys.exit(f"fit.py: no answer encoder in {', '.join(missing)}; run `make encoder` first")
    places = ROOT / "rag" / "models" / "places.json"
    return json.dumps([[str(f.relative_to(ROOT)), (f / "model.onnx").stat().st_mtime_ns] for f in folders]
                      + [["read", READING], ["text_version", TEXT_VERSION], ["questions", "as searched"],
                         [str(places.relative_to(ROOT)), places.stat().st_size]])


def collect(name: str, split: str) -> dict:
    """Features and labels of every sentence retrieved for the questions of one split of one dataset (cached in
    eval/.cache/fit/ with the feature names and `made_with`; a cache made otherwise is made again)."""
    path = CACHE / f"{name}-{split}.npz"
    if path.exists():
        data = dict(np.load(path, allow_pickle=False))
        have = [str(f) for f in data.get("names", ())]
        if all(f in have for f in FEATURES) and str(data.get("made_with", "")) == made_with(split):
            data["x"] = data["x"][:, [have.index(f) for f in FEATURES]]
            return data
    _collect(name, split, path)
    return dict(np.load(path, allow_pickle=False))


def _collect(name: str, split: str, path: Path) -> None:
    from rag.retrieve import open_retriever

    settings, qpath, _ = prepare(Settings.from_env(), ROOT / "eval" / "datasets" / name, None, progress=True)
    retriever = open_retriever(replace(settings, mode="hybrid", top_k=K))
    rows = [r for r in load_questions(qpath) if M.split_of(r["id"]) == split and usable(r)]
    xs, ys, qs, ans = [], [], [], []
    t0 = time.perf_counter()
    fold = [answer_encoder(ENCODER_FOLDS / f"fold{k}") for k in range(N_FOLDS)] if split == "train" else None
    for i, row in enumerate(rows):
        found = retriever.retrieve(row["question"], k=K)
        ev = Evidence(found.question, found.hits, found.docs, retriever.embedder,     # as searched (a typo read)
                      question_vector=found.question_vector, passage_vectors=found.passage_vectors,
                      encoder=fold[fold_of(row["question"])] if fold else answer_encoder())
        if ev.sents:
            xs.append(ev.features())
            ys += label(row, ev)
            qs += [i] * len(ev.sents)
        ans.append(row["answerable"])
    print(f"  {name}/{split}: {len(rows)} questions, {len(ys)} sentences, {sum(ys)} positive "
          f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(path, x=np.concatenate(xs).astype(np.float32), names=np.asarray(FEATURES), y=np.asarray(ys, dtype=np.int8),
             q=np.asarray(qs, dtype=np.int32), answerable=np.asarray(ans, dtype=bool),
             made_with=np.asarray(made_with(split)))


def fit_logistic(x: np.ndarray, y: np.ndarray, names, c: float | None = None) -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    lr = LogisticRegression(C=C_REG if c is None else c, max_iter=2000).fit((x - scaler.mean_) / scale, y)
    return {"features": list(names), "mean": scaler.mean_.round(6).tolist(), "scale": scale.round(6).tolist(),
            "coef": lr.coef_[0].round(6).tolist(), "intercept": round(float(lr.intercept_[0]), 6)}


def fit_broken_lines(x: np.ndarray, y: np.ndarray, names, c: float | None = None) -> dict:
    """A logistic regression over each feature's piecewise-linear basis (`scorer.hats`, KNOTS knots spread evenly
    over the training range): each feature's effect is a broken line, not a straight one."""
    from sklearn.linear_model import LogisticRegression

    knots = [np.linspace(lo, hi if hi > lo else lo + 1.0, KNOTS).round(6) for lo, hi in zip(x.min(0), x.max(0))]
    lr = LogisticRegression(C=C_REG if c is None else c, max_iter=5000).fit(scorer.hats(x, knots), y)
    return {"features": list(names), "knots": [k.tolist() for k in knots],
            "coef": lr.coef_[0].round(6).tolist(), "intercept": round(float(lr.intercept_[0]), 6)}


def best_per_question(data: dict, p: np.ndarray) -> np.ndarray:
    """The best sentence probability of every question (0 for a question that retrieved no sentence)."""
    best = np.zeros(len(data["answerable"]))
    np.maximum.at(best, data["q"], p)
    return best


def refusal_f1(best: np.ndarray, answerable: np.ndarray, tau: float) -> float:
    refused = best < tau
    both = np.sum(refused & ~answerable)
    prec = both / refused.sum() if refused.sum() else 0.0
    rec = both / (~answerable).sum() if (~answerable).sum() else 0.0
    return 2 * prec * rec / (prec + rec) if prec + rec else 0.0


# A further sentence that adds question words joins the answer when it scores at least this share of the best one.
# Chosen with `rag eval --split train` (limit 150) over 0.6, 0.4 and 0.25: ClapNQ evidence quoted 0.677, 0.706, 0.706;
# XQuAD and HotpotQA unchanged.
EXTRA_RATIO = 0.4
# Inverse regularisation of the sentence and answer models, chosen by `fit.py --cv` (5 folds of the train halves; no
# held-out half read): mean refusal F1 over the sets with unanswerable questions 0.799 at C=1 -> 0.817 at C=0.1,
# answered >= 82 % on every fold (measured before hotpotqa-unanswerable joined).
C_REG = 0.1
# Sentence features the ranking reads but the answer model's sentence probabilities do not (`--cv`, train halves):
# the retrieval model's cosine beside the answer encoder's (fitted with a negative weight: what the fine-tuning adds
# over topic alone) ranks the answering sentence first more often on every set (XQuAD 0.817 -> 0.833, ClapNQ
# 0.720 -> 0.750, HotpotQA 0.339 -> 0.348, XQuAD-made 0.813 -> 0.825), but read by the answer model too it declined
# worse (XQuAD-made refusal F1 0.842 -> 0.818, mean 0.656 -> 0.651); left out there, refusals are as before.
RANKING_ONLY = ("cos_base",)
# The answer model reads each question feature as a broken line with this many knots (`fit_broken_lines`), not as
# a straight line. Decided with `fit.py --cv` and leave-one-set-out on the train halves (no held-out half read),
# against the straight-line model, among 3-5 knots and degree 1-3 splines (scikit-learn's SplineTransformer in a
# scratch script): every spline answered more XQuAD questions; 4 knots, degree 1 answered XQuAD 0.885 -> 0.893 and
# the XQuAD-made answerable 0.885 -> 0.901 at refusal F1 0.824 -> 0.843, ClapNQ refusal F1 0.823 -> 0.822; left out
# of the fit, each kind of unanswerable question was declined better: XQuAD-made F1 0.834 -> 0.853, ClapNQ 0.819 ->
# 0.828, HotpotQA-made 0.143 -> 0.267. On the seed questions (a development set) it changed nothing.
KNOTS = 4
# The share of answerable questions every training set must keep answering (issue #11 asks for 85 % at least).
# Session 12: 0.88, chosen by `fit.py --cv --answered A` on the train halves (no held-out half read) as the A with
# the highest mean answered + mean refusal F1: 0.85 0.891 + 0.646, 0.87 0.895 + 0.647, 0.88 0.901 + 0.645,
# 0.90 0.918 + 0.609, 0.92 0.941 + 0.602 (at 0.88 ClapNQ 0.822 -> 0.811, XQuAD-made 0.843 -> 0.845, HotpotQA-made
# 0.274 -> 0.280; XQuAD answered 0.893 -> 0.905).
ANSWERED = 0.88
# Sentence features left out of the fit (`--without`: how a new feature is judged against the fit without it).
WITHOUT: tuple[str, ...] = ()


def choose_threshold(train: dict, scores: dict) -> float:
    """The refusal threshold on per-question `scores` with the best mean refusal F1 over the training sets that have
    unanswerable questions, among those that still answer at least ANSWERED of the answerable questions of every
    training set."""
    grid = np.round(np.arange(0.02, 0.95, 0.01), 2)
    scored = []
    for t in grid:
        answered = min(np.mean(scores[n][d["answerable"]] >= t) for n, d in train.items())
        f1 = np.mean([refusal_f1(scores[n], d["answerable"], t) for n, d in train.items() if (~d["answerable"]).any()])
        scored.append((answered >= ANSWERED, f1, -t))
    return float(-max(scored)[2])


def question_rows(data: dict, part: dict) -> np.ndarray:
    """`scorer.QUESTION_FEATURES` of every question of a set, from its sentences scored by the sentence model."""
    p = scorer._logistic(part, data["x"][:, [FEATURES.index(f) for f in part["features"]]])
    return np.asarray([scorer.question_features(p[data["q"] == qi], data["x"][data["q"] == qi], FEATURES)
                       for qi in range(len(data["answerable"]))])


def report(sets: dict, part: dict, qpart: dict) -> dict:
    """Per dataset: share of answerable questions whose best sentence is a right one, answered, refusal P/R/F1."""
    out = {}
    for name, data in sets.items():
        p = scorer._logistic(part, data["x"][:, [FEATURES.index(f) for f in part["features"]]])
        top_right = []
        for qi in np.flatnonzero(data["answerable"]):
            idx = np.flatnonzero(data["q"] == qi)
            top_right.append(bool(len(idx)) and bool(data["y"][idx[np.argmax(p[idx])]]))
        refused = scorer._logistic(qpart, question_rows(data, qpart.get("sentences", part))) < qpart["threshold"]
        ans = data["answerable"]
        row = {"questions": int(len(ans)), "answerable_top_sentence_right": round(float(np.mean(top_right)), 3),
               "answerable_answered": round(float(np.mean(~refused[ans])), 3)}
        if (~ans).any():
            both = int(np.sum(refused & ~ans))
            prec, rec = both / max(1, refused.sum()), both / (~ans).sum()
            row.update(refusal_precision=round(float(prec), 3), refusal_recall=round(float(rec), 3),
                       refusal_f1=round(float(2 * prec * rec / (prec + rec)) if prec + rec else 0.0, 3))
        out[name] = row
    return out


def support_pairs(split: str) -> tuple[np.ndarray, np.ndarray]:
    """(claim, source sentence) pairs from ClapNQ's written answers: 1 for the evidence sentence that backs the claim
    best, 0 for other sentences of its passage and of a different passage."""
    from rag.embed import get_embedder

    folder = ROOT / "eval" / "datasets" / "clapnq-dev-a"
    corpus = {d["id"]: d for d in map(json.loads, (folder / "corpus.jsonl").read_text().splitlines())}
    rows = [r for r in load_questions(folder / "questions.jsonl") if M.split_of(r["id"]) == split and r["answerable"]]
    other_ids = sorted(corpus)
    rng = np.random.default_rng(0)
    triples = []
    for row in rows:
        doc = corpus[row["gold_doc_ids"][0]]
        sents = [doc["text"][a:b] for a, b in T.sentence_spans(doc["text"])]
        other = corpus[other_ids[rng.integers(len(other_ids))]]
        others = [other["text"][a:b] for a, b in T.sentence_spans(other["text"])]
        for a, b in T.sentence_spans(row["answers"][0]):
            claim = row["answers"][0][a:b]
            scores = [M.token_f1(claim, s) for s in sents]
            best = int(np.argmax(scores)) if scores else None
            if best is None or scores[best] < 0.3:
                continue
            triples.append((claim, sents[best], doc["text"], 1))
            for j in rng.permutation(len(sents))[:2]:
                if j != best and scores[j] < 0.2:
                    triples.append((claim, sents[j], doc["text"], 0))
            if others:
                triples.append((claim, others[rng.integers(len(others))], other["text"], 0))
    emb = get_embedder()     # each text alone, as `Evidence.support` reads claims and sentences
    cv, sv = emb.encode_each([t[0] for t in triples]), emb.encode_each([t[1] for t in triples])
    x = np.asarray([scorer.support_features(c, s, p, float(cv[i] @ sv[i]))
                    for i, (c, s, p, _) in enumerate(triples)], dtype=np.float64)
    return x, np.asarray([t[3] for t in triples])


def fit_answer_model(train: dict) -> tuple[dict, dict]:
    """The sentence model and the answer model with their thresholds, fitted on `train` (name -> collected set)."""
    names = [f for f in FEATURES if f not in WITHOUT]
    cols = [FEATURES.index(f) for f in names]
    x = np.concatenate([d["x"][:, cols] for d in train.values()])
    y = np.concatenate([d["y"] for d in train.values()])
    part = fit_logistic(x, y, names)
    part["threshold"] = choose_threshold(train, {n: best_per_question(d, scorer._logistic(part, d["x"][:, cols]))
                                                 for n, d in train.items()})
    part["extra_ratio"] = EXTRA_RATIO
    gate_names = [f for f in names if f not in RANKING_ONLY]
    gate_cols = [names.index(f) for f in gate_names]     # columns of x, which holds `names` only
    gate = fit_logistic(x[:, gate_cols], y, gate_names)
    rows = {n: question_rows(d, gate) for n, d in train.items()}
    qpart = fit_broken_lines(np.concatenate(list(rows.values())),
                             np.concatenate([d["answerable"] for d in train.values()]).astype(int),
                             scorer.QUESTION_FEATURES)
    qpart["threshold"] = choose_threshold(train, {n: scorer._logistic(qpart, r) for n, r in rows.items()})
    qpart["sentences"] = gate
    return part, qpart


def question_ids(name: str, split: str) -> list[str]:
    """The ids of the questions `collect` read, in its order."""
    rows = load_questions(ROOT / "eval" / "datasets" / name / "questions.jsonl")
    return [r["id"] for r in rows if M.split_of(r["id"]) == split and usable(r)]


def subset(data: dict, keep: np.ndarray) -> dict:
    """The questions of a collected set where `keep` (one bool per question) holds, renumbered."""
    new = np.cumsum(keep) - 1
    rows = keep[data["q"]]
    return {"x": data["x"][rows], "y": data["y"][rows], "q": new[data["q"][rows]].astype(np.int32),
            "answerable": data["answerable"][keep]}


def cross_validate(sets: tuple[str, ...], judged: tuple[str, ...], folds: int = 2) -> dict:
    """Fit on all but one fold of the TRAIN halves of `sets`, report on that fold of the `judged` sets; averaged
    over folds (a second hash of the question id makes the folds). How a change to the fitting data is decided
    without looking at a held-out half."""
    import hashlib

    data = {n: collect(n, "train") for n in dict.fromkeys(sets + judged)}
    fold = {n: np.asarray([int(hashlib.sha256(f"cv:{i}".encode()).hexdigest()[:8], 16) % folds
                           for i in question_ids(n, "train")]) for n in data}
    for n, f in fold.items():       # the cached features must be of these questions, in this order
        assert len(f) == len(data[n]["answerable"]), f"{n}: eval/.cache/fit/ is stale; delete it and rerun"
    runs = []
    for f in range(folds):
        part, qpart = fit_answer_model({n: subset(data[n], fold[n] != f) for n in sets})
        runs.append(report({n: subset(data[n], fold[n] == f) for n in judged}, part, qpart))
    return {n: {k: round(float(np.mean([r[n][k] for r in runs])), 3) for k in runs[0][n] if k != "questions"}
            for n in judged}


def leave_one_out(sets: tuple[str, ...]) -> dict:
    """For each of `sets` with unanswerable questions: fitted on the train halves of the others, judged on its own
    train half. How well the refusal carries over to a kind of unanswerable question it was not fitted on."""
    data = {n: collect(n, "train") for n in sets}
    out = {}
    for name in (n for n in sets if (~data[n]["answerable"]).any()):
        part, qpart = fit_answer_model({n: d for n, d in data.items() if n != name})
        out[name] = report({name: data[name]}, part, qpart)[name]
    return out


def main() -> None:
    global C_REG, ANSWERED, WITHOUT
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cv", action="store_true",
                    help="only cross-validate on the train halves (5 folds) and print the figures; writes nothing")
    ap.add_argument("--with", dest="extra", metavar="SET", action="append", default=[],
                    help="fit on this dataset's train half too (eval/datasets/SET), e.g. hotpotqa-unanswerable")
    ap.add_argument("--answered", type=float, default=ANSWERED,
                    help=f"share of every training set's answerable questions the refusal threshold must still "
                         f"answer [{ANSWERED}]")
    ap.add_argument("--c", type=float, default=C_REG,
                    help=f"inverse regularisation of the sentence and answer models [{C_REG}]")
    ap.add_argument("--without", metavar="FEATURE", action="append", default=[], choices=FEATURES,
                    help="leave this sentence feature out of the fit (to judge a feature with --cv against the fit "
                         "without it)")
    a = ap.parse_args()
    C_REG, ANSWERED, WITHOUT = a.c, a.answered, tuple(a.without)
    sets = DATASETS + tuple(a.extra)
    if a.cv:
        print(f"fitted on the train halves of {', '.join(sets)}, C={C_REG}; judged on the held-in fold (5-fold):")
        r = cross_validate(sets, sets, folds=5)
        mean = np.mean([v["refusal_f1"] for v in r.values() if "refusal_f1" in v])
        print(json.dumps(r, indent=1) + f"\nmean refusal F1 {mean:.3f}")
        print("leave one set out (a kind of unanswerable question the fit never saw), train halves:")
        for name, row in leave_one_out(sets).items():
            print(f"  {name}: answered {row['answerable_answered']}, refusal P / R / F1 {row['refusal_precision']} / "
                  f"{row['refusal_recall']} / {row['refusal_f1']}")
        return
    train = {n: collect(n, "train") for n in sets}
    part, qpart = fit_answer_model(train)
    sx, sy = support_pairs("train")
    support = fit_logistic(sx, sy, scorer.SUPPORT_FEATURES, c=1.0)   # not cross-validated: as it was
    ps = scorer._logistic(support, sx)
    grid_s = np.round(np.arange(0.1, 0.9, 0.01), 2)
    f1_s = [M_f1(ps >= t, sy.astype(bool)) for t in grid_s]
    support["threshold"] = float(grid_s[int(np.argmax(f1_s))])
    heldout = {n: collect(n, "heldout") for n in DATASETS}
    model = {
        "format_version": scorer.FORMAT_VERSION,
        "fitted_by": "eval/fit.py", "fitted_at": time.strftime("%Y-%m-%d"), "learner": "sklearn LogisticRegression",
        "embedding": Settings().model, "retrieval": f"hybrid, k={K}",
        "answer_encoder": {"train halves": "read by the fold models of eval/train_answer_encoder.py (each question by "
                                           "the one that never saw it)",
                           "held-out halves and the app": str(ANSWER_ENCODER.relative_to(ROOT)), "read": READING},
        "data": {n: {"split": "train", "questions": int(len(d["answerable"])), "sentences": int(len(d["y"])),
                     "positive": int(d["y"].sum())} for n, d in train.items()},
        "support_data": {"clapnq-dev-a": {"split": "train", "pairs": int(len(sy)), "positive": int(sy.sum())}},
        "sentence": part, "question": qpart, "support": support,
        "train_figures": report(train, part, qpart),
        "heldout_figures": report(heldout, part, qpart),
    }
    scorer.MODEL_FILE.parent.mkdir(parents=True, exist_ok=True)
    scorer.MODEL_FILE.write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: model[k] for k in ("train_figures", "heldout_figures")}, indent=1))
    print(f"thresholds: answer {qpart['threshold']}, sentence {part['threshold']}, support {support['threshold']}; "
          f"wrote {scorer.MODEL_FILE}")


def M_f1(pred: np.ndarray, gold: np.ndarray) -> float:
    tp = np.sum(pred & gold)
    prec, rec = tp / max(1, pred.sum()), tp / max(1, gold.sum())
    return float(2 * prec * rec / (prec + rec)) if prec + rec else 0.0


if __name__ == "__main__":
    main()
