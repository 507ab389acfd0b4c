"""One writer at a time on the Milvus backend (used by rag.milvus_writer): an embedded file is locked (fcntl,
`<file>.lock`); on a server a writer holds a lease row in <p>_state (renewed as it works, expiring LEASE_TTL seconds
after a writer dies) and a second writer waits for it. Milvus has no compare-and-set, so two writers starting within
the same few milliseconds could both take it: the lease is a guard for replicas uploading now and then, not a lock
manager. The token goes to the client only.
"""
from __future__ import annotations

import fcntl
import json
import os
import secrets
import time
from pathlib import Path

from .errors import RagError
from .llm import redact

LEASE_TTL = 60.0           # seconds a server writer's lease lasts unless renewed (it renews every 15 s of work)
LEASE_WAIT = 300.0         # how long a second writer waits for the lease


class FileLock:
    """One writer per embedded Milvus Lite file (fcntl; gone with the process); nothing for a server."""

    def __init__(self, uri: str):
        self.f = None
        if uri.endswith(".db"):
            Path(uri).parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(uri + ".lock", os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o644)
            self.f = os.fdopen(fd, "w")
            try:
                fcntl.flock(self.f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self.f.close()
                raise RagError(f"another `rag index` is updating {uri}; wait for it to finish") from None

    def release(self) -> None:
        if self.f is not None:
            self.f.close()
            self.f = None


class Lease:
    """A server writer's lease: the `lease` row of the state collection, {owner token, until}."""

    def __init__(self, client, state_coll: str, uri: str, prefix: str):
        self.client, self.state_coll, self.uri, self.prefix = client, state_coll, uri, prefix
        self.owner: str | None = None
        self.renewed = 0.0

    def _row(self) -> dict | None:
        rows = self.client.query(self.state_coll, filter='key == "lease"', output_fields=["body"])
        return json.loads(rows[0]["body"]) if rows else None

    def _write(self, owner: str) -> None:
        self.renewed = time.time()
        body = json.dumps({"owner": owner, "until": self.renewed + LEASE_TTL})
        self.client.upsert(self.state_coll, [{"key": "lease", "gen": 0, "body": body, "v": [1.0, 0.0]}])

    def take(self) -> "Lease":
        """Wait (up to LEASE_WAIT seconds) until no live lease is held, then hold it."""
        owner, deadline = secrets.token_hex(8), time.monotonic() + LEASE_WAIT
        while True:
            held = self._row()
            if held is None or held["until"] < time.time():
                self._write(owner)
                if (self._row() or {}).get("owner") == owner:
                    self.owner = owner
                    return self
            if time.monotonic() > deadline:
                raise RagError(f"another writer has been updating {redact(self.uri)} (prefix {self.prefix!r}) for "
                               f"over {LEASE_WAIT:.0f} s; try again when it has finished")
            time.sleep(0.25)

    def renew(self, force: bool = False) -> None:
        """Check the lease is still ours and extend it (when a quarter of LEASE_TTL has passed, or `force`)."""
        if self.owner and (force or time.time() - self.renewed > LEASE_TTL / 4):
            if (self._row() or {}).get("owner") != self.owner:
                raise RagError(f"this update of {redact(self.uri)} lost its lease (it paused over {LEASE_TTL:.0f} s) "
                               f"and another writer took over; run it again")
            self._write(self.owner)

    def release(self) -> None:
        if self.owner and (self._row() or {}).get("owner") == self.owner:
            self.client.delete(self.state_coll, filter='key == "lease"')
        self.owner = None
