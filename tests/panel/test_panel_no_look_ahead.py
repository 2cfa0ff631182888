"""No look-ahead: dropping every staging row dated after month m leaves every feature at months <= m unchanged."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import ibis
import pyarrow as pa

from signaux_faibles.engine import read_table
from signaux_faibles.layout import batch_month
from signaux_faibles.panel.build import STAGING_TABLES, relations, window
from signaux_faibles.panel.clean import month_calendar
from signaux_faibles.panel.clean._common import add_months
from signaux_faibles.panel.company_month import company_month

#: Columns that look ahead by design (the target).
TARGET = {"date_premier_jugement", "failure", "time_til_failure", "signal_fort"}

#: Staging table → the column dating its rows (rows dated after month m are dropped).
DATED = {
    "stg_debit": "date_traitement",
    "stg_cotisation": "periode_debut",
    "stg_delai": "date_creation",
    "stg_procol": "date_effet",
    "stg_effectif": "periode",
    "stg_effectif_ent": "periode",
    "stg_apconso": "periode",
    "stg_apdemande": "date_statut",  # the decision: an authorisation counts from it
    "stg_paydex": "date_valeur",
    "stg_altares_stock": "date_valeur",
    "stg_altares_increment": "date_valeur",
    "stg_altares_datapi": "date_valeur",
    "stg_bdf": "arrete_bilan_bdf",
    "stg_diane": "arrete_bilan_diane",
    "stg_ccsf": "date_traitement",
}


def _same(x: pa.ChunkedArray, y: pa.ChunkedArray) -> bool:
    """Equal, floats up to the last bits (sums over a different number of rows may round differently)."""
    u, v = x.to_pylist(), y.to_pylist()
    if pa.types.is_floating(x.type):
        return all(
            (p is None and q is None)
            or (p is not None and q is not None and math.isclose(p, q, rel_tol=1e-9, abs_tol=1e-6))
            for p, q in zip(u, v, strict=True)
        )
    return u == v


def _panel(
    con: ibis.BaseBackend, stg: dict[str, ibis.Table | None], first: dt.date, last: dt.date
) -> pa.Table:
    clean = relations(stg, month_calendar(first, last))
    return con.to_pyarrow(company_month(clean, first, last).order_by(["siren", "periode"]))


def test_no_feature_looks_ahead(twin_data: tuple[Path, str]) -> None:
    data, batch = twin_data
    con = ibis.duckdb.connect()
    stg: dict[str, ibis.Table | None] = {}
    for name in STAGING_TABLES:
        try:
            stg[name] = read_table(con, data, "staging", name)
        except FileNotFoundError:
            stg[name] = None
    first, last = window(batch, None, None)
    m = add_months(ibis.literal(batch_month(batch).to_timestamp().date()), -9)
    cut = con.to_pyarrow(m.name("m").as_table()).column("m")[0].as_py()
    end_of_m = add_months(ibis.literal(cut), 1)
    cut_stg = dict(stg)
    for name, column in DATED.items():
        t = stg[name]
        if t is not None:
            cut_stg[name] = t.filter(t[column].isnull() | (t[column] < end_of_m))
    dropped = sum(
        con.to_pyarrow(stg[n].count()).as_py() - con.to_pyarrow(cut_stg[n].count()).as_py()  # type: ignore[union-attr]
        for n in DATED
        if stg[n] is not None
    )
    assert dropped > 0
    full, cut_panel = _panel(con, stg, first, last), _panel(con, cut_stg, first, last)
    keep = pa.compute.less_equal(full.column("periode"), pa.scalar(cut, pa.date32()))
    a = full.filter(keep)
    b = cut_panel.filter(pa.compute.less_equal(cut_panel.column("periode"), pa.scalar(cut, pa.date32())))
    assert a.num_rows > 0 and a.num_rows == b.num_rows
    assert a.column("siren").to_pylist() == b.column("siren").to_pylist()
    assert a.column("periode").to_pylist() == b.column("periode").to_pylist()
    changed = [c for c in a.column_names if c not in TARGET and not _same(a.column(c), b.column(c))]
    assert not changed, f"features at months <= {cut} change when later data is dropped: {changed}"
    # the target does look ahead: dropping later judgments changes it (else the test would prove little)
    assert not a.column("failure").equals(b.column("failure"))
