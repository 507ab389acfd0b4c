"""Chunking: split a document into passages of at most `size` tiktoken tokens, on sentence and paragraph
boundaries, with about `overlap` tokens of trailing sentences repeated at the start of the next chunk.

Every chunk records its character span, and `document.text[chunk.start:chunk.end] == chunk.text` holds
always. A sentence longer than `size` is cut between words. Exact repeats of a passage inside one document
are kept once.

    >>> [c.text for c in chunk_document(Document("d", "t", "One. Two.\\n\\nThree.", "d", ""), size=8, overlap=0)]
    ['One. Two.', 'Three.']
"""
from __future__ import annotations

import hashlib
import re
from itertools import islice
from typing import Callable, Iterator

from . import tokens
from .text import sentences as text_sentences
from .types import Chunk, Document

_WORD = re.compile(r"\S+")
_SPACE = re.compile(r"\s+")
MAX_TOKEN_CHARS = 128      # the longest cl100k_base token, in bytes: `size` tokens never span more than size * 128


def _unique_paragraphs(text: str) -> Iterator[tuple[int, int, bool]]:
    """Sentence spans of `text` (the shared splitter, `rag.text.sentences`), leaving out any paragraph that
    repeats an earlier one word for word (remembered by digest, not by text)."""
    seen: set[bytes] = set()
    para: list[tuple[int, int, bool]] = []
    for span in [*text_sentences(text), None]:
        if span is None or (span[2] and para):
            key = _SPACE.sub(" ", text[para[0][0]:para[-1][1]]).encode("utf-8", "surrogatepass")
            digest = hashlib.blake2b(key, digest_size=16).digest()
            if digest not in seen:
                seen.add(digest)
                yield from para
            para = []
        if span:
            para.append(span)


def _split_long(text: str, a: int, b: int, size: int, count: Callable[[str], int]) -> Iterator[tuple[int, int]]:
    """Cut text[a:b] between words into pieces of at most `size` tokens (a giant word is cut inside).
    Every word is at least one token, so only the next size + 1 words are ever looked at."""
    words = ((m.start(), m.end()) for m in _WORD.finditer(text, a, b))
    window = list(islice(words, size + 1))
    while window:
        j = _largest(1, len(window), lambda j: window[j - 1][1] - window[0][0] <= size * MAX_TOKEN_CHARS
                     and count(text[window[0][0]:window[j - 1][1]]) <= size)
        x, y = window[0]
        if j == 1 and count(text[x:min(y, x + size * MAX_TOKEN_CHARS + 1)]) > size:
            while x < y:
                cut = _largest(x + 1, min(y, x + size * MAX_TOKEN_CHARS), lambda c: count(text[x:c]) <= size)
                yield x, cut
                x = cut
        else:
            yield x, window[j - 1][1]
        window = window[j:] + list(islice(words, j))


def _largest(lo: int, hi: int, fits: Callable[[int], bool]) -> int:
    """The largest n in [lo, hi] with fits(n), assuming fits is monotone; lo when none fits."""
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _units(text: str, size: int, count: Callable[[str], int]) -> Iterator[tuple[int, int, bool, int]]:
    """(start, end, starts_paragraph, tokens) of each sentence, or of each piece of a sentence over `size`."""
    for a, b, para in _unique_paragraphs(text):
        # a span this long is over `size` tokens for any real text: cut it without tokenizing it whole
        n = count(text[a:b]) if b - a <= 16 * size else size + 1
        if n <= size:
            yield a, b, para, n
        else:
            for k, (x, y) in enumerate(_split_long(text, a, b, size, count)):
                yield x, y, para and k == 0, count(text[x:y])


def chunk_document(doc: Document, size: int = 180, overlap: int = 30,
                   count: Callable[[str], int] = tokens.count) -> list[Chunk]:
    return list(iter_chunks(doc, size, overlap, count))


def iter_chunks(doc: Document, size: int = 180, overlap: int = 30,
                count: Callable[[str], int] = tokens.count) -> Iterator[Chunk]:
    """The chunks of `doc` as they are made: a long document is embedded while it is still being cut."""
    if size < 8 or not 0 <= overlap < size:
        raise ValueError(f"need chunk size >= 8 and 0 <= overlap < size (got {size}, {overlap})")
    text = doc.text
    seen: set[str] = set()
    cur: list[tuple] = []   # (start, end, starts_paragraph, tokens[, "carried"])

    def make() -> Chunk | None:
        a, b = cur[0][0], cur[-1][1]
        piece = text[a:b]
        c = Chunk.make(doc.id, piece, a, b, count(piece), doc.page_at(a))
        if c.text_hash in seen:
            return None
        seen.add(c.text_hash)
        return c

    def span_tokens(extra=None) -> int:
        end = (extra or cur[-1])[1]
        return count(text[cur[0][0]:end])

    for u in _units(text, size, count):
        while True:
            fresh = any(not x[4:] for x in cur)
            if cur and fresh and (span_tokens(u) > size or (u[2] and span_tokens() >= size // 2)):
                # close the chunk when the next sentence would overflow it, or at a paragraph break once half full
                c = make()
                if c:
                    yield c
                carry: list = []
                if not u[2]:  # overlap only within a paragraph
                    for x in reversed(cur):
                        if sum(y[3] for y in carry) + x[3] > overlap:
                            break
                        carry.insert(0, (*x[:4], "carried"))
                cur = carry
                continue
            while cur and not fresh and span_tokens(u) > size:
                cur.pop(0)       # the carried overlap gives way to the new sentence
            cur.append(u)
            break
    if any(not x[4:] for x in cur):
        c = make()
        if c:
            yield c


def fit_to_model(chunks: list[Chunk], doc: Document, max_pieces: int,
                 count_pieces: Callable[[list[str]], list[int]], size: int) -> list[Chunk]:
    """Re-split any chunk the embedding model would truncate (its word-piece count exceeds `max_pieces`)."""
    out: list[Chunk] = []
    for c, n in zip(chunks, count_pieces([c.text for c in chunks])):
        if n <= max_pieces:
            out.append(c)
            continue
        sub = Document(doc.id, doc.title, c.text, doc.source, doc.sha256)
        tighter = max(8, int(size * max_pieces / n * 0.9))
        for s in fit_to_model(chunk_document(sub, tighter, 0), sub, max_pieces, count_pieces, tighter):
            a = c.start + s.start
            out.append(Chunk.make(doc.id, s.text, a, a + len(s.text), s.n_tokens, doc.page_at(a)))
    return out
