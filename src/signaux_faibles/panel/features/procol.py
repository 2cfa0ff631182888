"""Collective proceedings state per SIREN and month (legacy ``defaillances.ts``, ``procolToHuman.ts``)."""

from __future__ import annotations

import ibis

from signaux_faibles.panel.clean import clean_procol_at_date
from signaux_faibles.panel.features.feature import Feature

__all__ = ["FEATURES", "procol_features"]

_G = "autres"

FEATURES = (
    Feature(
        "etat_proc_collective",
        "State of collective proceedings at the month: in_bonis, sauvegarde, "
        "plan_sauvegarde, plan_redressement, continuation, liquidation (the open proceeding of "
        "clean_procol_at_date; a closed one gives in_bonis)",
        "clean_procol (stg_procol)",
        "as of month",
        "label",
        _G,
    ),
    Feature(
        "date_proc_collective",
        "Date of the judgment behind etat_proc_collective (NULL when in bonis)",
        "clean_procol",
        "as of month",
        "date",
        _G,
    ),
)


def procol_features(clean_procol: ibis.Table | None, calendar: ibis.Table) -> ibis.Table | None:
    """``(siren, periode, etat_proc_collective, date_proc_collective)`` where a proceeding is open."""
    if clean_procol is None:
        return None
    p = clean_procol_at_date(clean_procol, calendar)
    etat = ibis.cases(
        (p.action_procol == "liquidation", "liquidation"),
        ((p.action_procol == "redressement") & (p.stade_procol == "plan_continuation"), "continuation"),
        (p.action_procol == "redressement", "plan_redressement"),
        ((p.action_procol == "sauvegarde") & (p.stade_procol == "plan_continuation"), "plan_sauvegarde"),
        (p.action_procol == "sauvegarde", "sauvegarde"),
        else_="in_bonis",
    )
    return p.select("siren", "periode", etat_proc_collective=etat, date_proc_collective=p.date_effet)
