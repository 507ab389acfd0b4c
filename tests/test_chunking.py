"""Chunking: offsets always index the document text, chunks fit the model, repeats are kept once."""
from __future__ import annotations

import random

import pytest

from rag import tokens
from rag.chunking import chunk_document, fit_to_model
from rag.loaders import load
from rag.types import Document
from conftest import SEEDS

SEED_DOCS = load(SEEDS).documents


@pytest.mark.parametrize("doc", SEED_DOCS, ids=lambda d: d.id)
@pytest.mark.parametrize("size,overlap", [(180, 30), (60, 10), (24, 0)])
def test_offsets_index_the_document_on_every_seed(doc, size, overlap):
    chunks = chunk_document(doc, size, overlap)
    assert chunks
    for c in chunks:
        assert doc.text[c.start:c.end] == c.text
        assert c.n_tokens <= size
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    words = [i for i, ch in enumerate(doc.text) if not ch.isspace()]
    missing = [i for i in words if i not in covered]
    # only a repeated paragraph (seed 002) may be left out
    assert not missing or doc.id.startswith("002")


def _random_text(rng: random.Random) -> str:
    words = ["alpha", "Beta", "gamma.", "delta,", "ε", "naïve", "3.14", "U.S.", "“quoted”", "end!", "why?",
             "x" * 40, "—", "\n", "\n\n", "  ", "\t"]
    return "".join(rng.choice(words) + rng.choice([" ", "", " ", "\n"]) for _ in range(rng.randint(1, 400)))


@pytest.mark.parametrize("seed", range(40))
def test_offsets_hold_on_random_text(seed):
    rng = random.Random(seed)
    text = _random_text(rng)
    if not text.strip():
        text = "x"
    doc = Document("r", "r", text, "r", "")
    size = rng.choice([8, 16, 50, 180])
    for c in chunk_document(doc, size, rng.randrange(0, size // 2)):
        assert text[c.start:c.end] == c.text and c.text.strip() == c.text and c.n_tokens <= size


def test_repeated_paragraph_is_chunked_once():
    d002 = next(d for d in SEED_DOCS if d.id.startswith("002"))
    paragraph = d002.text.split("\n")[0]
    assert d002.text.count(paragraph) == 2                 # the seed really repeats itself
    chunks = chunk_document(d002)
    assert sum(c.text.count("During a dinner hosted") for c in chunks) == 1
    assert len({c.text_hash for c in chunks}) == len(chunks)


def test_overlap_repeats_trailing_sentences():
    text = " ".join(f"Sentence number {i} is here." for i in range(60))
    chunks = chunk_document(Document("o", "o", text, "o", ""), size=60, overlap=20)
    assert len(chunks) > 2
    assert all(b.start < a.end for a, b in zip(chunks, chunks[1:]))   # consecutive chunks overlap


def test_long_sentence_is_cut_between_words():
    text = " ".join(f"word{i}" for i in range(1000))
    chunks = chunk_document(Document("l", "l", text, "l", ""), size=100, overlap=0)
    assert len(chunks) >= 10 and all(c.n_tokens <= 100 for c in chunks)
    assert all(text[c.start:c.end] == c.text and c.text.startswith("word") for c in chunks)
    assert " ".join(c.text for c in chunks) == text          # nothing lost between pieces


def test_no_chunk_is_truncated_by_the_model():
    from rag.embed import get_embedder

    emb = get_embedder()
    # tiktoken packs digits and symbols far tighter than BERT word pieces do
    text = " ".join(f"ID-{i:07d}/x{i * 7919 % 100000}" for i in range(400))
    doc = Document("ids", "ids", text, "ids", "")
    chunks = fit_to_model(chunk_document(doc, 180, 0), doc, emb.max_tokens - 2, emb.count_wordpieces, 180)
    assert max(emb.count_wordpieces([c.text for c in chunks])) <= emb.max_tokens
    assert all(text[c.start:c.end] == c.text for c in chunks)
    assert tokens.count(text) > 180


def test_chunking_never_tokenizes_more_than_about_a_chunk_at_once():
    """Memory must not grow with the file: a giant 'word' and a giant sentence are cut without being tokenized
    whole (the tokenizer's token list for 1 MB of text is tens of MB)."""
    from rag.chunking import MAX_TOKEN_CHARS, iter_chunks

    text = "x" * 200_000 + " " + " ".join(f"w{i}" for i in range(40_000)) + ". Then a short one."
    lengths: list[int] = []

    def count(s: str) -> int:
        lengths.append(len(s))
        return tokens.count(s)

    doc = Document("g", "g", text, "g", "")
    chunks = iter_chunks(doc, 100, 10, count)
    first = next(chunks)                              # a generator: the first chunk comes before the rest is cut
    assert first.start == 0 and max(lengths) <= 2 * 100 * MAX_TOKEN_CHARS
    rest = list(chunks)
    assert max(lengths) <= 2 * 100 * MAX_TOKEN_CHARS
    assert all(text[c.start:c.end] == c.text and c.n_tokens <= 100 for c in [first, *rest])
    assert rest[-1].text.endswith("Then a short one.")
