"""Milvus plumbing for the Milvus backend (rag.milvus_store, rag.milvus_writer): connecting with one-line errors,
the three collections' schemas and indexes, and the helpers that write Milvus expressions and field values.

The collections and what their rows mean are described in rag.milvus_store.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable

from . import keyword
from .errors import RagError
from .llm import redact
from .storage import Filter

VARCHAR = 65_535


def lit(value: str) -> str:
    r"""A Milvus string literal.

    >>> print(lit('say "hi"\n'))
    "say \"hi\"\n"
    """
    out = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return '"' + out.replace("\t", "\\t") + '"'


def in_list(field: str, values: Iterable[str]) -> str:
    return f"{field} in [{', '.join(lit(v) for v in values)}]"


def day(date: str | None) -> int:
    """An ISO date (or its prefix) as an INT64 ordered like the string; 0 for none.

    >>> day("2024-07-11"), day("2024-07"), day(None)
    (20240711, 20240700, 0)
    """
    digits = re.sub(r"\D", "", date or "")[:8]
    return int(digits.ljust(8, "0")) if digits else 0


def where_expr(where: Filter | None) -> str | None:
    """The Milvus expression for `where` over rows with `doc_id` and `day`; None: everything ("" : nothing)."""
    if where is None:
        return None
    parts = []
    if where.doc_ids is not None:
        if not where.doc_ids:
            return ""
        parts.append(in_list("doc_id", sorted(where.doc_ids)))
    if where.date_from or where.date_to:
        parts.append(f"day >= {max(day(where.date_from), 1)}")
        if where.date_to:
            parts.append(f"day <= {day(where.date_to)}")
    return " and ".join(parts) or None


def terms(title: str, source: str, text: str) -> str:
    """What Milvus's BM25 reads for a chunk: the embedded text's keyword tokens, at most 65,535 bytes."""
    from .store import embed_text

    return cut_bytes(" ".join(keyword.tokenize([embed_text(title, source, text)])[0]))


def cut_bytes(text: str, limit: int = VARCHAR) -> str:
    return text if len(text) * 4 <= limit else text.encode("utf-8")[:limit].decode("utf-8", "ignore")


def connect(settings, create: bool = False):
    """A MilvusClient for settings.milvus_target() (one-line RagErrors naming the URI, never the token)."""
    # gRPC's own log lines (an embedded Milvus Lite server answers the client's keepalive pings with "GOAWAY
    # too_many_pings" every few minutes) would reach the user's terminal; failures still raise, as one line below
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")
    from pymilvus import MilvusClient
    from pymilvus.exceptions import MilvusException

    uri = settings.milvus_target()
    if uri.endswith(".db"):
        if not create and not Path(uri).exists():
            raise RagError(f"no index at {uri}; run `rag index` (or set RAG_MILVUS_URI / RAG_INDEX)")
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
    try:
        return MilvusClient(uri=uri, token=settings.milvus_token or "", timeout=10)
    except MilvusException:
        if uri.endswith(".db"):
            raise RagError(f"cannot open the Milvus Lite file {uri}: another process holds it (Milvus Lite allows one "
                           f"process per file); stop it, or serve the folder with `python -m milvus_lite server "
                           f"--data-dir DIR --port 19530` and set RAG_MILVUS_URI=http://127.0.0.1:19530") from None
        raise RagError(f"cannot reach Milvus at {redact(uri)}; start it (e.g. `python -m milvus_lite server --data-dir "
                       f"DIR --port 19530`) or fix RAG_MILVUS_URI / RAG_MILVUS_TOKEN") from None


def ensure(client, name: str, schema_and_index) -> None:
    """Create the collection `name` if it is missing (schema, indexes), and load it."""
    if not client.has_collection(name):
        schema, index = schema_and_index
        client.create_collection(name, schema=schema, consistency_level="Strong")
        client.create_index(name, index, sync=False)      # sync would poll: 0.5 s a field on an empty collection
    client.load_collection(name)


def _schema(fields: list[tuple], vector: tuple):
    from pymilvus import DataType, MilvusClient

    s = MilvusClient.create_schema(auto_id=False)
    for name, kind, *extra in fields:
        kw = dict(extra[0]) if extra else {}
        if kind == "str":
            s.add_field(name, DataType.VARCHAR, max_length=kw.pop("max_length", VARCHAR), **kw)
        else:
            s.add_field(name, {"int": DataType.INT64, "bool": DataType.BOOL}[kind], **kw)
    s.add_field(vector[0], DataType.FLOAT_VECTOR, dim=vector[1])
    return s


def _index(client_cls, vector: str, *lookups: str):
    index = client_cls.prepare_index_params()
    index.add_index(vector, index_type="AUTOINDEX", metric_type="IP")
    for field in lookups:                   # `field in [...]` lookups: 2x faster on Milvus Lite at 10k rows
        index.add_index(field, index_type="INVERTED")
    return index


def state_schema():
    from pymilvus import MilvusClient

    s = _schema([("key", "str", {"max_length": 64, "is_primary": True}), ("gen", "int"), ("body", "str")], ("v", 2))
    return s, _index(MilvusClient, "v")


def docs_schema():
    from pymilvus import MilvusClient

    s = _schema([("pk", "str", {"max_length": 4200, "is_primary": True}), ("doc_id", "str", {"max_length": 4096}),
                 ("part", "int"), ("title", "str"), ("source", "str"), ("sha256", "str", {"max_length": 128}),
                 ("date", "str", {"max_length": 64}), ("day", "int"), ("source_url", "str"), ("n_chunks", "int"),
                 ("lead", "str"), ("text", "str"), ("born", "int"), ("died", "int")], ("v", 2))
    return s, _index(MilvusClient, "v", "doc_id")


def chunks_schema(dim: int):
    from pymilvus import DataType, Function, FunctionType, MilvusClient

    s = _schema([("pk", "str", {"max_length": 64, "is_primary": True}), ("chunk_id", "str", {"max_length": 64}),
                 ("doc_id", "str", {"max_length": 4096}), ("text", "str"), ("clipped", "bool"), ("start", "int"),
                 ("end", "int"), ("n_tokens", "int"), ("text_hash", "str", {"max_length": 128}), ("page", "int"),
                 ("key", "str", {"max_length": 128}), ("day", "int"),
                 ("terms", "str", {"enable_analyzer": True, "analyzer_params": {"tokenizer": "standard"}}),
                 ("born", "int"), ("died", "int")], ("vec", dim))
    s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    s.add_function(Function(name="terms_bm25", function_type=FunctionType.BM25, input_field_names=["terms"],
                            output_field_names=["sparse"]))
    index = _index(MilvusClient, "vec", "chunk_id", "doc_id", "key")
    index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    return s, index
