"""Company groups per SIREN and month (Ellisphere, ``clean_ellisphere``), and the group head's proceedings.

Ellisphere is delivered as a stock without dates: membership is the latest file's, applied to every month (the
real system had no history either). The head's proceedings come from ``clean_procol_at_date`` at the month: no
look-ahead there.
"""

from __future__ import annotations

import ibis

from signaux_faibles.panel.clean import clean_procol_at_date
from signaux_faibles.panel.features._util import grid
from signaux_faibles.panel.features.feature import Feature

__all__ = ["FEATURES", "group_features"]

_G = "autres"

FEATURES = (
    Feature(
        "groupe",
        "1 when the company belongs to a group (a member or the head of an Ellisphere group)",
        "clean_ellisphere (stg_ellisphere)",
        "latest file (a stock without dates)",
        "flag",
        _G,
    ),
    Feature(
        "groupe_tete_en_procol",
        "1 when the head of one of the company's groups (another SIREN) is in collective proceedings at the month "
        "(open proceeding of clean_procol_at_date), 0 otherwise; NULL outside groups",
        "clean_ellisphere, clean_procol",
        "as of month",
        "flag",
        _G,
    ),
)


def group_features(
    clean_ellisphere: ibis.Table | None, clean_procol: ibis.Table | None, calendar: ibis.Table
) -> ibis.Table | None:
    """``(siren, periode, groupe, groupe_tete_en_procol)`` for every month of the members of a group."""
    if clean_ellisphere is None:
        return None
    e = clean_ellisphere
    heads = e.filter(e.siren_tete.notnull() & (e.siren_tete != e.siren)).select(_m=e.siren, _h=e.siren_tete)
    g = grid(e.select("siren"), calendar)
    if clean_procol is None:
        return g.mutate(groupe=ibis.literal(1.0), groupe_tete_en_procol=ibis.literal(0.0))
    p = clean_procol_at_date(clean_procol, calendar).select(_ps="siren", _pp="periode")
    hp = heads.join(calendar.select(_c=calendar.periode), [], how="cross")
    hp = (
        hp.join(p, [hp._h == p._ps, hp._c == p._pp])
        .select("_m", "_c")
        .distinct()
        .mutate(_in=ibis.literal(1.0))
    )
    out = g.left_join(hp, [g.siren == hp._m, g.periode == hp._c]).drop("_m", "_c")
    return out.select(
        "siren", "periode", groupe=ibis.literal(1.0), groupe_tete_en_procol=out._in.fill_null(0.0)
    )
