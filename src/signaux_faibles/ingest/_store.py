"""Atomic publication of the ingested tables.

Layout under the data directory::

    staging            -> .current/staging            (stable symlinks, created once)
    quarantine         -> .current/quarantine
    filtered           -> .current/filtered       (rows outside the perimeter, kept apart)
    import_log.parquet -> .current/import_log.parquet
    .current           -> .versions/v-<time>-<id>     (the published version: ONE symlink)
    .versions/         every version; ``tmp-*`` ones are being written
    .ingest.lock       held while an ingest runs

A new version starts as a hard-link copy of the published one (no data copied; files are never modified in
place, only added, replaced or removed), receives the batch, then ``.current`` is replaced by a symlink to it with
one ``rename`` — atomic on POSIX. A process killed before that rename leaves the published version untouched; its
``tmp-*`` folder is removed by the next run.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from signaux_faibles.layout import DataDir

__all__ = ["PUBLISHED", "Store"]

#: Entries of a version that are published under the data directory.
PUBLISHED = ("staging", "quarantine", "filtered", "import_log.parquet")


class Store:
    """The versioned tables under ``data_dir``."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.versions = DataDir(data_dir).versions
        self.current_link = DataDir(data_dir).current

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the ingest lock (one ingest at a time per data directory)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with DataDir(self.data_dir).ingest_lock.open("a+") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def current(self) -> Path | None:
        """The published version folder, if any."""
        if self.current_link.is_symlink():
            target = self.current_link.resolve()
            if target.is_dir():
                return target
        return None

    def begin(self) -> Path:
        """A new version folder holding (hard links to) the published files."""
        self.versions.mkdir(parents=True, exist_ok=True)
        self._migrate_plain_layout()
        new = self.versions / f"tmp-{uuid.uuid4().hex[:12]}"
        new.mkdir()
        cur = self.current()
        if cur is not None:
            for name in PUBLISHED:
                src = cur / name
                if src.is_dir():
                    shutil.copytree(src, new / name, copy_function=_link_or_copy)
                elif src.is_file():
                    _link_or_copy(str(src), str(new / name))
        (new / "staging").mkdir(exist_ok=True)
        (new / "quarantine").mkdir(exist_ok=True)
        (new / "filtered").mkdir(exist_ok=True)
        return new

    def commit(self, new: Path) -> Path:
        """Publish ``new`` atomically and remove older versions."""
        final = self.versions / f"v-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        _fsync_tree(new)
        os.rename(new, final)
        tmp_link = self.data_dir / f".current.{uuid.uuid4().hex[:8]}"
        os.symlink(os.path.relpath(final, self.data_dir), tmp_link)
        os.replace(tmp_link, self.current_link)  # the atomic switch
        _fsync_dir(self.data_dir)
        for name in PUBLISHED:
            link = self.data_dir / name
            if not link.is_symlink():
                os.symlink(os.path.join(".current", name), link)
        self.cleanup(keep=final)
        return final

    def cleanup(self, keep: Path | None = None) -> None:
        """Remove every version but ``keep`` (or the published one), including leftovers of killed runs."""
        keep = keep or self.current()
        if not self.versions.is_dir():
            return
        for entry in self.versions.iterdir():
            if keep is not None and entry.resolve() == keep.resolve():
                continue
            shutil.rmtree(entry, ignore_errors=True)
        for entry in self.data_dir.glob(".current.*"):
            with contextlib.suppress(OSError):
                entry.unlink()

    def _migrate_plain_layout(self) -> None:
        """Adopt tables written as plain folders (no versions yet) as the first version."""
        plain = [n for n in PUBLISHED if (self.data_dir / n).exists() and not (self.data_dir / n).is_symlink()]
        if not plain or self.current() is not None:
            return
        first = self.versions / f"v-adopted-{uuid.uuid4().hex[:8]}"
        first.mkdir(parents=True)
        for name in plain:
            os.rename(self.data_dir / name, first / name)
        tmp_link = self.data_dir / f".current.{uuid.uuid4().hex[:8]}"
        os.symlink(os.path.relpath(first, self.data_dir), tmp_link)
        os.replace(tmp_link, self.current_link)
        for name in PUBLISHED:
            if not (self.data_dir / name).is_symlink():
                os.symlink(os.path.join(".current", name), self.data_dir / name)


def _link_or_copy(src: str, dst: str) -> str:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
    return dst


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(dirpath))
