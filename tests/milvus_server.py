"""A real Milvus Lite server for tests: `python -m milvus_lite server` on a free 127.0.0.1 port over a data folder, for
as long as the `with` block runs; many processes (replicas, writers) can connect to it at once.

    with milvus_server(tmp_path / "milvus") as uri:      # "http://127.0.0.1:<port>"
        settings = Settings(store="milvus", milvus_uri=uri)
"""
from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def milvus_server(data_dir: Path, timeout: float = 30.0):
    """Yield the server's URI once a MilvusClient connects; the server is stopped (and waited for) afterwards."""
    from pymilvus import MilvusClient
    from pymilvus.exceptions import MilvusException

    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    uri = f"http://127.0.0.1:{port}"
    log = open(data_dir.parent / f"{data_dir.name}-server.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(data_dir),
                             "--host", "127.0.0.1", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"milvus_lite server exited with {proc.returncode}; see {log.name}")
            try:
                MilvusClient(uri, timeout=2).close()
                break
            except MilvusException:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"milvus_lite server did not answer on {uri} within {timeout:.0f} s") from None
                time.sleep(0.1)
        yield uri
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
