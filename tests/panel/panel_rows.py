"""Rows of staging tables for the panel's case tests (``from panel_rows import debit_row``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import pyarrow as pa

__all__ = ["DEBIT_SCHEMA", "debit_row", "stg_debit"]

DEBIT_SCHEMA = {
    "siret": pa.string(),
    "debit_id": pa.string(),
    "numero_historique_ecart_negatif": pa.int32(),
    "date_traitement": pa.date32(),
    "periode_prise_en_compte": pa.date32(),
    "part_ouvriere": pa.float64(),
    "part_patronale": pa.float64(),
}


def debit_row(debt: str, hist: int, treated: dt.date, po: float, pp: float, *, siret: str) -> dict[str, Any]:
    """One ``stg_debit`` event; ``periode_prise_en_compte`` as the parser computes it: treated on or before the
    20th → that month, else the next one."""
    month = dt.date(treated.year, treated.month, 1)
    if treated.day > 20:
        month = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return {
        "siret": siret,
        "debit_id": debt,
        "numero_historique_ecart_negatif": hist,
        "date_traitement": treated,
        "periode_prise_en_compte": month,
        "part_ouvriere": po,
        "part_patronale": pp,
    }


def stg_debit(events: list[dict[str, Any]]) -> ibis.Table:
    """``stg_debit`` holding ``events``."""
    return ibis.memtable(pa.Table.from_pylist(events, schema=pa.schema(list(DEBIT_SCHEMA.items()))))
