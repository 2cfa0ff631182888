"""Activité partielle per SIREN and month (legacy ``apart.ts``): hours authorised, consumed, consumed since the
start of the current authorisation run; ``ratio_apart`` is computed on the panel (it needs ``effectif``)."""

from __future__ import annotations

import ibis

from signaux_faibles.panel.clean._common import HOURS_PER_MONTH, month_start
from signaux_faibles.panel.features._util import grid
from signaux_faibles.panel.features.feature import Feature

__all__ = ["FEATURES", "ap_features"]

_G = "activité partielle"

FEATURES = (
    Feature(
        "apart_heures_autorisees",
        "Hours of activité partielle authorised for the month (each request's "
        "hours on every month from its start to its end month, counted only from the month of its decision, "
        "date_statut), summed over the SIRETs",
        "clean_ap (stg_apdemande)",
        "month",
        "hours",
        _G,
    ),
    Feature(
        "apart_heures_consommees",
        "Hours of activité partielle consumed in the month, summed over the SIRETs",
        "clean_ap (stg_apconso)",
        "month",
        "hours",
        _G,
    ),
    Feature(
        "apart_heures_consommees_cumulees",
        "Hours consumed since the start of the current run of consecutive "
        "months with an authorisation (0 outside a run)",
        "clean_ap",
        "authorisation run",
        "hours",
        _G,
    ),
    Feature(
        "ratio_apart",
        f"apart_heures_consommees / (effectif × {HOURS_PER_MONTH})",
        "clean_ap, clean_effectif",
        "month",
        "ratio",
        _G,
    ),
)


def ap_features(clean_ap: ibis.Table | None, calendar: ibis.Table) -> ibis.Table | None:
    """``(siren, periode, apart_heures_autorisees, apart_heures_consommees, apart_heures_consommees_cumulees)``."""
    if clean_ap is None:
        return None
    a = clean_ap
    s = a.group_by(_k=a.siren, _p=month_start(a.periode)).agg(
        apart_heures_autorisees=(a.etp_autorise_decide.sum() * HOURS_PER_MONTH).round(2),
        apart_heures_consommees=(a.etp_consomme.sum() * HOURS_PER_MONTH).round(2),
    )
    t = grid(a.select("siren"), calendar)
    t = t.left_join(s, [t.siren == s._k, t.periode == s._p]).drop("_k", "_p")
    t = t.mutate(
        apart_heures_autorisees=t.apart_heures_autorisees.fill_null(0.0),
        apart_heures_consommees=t.apart_heures_consommees.fill_null(0.0),
    )
    running = t.apart_heures_autorisees > 0
    w = ibis.window(group_by=t.siren, order_by=t.periode, preceding=None, following=0)
    t = t.mutate(_run=(~running).cast("int64").sum().over(w), _on=running)
    w2 = ibis.window(group_by=[t.siren, t._run], order_by=t.periode, preceding=None, following=0)
    t = t.mutate(
        # the group of a run also holds the unauthorised month just before it: count only the run's months
        apart_heures_consommees_cumulees=ibis.ifelse(
            t._on, ibis.ifelse(t._on, t.apart_heures_consommees, 0.0).sum().over(w2), 0.0
        )
    )
    return t.select("siren", "periode", *(f.name for f in FEATURES if f.name != "ratio_apart"))
