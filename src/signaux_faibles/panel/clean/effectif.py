"""Head counts per establishment and per company (migration ``023_change_effectif_views.sql``)."""

from __future__ import annotations

import ibis

from signaux_faibles.panel.clean._common import drop_blacklisted, siren_of

__all__ = ["clean_effectif", "clean_effectif_ent"]


def clean_effectif(stg_effectif: ibis.Table, blacklist: ibis.Table | None = None) -> ibis.Table:
    """``(siret, siren, numero_compte, periode, effectif, is_latest)``: monthly head count per SIRET.

    ``is_latest`` marks the SIRET's last month with a row. Months without a value have no row: the panel carries
    the last known value forward (and flags it).
    """
    e = stg_effectif.filter(stg_effectif.siret.notnull() & stg_effectif.periode.notnull())
    e = e.select("siret", "numero_compte", "periode", "effectif").distinct()
    e = drop_blacklisted(e.mutate(siren=siren_of(e.siret)), blacklist)
    return e.mutate(is_latest=e.periode == e.periode.max().over(group_by=e.siret))


def clean_effectif_ent(stg_effectif_ent: ibis.Table, blacklist: ibis.Table | None = None) -> ibis.Table:
    """``(siren, periode, effectif_ent, is_latest)``: monthly head count per SIREN."""
    e = stg_effectif_ent.filter(stg_effectif_ent.siren.notnull() & stg_effectif_ent.periode.notnull())
    e = drop_blacklisted(e.select("siren", "periode", "effectif_ent").distinct(), blacklist)
    return e.mutate(is_latest=e.periode == e.periode.max().over(group_by=e.siren))
