"""CCSF per SIREN and month: plans d'apurement granted by the Commission des chefs des services financiers
(``clean_ccsf``, stade ``APPROB``). An event counts from the month of its ``date_traitement``: no look-ahead."""

from __future__ import annotations

import ibis

from signaux_faibles.panel.clean._common import month_start, months_between
from signaux_faibles.panel.features._util import month_events
from signaux_faibles.panel.features.feature import Feature

__all__ = ["CCSF_RECENT_MONTHS", "FEATURES", "ccsf_features"]

_G = "dette URSSAF"

#: A plan granted within this many months (the month itself included) is "recent".
CCSF_RECENT_MONTHS = 12

FEATURES = (
    Feature(
        "ccsf_recent",
        f"1 when a CCSF plan was granted (stade APPROB) in the {CCSF_RECENT_MONTHS} months up to the month, "
        "0 otherwise (also when the company never had one)",
        "clean_ccsf (stg_ccsf)",
        f"{CCSF_RECENT_MONTHS} months",
        "flag",
        _G,
    ),
    Feature(
        "ccsf_mois_depuis",
        "Months from the latest CCSF plan granted (stade APPROB, month of date_traitement) to the month; NULL "
        "when none yet",
        "clean_ccsf",
        "as of month",
        "months",
        _G,
    ),
)


def ccsf_features(clean_ccsf: ibis.Table | None, calendar: ibis.Table) -> ibis.Table | None:
    """``(siren, periode, ccsf_recent, ccsf_mois_depuis)`` for the months at or after a SIREN's first plan."""
    if clean_ccsf is None:
        return None
    c = clean_ccsf.filter((clean_ccsf.stade == "APPROB") & clean_ccsf.date_traitement.notnull())
    c = c.select(siren=c.siren, periode=month_start(c.date_traitement)).distinct()
    m = month_events(c.mutate(_plan=ibis.literal(1)), "siren", ["_plan"], calendar, unique=True)
    since = months_between(m.asof_date, m.periode)
    return m.select(
        "siren",
        "periode",
        ccsf_recent=(since < CCSF_RECENT_MONTHS).cast("float64"),
        ccsf_mois_depuis=since.cast("int64"),
    )
