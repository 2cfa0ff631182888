"""A per-process cache of the heavy, per-user views (a list page's rows, the lists' counts).

A published list does not change until the next publication, and an agent pages, sorts and comes back to the same
views: their rows are kept, per **user**, keyed by everything they depend on — the user's territory and rights,
the latest publication, the latest CODEFI import, the open régions and the user's own follows (their count and
latest change) — so that any of those changes misses the cache. Entries live ``TTL`` seconds at most; the cache
holds ``SIZE`` entries (least recently used dropped). The access policy and the audit are untouched: the route
still checks the rights and records its event at each request; only the computation of the rows is reused.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import func, select

from ..models import CodefiImport, Follow, List, OpenRegion, Publication
from .context import Ctx

__all__ = ["ViewCache", "data_version"]

T = TypeVar("T")
TTL = 300.0
SIZE = 4096


class ViewCache:
    def __init__(self, size: int = SIZE, ttl: float = TTL) -> None:
        self.size, self.ttl = size, ttl
        self._data: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        now = time.monotonic()
        with self._lock:
            entry = self._data.get(key)
            if entry is not None and now - entry[0] < self.ttl:
                self._data.move_to_end(key)
                self.hits += 1
                return entry[1]
        value = compute()
        with self._lock:
            self.misses += 1
            self._data[key] = (now, value)
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


def data_version(ctx: Ctx) -> tuple[Any, ...]:
    """What a user's view of the lists depends on besides its parameters (one query)."""
    uid = ctx.actor.user_id
    row = ctx.db.execute(
        select(
            select(func.max(Publication.id)).scalar_subquery(),
            select(func.max(CodefiImport.id)).scalar_subquery(),
            select(func.max(List.published_at)).scalar_subquery(),
            select(func.count()).select_from(OpenRegion).scalar_subquery(),
            select(func.max(OpenRegion.opened_at)).scalar_subquery(),
            select(func.count()).where(Follow.user_id == uid, Follow.active.is_(True)).scalar_subquery(),
            select(func.max(Follow.id)).where(Follow.user_id == uid).scalar_subquery(),
            select(func.max(Follow.until)).where(Follow.user_id == uid).scalar_subquery(),
        )
    ).one()
    a = ctx.actor
    return (uid, a.territory, a.rights, a.role, *row)
