"""The monthly company panel (SIREN × month): for now the spine and the target only; features come next.

``company_month(companies, calendar, clean_procol)`` gives one row per SIREN of ``companies`` and month of
``calendar`` with:

- ``date_premier_jugement``: the company's first judgment since 2014 (``clean_procol``, any action);
- ``failure_18m``: the target, true when that judgment falls on or before ``periode + 18 months`` (so months
  after the judgment are positive too, the "signaux forts", as the real system's ``TargetVariable``).
"""

from __future__ import annotations

import datetime as dt

import ibis

from signaux_faibles.panel.clean._common import add_months

__all__ = ["HORIZON_MONTHS", "company_month"]

HORIZON_MONTHS = 18
FIRST_JUDGMENT_SINCE = dt.date(2014, 1, 1)


def company_month(companies: ibis.Table, calendar: ibis.Table, clean_procol: ibis.Table) -> ibis.Table:
    """``(siren, periode, date_premier_jugement, failure_18m)``."""
    spine = companies.select("siren").distinct().cross_join(calendar.select("periode"))
    p = clean_procol.filter(clean_procol.date_effet >= FIRST_JUDGMENT_SINCE)
    first = p.group_by(j_siren=p.siren).agg(date_premier_jugement=p.date_effet.min())
    j = spine.left_join(first, spine.siren == first.j_siren)
    return j.select(
        "siren",
        "periode",
        "date_premier_jugement",
        failure_18m=(j.date_premier_jugement <= add_months(j.periode, HORIZON_MONTHS)).fill_null(False),
    )
