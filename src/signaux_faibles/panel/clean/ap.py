"""Activité partielle per establishment and month (migration ``039_fix_clean_ap.sql``)."""

from __future__ import annotations

import ibis

from signaux_faibles.panel.clean._common import (
    HOURS_PER_MONTH,
    add_months,
    drop_blacklisted,
    month_start,
    months_between,
    siren_of,
)
from signaux_faibles.panel.clean.labels import motif_recours_table

__all__ = ["clean_ap"]


def clean_ap(
    stg_apconso: ibis.Table, stg_apdemande: ibis.Table, blacklist: ibis.Table | None = None
) -> ibis.Table:
    """``(siret, siren, periode, etp_autorise, etp_consomme, motif_recours, is_last, etp_autorise_decide)``.

    - Authorised (demandes): every month from the month of ``periode_debut`` to the month of ``periode_fin``
      (both included) gets the request's authorised hours / 151.67 (the whole amount each month, as the real
      view), and the label of its reason.
    - Consumed (consommations): hours / 151.67 at ``periode`` as delivered (the real view keeps the raw day of
      ``MOIS``); ``is_last`` marks rows of the latest consumption month of the whole file.
    - Summed per (siret, periode); reasons listed once each, sorted, joined by ``; ``.
    - ``etp_autorise_decide`` (not in the real view, which has no decision date; extra column, same grain): the
      part of ``etp_autorise`` from requests already decided at that month (month of ``date_statut`` <=
      ``periode``; a request without ``date_statut`` counts from its start, as the real view). The features read
      this column so that an authorisation decided after its start month counts only from its decision month
      (no look-ahead).
    """
    d = stg_apdemande.filter(
        stg_apdemande.siret.notnull()
        & stg_apdemande.periode_debut.notnull()
        & stg_apdemande.periode_fin.notnull()
    )
    labels = motif_recours_table()
    d = d.left_join(labels, d.motif_recours == labels.id)
    d = d.mutate(n_months=months_between(d.periode_debut, d.periode_fin))
    d = d.mutate(k=ibis.range(0, d.n_months + 1)).unnest("k")
    d = d.mutate(_periode=add_months(month_start(d.periode_debut), d.k))
    if "date_statut" in d.columns:
        decided = d.date_statut.isnull() | (month_start(d.date_statut) <= d._periode)
    else:  # no decision date delivered: every request counts from its start
        decided = ibis.literal(True)
    demandes = d.select(
        siret=d.siret,
        periode=d._periode,
        etp_autorise=(d.heures / HOURS_PER_MONTH).fill_null(0.0),
        etp_consomme=ibis.literal(0.0),
        motif_recours=d.label,
        is_last=ibis.null("boolean"),
        etp_autorise_decide=ibis.ifelse(decided, (d.heures / HOURS_PER_MONTH).fill_null(0.0), 0.0),
    )
    c = stg_apconso.filter(stg_apconso.siret.notnull() & stg_apconso.periode.notnull())
    conso = c.select(
        siret=c.siret,
        periode=c.periode,
        etp_autorise=ibis.literal(0.0),
        etp_consomme=(c.heures / HOURS_PER_MONTH).fill_null(0.0),
        motif_recours=ibis.null("string"),
        is_last=c.periode == c.periode.max().over(),
        etp_autorise_decide=ibis.literal(0.0),
    )
    u = demandes.union(conso)
    u = drop_blacklisted(u.mutate(siren=siren_of(u.siret)), blacklist)
    return u.group_by(["siret", "siren", "periode"]).agg(
        etp_autorise=u.etp_autorise.sum(),
        etp_consomme=u.etp_consomme.sum(),
        motif_recours=u.motif_recours.collect(distinct=True).sort().join("; ").nullif(""),
        is_last=u.is_last.any().fill_null(False),
        etp_autorise_decide=u.etp_autorise_decide.sum(),
    )
