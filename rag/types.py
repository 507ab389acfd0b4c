"""The data that flows through the pipeline, one way: Document → Chunk → Hit → Answer (with Citations).

All are frozen dataclasses: change them with `dataclasses.replace`, serialise with `dataclasses.asdict`.
Ids are derived from paths or content, never from list positions.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Mapping


def sha256(text: str | bytes) -> str:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Document:
    id: str                      # path relative to the docs root, or the JSONL record id
    title: str
    text: str                    # the text that chunks and citations index into
    source: str                  # file the document came from (relative to the docs root)
    sha256: str                  # of the raw source bytes (or the JSONL record): change detection
    date: str | None = None      # ISO date from front matter or a leading `date YYYY-MM-DD` line
    source_url: str | None = None
    page_starts: tuple[int, ...] = ()   # PDFs: character offset in `text` where each page starts

    def page_at(self, offset: int) -> int | None:
        """1-based page number holding character `offset`, or None for documents without pages."""
        if not self.page_starts:
            return None
        page = 0
        for i, start in enumerate(self.page_starts):
            if start <= offset:
                page = i
        return page + 1


@dataclass(frozen=True)
class Chunk:
    id: str                      # sha256(doc_id, start, text)[:16]
    doc_id: str
    text: str                    # == document.text[start:end], always
    start: int
    end: int
    n_tokens: int                # tiktoken cl100k_base tokens
    text_hash: str               # sha256(text): equal texts share one vector
    page: int | None = None

    @staticmethod
    def make(doc_id: str, text: str, start: int, end: int, n_tokens: int, page: int | None = None) -> "Chunk":
        cid = sha256(f"{doc_id}\x00{start}\x00{text}")[:16]
        return Chunk(cid, doc_id, text, start, end, n_tokens, sha256(text), page)


@dataclass(frozen=True)
class DocMeta:
    """What the index keeps about a document besides its chunks and text."""
    id: str
    title: str
    source: str
    sha256: str
    date: str | None
    source_url: str | None
    n_chunks: int
    lead: str = ""               # the text's first few hundred characters, when the store has them (untitled docs)


@dataclass(frozen=True)
class DocInfo(DocMeta):
    """A document's metadata and its text (citations quote it)."""
    text: str = ""

    def meta(self) -> DocMeta:
        return DocMeta(self.id, self.title, self.source, self.sha256, self.date, self.source_url, self.n_chunks,
                       self.text[:300])


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float                                 # the fused ranking score: reciprocal-rank fusion over the rankings
    rank: int                                    # 1-based                 that held it (rag.retrieve.rrf)
    title: str = ""
    date: str | None = None
    source: str = ""
    duplicates: tuple[Chunk, ...] = ()           # near-identical passages in other documents (corroboration)
    cosine: float | None = None                  # question-passage cosine of the stored vectors
    bm25: float | None = None                    # BM25 score, when the keyword ranking held it

    @property
    def doc_ids(self) -> tuple[str, ...]:
        """Every document this passage stands in: its own first, then its near-duplicates'."""
        seen = [self.chunk.doc_id]
        for c in self.duplicates:
            if c.doc_id not in seen:
                seen.append(c.doc_id)
        return tuple(seen)


@dataclass(frozen=True, eq=False)
class Found:
    """What one search hands the answerer: the hits, their documents (with text, to quote), the vectors already
    computed (so nothing is embedded twice), and which of the question's words the corpus uses at all."""
    question: str
    hits: tuple[Hit, ...]
    docs: Mapping[str, DocInfo]                  # every document the hits and their duplicates come from
    question_vector: Any                         # numpy float32 (dim,)
    passage_vectors: Any                         # numpy float32 (len(hits), dim): the stored vectors, row i: hits[i]
    mentioned: frozenset[str] = frozenset()      # the words of the question's names that some document uses
    contained: frozenset[str] = frozenset()      # the question's numbers and acronyms that some document contains
    indexed: int = 0                             # number of chunks in the index


@dataclass(frozen=True)
class Citation:
    n: int                       # 1-based marker number as shown in the answer
    doc_id: str
    title: str
    date: str | None
    chunk_id: str
    start: int                   # character span in the document's text: text[start:end] == quote
    end: int
    quote: str
    source: str = ""


@dataclass(frozen=True)
class ShortAnswer:
    """The phrase that answers the question (a name, number, date, place), verbatim from a cited sentence."""
    text: str                    # == documents[doc_id].text[start:end]
    doc_id: str
    start: int
    end: int
    n: int                       # the citation number of the sentence it comes from


@dataclass(frozen=True)
class Answer:
    question: str                # as asked
    standalone_question: str     # after follow-up rewriting (== question for a first turn)
    text: str                    # the answer with [n] markers
    citations: tuple[Citation, ...]
    hits: tuple[Hit, ...]
    refused: bool = False
    unsupported: tuple[str, ...] = ()            # answer sentences no source supports
    answerer: str = "extractive"
    note: str = ""                               # e.g. "LLM unreachable; showing the extractive answer"
    short_answer: ShortAnswer | None = None      # leads the answer text when the question asks for a short phrase
