"""The perimeter: which companies (SIREN) the batch keeps (``real_system.md`` §3).

1. ``stg_filter_import`` (as the real system's filter): SIRENs with an ``effectif_ent`` ≥ 10 at least once in the
   last 36 months of the effectif_ent file. "Last 36 months" are the 36 last month columns that hold a value for
   at least one company (trailing all-empty columns ignored), as opensignauxfaibles ``lib/filter/main.go``.
2. The perimeter is that list minus (when SIRENE is known, from this batch or the published staging tables):
   the excluded legal categories, the excluded NAF codes, and companies whose head office is abroad or unknown
   (migration ``042_change_perimeter.sql``).

3. Rows of a batch are filtered with that perimeter taken over the processing window (5 years): a company is kept
   when it had ≥ 10 employees in some month of the last 36 + 60 months with data, so that a company that failed
   three years before the batch keeps its history (no survivor bias in what the model learns from).
   ``stg_filter_import`` keeps the real system's 36-month list (the current perimeter).

Pseudo-SIRETs (ACOSS, NIC starting with 5, 6, 7 or 9) are not excluded: they are flagged (``pseudo_siret``).
"""

from __future__ import annotations

import contextlib

import duckdb
import pyarrow as pa

__all__ = [
    "EXCLUDED_LEGAL_CATEGORIES",
    "MIN_EFFECTIF",
    "N_MONTHS",
    "PROCESSING_MONTHS",
    "apply_exclusions",
    "filter_from_effectif_ent",
]

N_MONTHS = 36
#: Processing window (opensignauxfaibles PR #588: date_fin − 5 years). Rows are filtered with the perimeter over
#: the whole window: a company kept if it had ≥ 10 employees in the 36 months before some month of the window.
PROCESSING_MONTHS = 60
MIN_EFFECTIF = 10

EXCLUDED_LEGAL_CATEGORIES = (
    "4110", "4120", "4140", "4160", "7210", "7220", "7346", "7348", "7366", "7373", "7379", "7383", "7389",
    "7410", "7430", "7470", "7490",
)

#: NAF (APE) exclusions, as SQL LIKE patterns on the code with its dot (``84.11Z``).
EXCLUDED_NAF_PATTERNS = (
    "84.%", "85.1%", "85.2%", "85.3%", "85.4%", "94.1%", "94.2%", "94.9%", "64.%", "65.%", "66.%", "99.00Z",
)


def filter_from_effectif_ent(
    con: duckdb.DuckDBPyConnection, effectif_ent: pa.Table, n_months: int = N_MONTHS, minimum: int = MIN_EFFECTIF
) -> pa.Table:
    """SIRENs with effectif_ent ≥ ``minimum`` in the last ``n_months`` months holding data (one column ``siren``)."""
    con.register("_sf_eff_ent", effectif_ent)
    try:
        return con.sql(
            f"""WITH months AS (SELECT DISTINCT periode FROM _sf_eff_ent WHERE effectif_ent IS NOT NULL),
            last AS (SELECT periode FROM months ORDER BY periode DESC LIMIT {int(n_months)})
            SELECT DISTINCT siren FROM _sf_eff_ent
            WHERE periode IN (SELECT periode FROM last) AND effectif_ent >= {int(minimum)}
              AND regexp_full_match(siren, '[0-9]{{9}}')
            ORDER BY siren"""
        ).to_arrow_table()
    finally:
        con.unregister("_sf_eff_ent")


def apply_exclusions(
    con: duckdb.DuckDBPyConnection,
    sirens: pa.Table,
    sirene_ul: pa.Table | None,
    sirene: pa.Table | None,
) -> tuple[pa.Table, dict[str, int]]:
    """Remove excluded legal categories / NAF codes (from SIRENE UL) and head offices abroad (SIRENE).

    Returns the perimeter (column ``siren``) and the number of SIRENs removed by each rule.
    """
    removed: dict[str, int] = {}
    con.register("_sf_per", sirens)
    current = "SELECT siren FROM _sf_per"
    try:
        if sirene_ul is not None and {"siren", "categorie_juridique", "activite_principale"} <= set(
            sirene_ul.column_names
        ):
            con.register("_sf_ul", sirene_ul)
            cats = ", ".join(f"'{c}'" for c in EXCLUDED_LEGAL_CATEGORIES)
            nafs = " OR ".join(f"activite_principale LIKE '{p}'" for p in EXCLUDED_NAF_PATTERNS)
            excluded = f"SELECT siren FROM _sf_ul WHERE categorie_juridique IN ({cats}) OR {nafs}"
            removed["legal category or NAF"] = int(
                _count(con, f"SELECT count(*) FROM ({current}) WHERE siren IN ({excluded})")
            )
            current = f"SELECT siren FROM ({current}) WHERE siren NOT IN ({excluded})"
        if sirene is not None and {"siren", "siege", "departement"} <= set(sirene.column_names):
            con.register("_sf_etab", sirene)
            abroad = (
                "SELECT siren FROM _sf_etab GROUP BY siren "
                "HAVING NOT bool_or(coalesce(siege, false) AND coalesce(departement, '') <> '')"
            )
            removed["head office abroad or unknown"] = int(
                _count(con, f"SELECT count(*) FROM ({current}) WHERE siren IN ({abroad})")
            )
            current = f"SELECT siren FROM ({current}) WHERE siren NOT IN ({abroad})"
        return con.sql(f"{current} ORDER BY siren").to_arrow_table(), removed
    finally:
        for name in ("_sf_per", "_sf_ul", "_sf_etab"):
            with contextlib.suppress(duckdb.Error):
                con.unregister(name)


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    rows = con.execute(sql).fetchall()  # fetch all: DuckDB 2 keeps an unfinished result otherwise
    row = rows[0] if rows else None
    return int(row[0]) if row else 0
