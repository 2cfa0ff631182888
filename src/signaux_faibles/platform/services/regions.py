"""The régions where the platform is open (regional roll-out; ``FR`` = the whole country)."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import OpenRegion
from .common import AccountError, now

_REGION_CODE = re.compile(r"^(FR|\d{2})$")


def open_regions(db: Session) -> set[str]:
    return set(db.scalars(select(OpenRegion.code)))


def _region_codes(codes: str) -> list[str]:
    out = []
    for c in codes.split(","):
        c = c.strip().upper().removeprefix("R") if c.strip().upper() != "FR" else "FR"
        if not c:
            continue
        if not _REGION_CODE.match(c):
            raise AccountError(f"unknown région code {c!r}: expected FR or R<2-digit INSEE code> (R27)")
        out.append(c)
    if not out:
        raise AccountError("no région given: expected FR or R<2-digit INSEE code>, comma-separated")
    return out


def open_region_codes(db: Session, codes: str, by: str | None = None) -> list[str]:
    """Open the platform in these régions (``FR``: everywhere); returns the codes newly opened."""
    done = []
    have = open_regions(db)
    for c in _region_codes(codes):
        if c not in have:
            db.add(OpenRegion(code=c, opened_at=now(), opened_by=by))
            done.append(c)
    db.flush()
    return done


def close_regions(db: Session, codes: str) -> list[str]:
    done = []
    for c in _region_codes(codes):
        row = db.get(OpenRegion, c)
        if row is not None:
            db.delete(row)
            done.append(c)
    db.flush()
    return done
