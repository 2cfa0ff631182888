"""Financial statements (Banque de France ratios, DIANE) with their publication lag, and Altares paydex.

A balance sheet closed in month m is usable from the first day of month m + 8 (the month after closing, plus 7
months: 31/12 → 01/08) and stays valid 13 months for BdF, 14 for DIANE (OSF-legacy ``entr_bdf.ts``,
``entr_diane.ts``; ``real_system.md`` §2.2). ``date_fin_validite`` is exclusive: the statement applies to the
months ``date_publication <= periode < date_fin_validite``. The panel joins them "as of" the month (the latest
statement published by then and still valid), with a left join + ``row_number`` as STACK.md advises.
"""

from __future__ import annotations

import ibis

from signaux_faibles.panel.clean._common import add_months, drop_blacklisted, month_start

__all__ = ["BDF_RATIOS", "PUBLICATION_LAG_MONTHS", "clean_bdf", "clean_diane", "clean_paydex"]

PUBLICATION_LAG_MONTHS = 7
BDF_VALID_MONTHS = 13
DIANE_VALID_MONTHS = 14
BDF_RATIOS = (
    "poids_frng",
    "taux_marge",
    "delai_fournisseur",
    "dette_fiscale",
    "financier_court_terme",
    "frais_financier",
)
_LINEAGE = {
    "source_line",
    "batch",
    "source_file",
    "luhn_ok",
    "pseudo_siret",
    "siren_luhn_ok",
    "siret_luhn_ok",
}


def _with_publication(t: ibis.Table, closing: str, valid_months: int) -> ibis.Table:
    published = add_months(add_months(month_start(t[closing]), 1), PUBLICATION_LAG_MONTHS)
    t = t.mutate(date_publication=published)
    return t.mutate(date_fin_validite=add_months(t.date_publication, valid_months))


def clean_bdf(stg_bdf: ibis.Table, blacklist: ibis.Table | None = None) -> ibis.Table:
    """``(siren, annee_bdf, arrete_bilan_bdf, <6 ratios>, date_publication, date_fin_validite)``."""
    b = stg_bdf.filter(stg_bdf.siren.notnull() & stg_bdf.arrete_bilan_bdf.notnull())
    b = b.select("siren", "annee_bdf", "arrete_bilan_bdf", *BDF_RATIOS).distinct()
    return _with_publication(drop_blacklisted(b, blacklist), "arrete_bilan_bdf", BDF_VALID_MONTHS)


def clean_diane(stg_diane: ibis.Table, blacklist: ibis.Table | None = None) -> ibis.Table:
    """Every DIANE field per (siren, exercice) with a closing date, plus ``date_publication``, ``date_fin_validite``."""
    cols = [c for c in stg_diane.columns if c not in _LINEAGE]
    d = stg_diane.filter(stg_diane.siren.notnull() & stg_diane.arrete_bilan_diane.notnull()).select(*cols)
    d = d.distinct()
    return _with_publication(drop_blacklisted(d, blacklist), "arrete_bilan_diane", DIANE_VALID_MONTHS)


def clean_paydex(stg_paydex: ibis.Table, blacklist: ibis.Table | None = None) -> ibis.Table:
    """``(siren, periode, date_valeur, nb_jours)``: one paydex per SIREN and month, the latest value of the month.

    Paydex is a flux: the same value delivered twice collapses.
    """
    p = stg_paydex.filter(stg_paydex.siren.notnull() & stg_paydex.date_valeur.notnull())
    p = p.select("siren", "date_valeur", "nb_jours").distinct()
    p = p.mutate(periode=month_start(p.date_valeur))
    w = ibis.window(group_by=[p.siren, p.periode], order_by=[p.date_valeur.desc(), p.nb_jours.desc()])
    p = p.mutate(rn=ibis.row_number().over(w)).filter(lambda t: t.rn == 0)
    return drop_blacklisted(p.select("siren", "periode", "date_valeur", "nb_jours"), blacklist)
