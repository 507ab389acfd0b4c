"""The index folder a FAISS index lives in: who owns it, its lock, its atomic `CURRENT` pointer, and cleanup.

    .rag-index               {"id": ...}: this folder is a rag index; made when the folder is new or empty
    CURRENT                  name of the active build folder; replaced atomically (os.replace)
    build-<time>-<rand>/     one complete build, never modified after CURRENT points at it
        .rag-build           {"index": id, "previous": build}: made by this index (only such builds are removed)

Every run, under the lock, removes what killed runs left (`.tmp-*`, `.CURRENT.*`, builds neither current nor
previous) and nothing else: a folder that holds other things (a chat app's `chats/`, `feedback.jsonl`) keeps them,
and a non-empty folder that is not an index is refused rather than used. Symlinks are never followed.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
from pathlib import Path

from .errors import RagError

FORMAT_VERSION = 1
INDEX_MARKER, BUILD_MARKER = ".rag-index", ".rag-build"
_BUILD = re.compile(r"build-\d{8}T\d{6}-[0-9a-f]{6}")
_TMP = re.compile(r"\.tmp-[0-9a-f]{8}")
_CURRENT_TMP = re.compile(r"\.CURRENT\.[0-9a-f]{6}")
# what may sit beside the builds (never touched here): the lock, the chat app's conversations and feedback, a
# README.md like the one this repository keeps in its default index/ folder, and an embedded Milvus Lite file
NEIGHBOURS = frozenset({".lock", "chats", "feedback.jsonl", "README.md", "milvus.db", "milvus.db.lock"})


def active_build(root: Path) -> Path | None:
    current = Path(root) / "CURRENT"
    if not current.is_file():
        return None
    name = current.read_text().strip()
    if not _BUILD.fullmatch(name):
        return None
    build = Path(root) / name
    return build if (build / "manifest.json").is_file() else None



def fsync_tree(folder: Path) -> None:
    for p in folder.rglob("*"):
        if p.is_file():
            with open(p, "rb") as f:
                os.fsync(f.fileno())


def point_current(root: Path, name: str) -> None:
    tmp = root / f".CURRENT.{secrets.token_hex(3)}"
    with open(tmp, "w") as f:
        f.write(name + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, root / "CURRENT")
    fd = os.open(root, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)




def check_index_folder(root: Path) -> None:
    """A RagError unless `root` is absent, empty, or a rag index (possibly with a chat app's files beside it)."""
    root = Path(root)
    if not root.exists():
        return
    if not root.is_dir():
        raise RagError(f"index path {root} is not a folder; pass --index (or set RAG_INDEX) to a new or empty folder")
    if (root / INDEX_MARKER).is_file():
        return
    foreign = sorted(p.name for p in root.iterdir() if not _legacy_part(p))
    if foreign:
        shown = ", ".join(foreign[:3]) + (", …" if len(foreign) > 3 else "")
        raise RagError(f"{root}/ is not empty and is not a rag index (it holds {shown}); pass --index (or set "
                       f"RAG_INDEX) to a new or empty folder, so nothing in it is overwritten or deleted")


def _legacy_part(p: Path) -> bool:
    """Could `p` be part of an index made before folders were marked (or what may sit beside one)?"""
    if p.is_symlink():
        return False
    if p.name in NEIGHBOURS or (_CURRENT_TMP.fullmatch(p.name) and p.is_file()):
        return True
    if p.name == "CURRENT":
        return p.is_file() and p.stat().st_size < 100 and bool(_BUILD.fullmatch(p.read_text(errors="replace").strip()))
    if _TMP.fullmatch(p.name) and p.is_dir():
        return True
    return bool(_BUILD.fullmatch(p.name)) and p.is_dir() and (p / "manifest.json").is_file()


def claim(root: Path) -> str:
    """This index folder's id (see INDEX_MARKER), made now for a new folder or an index from before markers;
    the builds such an index already holds are adopted (check_index_folder found nothing else in it)."""
    marker = root / INDEX_MARKER
    if marker.is_file():
        try:
            return str(json.loads(marker.read_text())["id"])
        except (ValueError, KeyError, TypeError, OSError):
            raise RagError(f"{marker} is damaged; delete the index folder {root} and run `rag index`") from None
    index_id = secrets.token_hex(8)
    for p in root.iterdir():
        if _BUILD.fullmatch(p.name) and _legacy_part(p):
            _write_json(p / BUILD_MARKER, {"index": index_id, "previous": None})
    _write_json(marker, {"index": "rag-cite", "format_version": FORMAT_VERSION, "id": index_id})
    return index_id


def in_use(root: Path) -> set[str]:
    """The current build and the one before it (a reader may still be on it)."""
    build = active_build(root)
    if build is None:
        return set()
    previous = _read_json(build / BUILD_MARKER).get("previous")
    return {build.name, previous} if isinstance(previous, str) else {build.name}


def collect_garbage(root: Path, index_id: str, keep: set[str]) -> None:
    """Remove what this index made and no longer needs: builds not kept, and what killed runs left (`.tmp-*`,
    `.CURRENT.*`). Only names of those patterns, and only folders carrying this index's mark (or a `.tmp-*` killed
    before it got one, still empty); symlinks are never followed. Runs under the lock."""
    for p in root.iterdir():
        if p.is_symlink() or p.name in keep:
            continue
        if _CURRENT_TMP.fullmatch(p.name) and p.is_file():
            p.unlink(missing_ok=True)
        elif (_TMP.fullmatch(p.name) or _BUILD.fullmatch(p.name)) and p.is_dir():
            if _read_json(p / BUILD_MARKER).get("index") == index_id:
                shutil.rmtree(p, ignore_errors=True)
            elif _TMP.fullmatch(p.name) and _unmarked_start(p):
                for child in p.iterdir():
                    child.unlink()
                p.rmdir()


def _unmarked_start(folder: Path) -> bool:
    """A `.tmp-*` killed before its mark was complete: nothing in it but (part of) the mark."""
    return all(c.name.startswith(BUILD_MARKER) and c.is_file() and not c.is_symlink() for c in folder.iterdir())


def _read_json(path: Path) -> dict:
    try:
        if path.is_symlink():
            return {}
        value = json.loads(path.read_text())
        return value if isinstance(value, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_json(path: Path, value: dict) -> None:
    """Write through a temporary name and rename, so a planted symlink at `path` is replaced, not followed."""
    tmp = path.with_name(f"{path.name}.{secrets.token_hex(3)}.tmp")
    with open(tmp, "x") as f:
        f.write(json.dumps(value) + "\n")
    os.replace(tmp, path)


class lock:
    """One builder at a time per index folder (a second `rag index` waits); `lock(root, name)` for another file."""

    def __init__(self, root: Path, name: str = ".lock"):
        self.path = Path(root) / name

    def __enter__(self):
        import fcntl

        # no O_TRUNC, no following a symlink: the lock file is never a way to write outside the folder
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        self.f = os.fdopen(fd, "w")
        fcntl.flock(self.f, fcntl.LOCK_EX)

    def __exit__(self, *exc):
        self.f.close()

