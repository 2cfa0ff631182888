"""Financial statements (Banque de France ratios, DIANE) with their publication lag, and Altares paydex and FPI.

A balance sheet closed in month m is usable from the first day of month m + 8 (the month after closing, plus 7
months: 31/12 → 01/08) and stays valid 13 months for BdF, 14 for DIANE (OSF-legacy ``entr_bdf.ts``,
``entr_diane.ts``; ``real_system.md`` §2.2). ``date_fin_validite`` is exclusive: the statement applies to the
months ``date_publication <= periode < date_fin_validite``. The panel joins them "as of" the month (the latest
statement published by then and still valid), with a left join + ``row_number`` as STACK.md advises.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis

from signaux_faibles.panel.clean._common import add_months, drop_blacklisted, month_start

__all__ = ["BDF_RATIOS", "PUBLICATION_LAG_MONTHS", "clean_bdf", "clean_diane", "clean_fpi", "clean_paydex"]

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


def _altares(tables: Sequence[ibis.Table], cols: dict[str, str]) -> ibis.Table | None:
    """The Altares staging tables (stock, increment, datapi) as one table of ``cols`` (name → type)."""
    parts = [t.select(siren=t.siren, date_valeur=t.date_valeur, **{c: t[c].cast(ty) for c, ty in cols.items()})
             for t in tables]  # fmt: skip
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else parts[0].union(*parts[1:], distinct=False)


def _latest_of_month(p: ibis.Table, cols: list[str]) -> ibis.Table:
    """One row per (siren, month of ``date_valeur``): the latest value of the month (ties: largest ``cols``)."""
    p = p.filter(p.siren.notnull() & p.date_valeur.notnull()).select("siren", "date_valeur", *cols).distinct()
    p = p.mutate(periode=month_start(p.date_valeur))
    order = [p.date_valeur.desc(), *(p[c].desc(nulls_first=False) for c in cols)]
    w = ibis.window(group_by=[p.siren, p.periode], order_by=order)
    p = p.mutate(rn=ibis.row_number().over(w)).filter(lambda t: t.rn == 0)
    return p.select("siren", "periode", "date_valeur", *cols)


def clean_paydex(
    stg_paydex: ibis.Table | None, blacklist: ibis.Table | None = None, *, altares: Sequence[ibis.Table] = ()
) -> ibis.Table:
    """``(siren, periode, date_valeur, nb_jours)``: one paydex per SIREN and month, the latest value of the month.

    From the legacy retro file (``stg_paydex``) and the Altares files (``altares``: ``stg_altares_stock``,
    ``stg_altares_increment``, ``stg_altares_datapi``; their ``nbr_jrs_retard``). Paydex is a flux: the same
    value delivered twice (or by two files) collapses.
    """
    parts = (
        []
        if stg_paydex is None
        else [stg_paydex.select("siren", "date_valeur", nb_jours=stg_paydex.nb_jours)]
    )
    alt = _altares([t.mutate(nb_jours=t.nbr_jrs_retard) for t in altares], {"nb_jours": "int32"})
    if alt is not None:
        parts.append(alt.filter(alt.nb_jours.notnull()))
    if not parts:
        raise ValueError("clean_paydex needs stg_paydex or an Altares table")
    parts = [p.mutate(nb_jours=p.nb_jours.cast("int32")) for p in parts]
    p = parts[0] if len(parts) == 1 else parts[0].union(*parts[1:], distinct=False)
    return drop_blacklisted(_latest_of_month(p, ["nb_jours"]), blacklist)


def clean_fpi(altares: Sequence[ibis.Table], blacklist: ibis.Table | None = None) -> ibis.Table:
    """``(siren, periode, date_valeur, fpi_30, fpi_90)``: one row per SIREN and month, the latest value of the
    month among the rows that carry an FPI (``fpi_30`` or ``fpi_90`` not NULL), as delivered (out of 100).

    ``altares``: the Altares staging tables present (stock, increment, datapi), unioned.
    """
    p = _altares(altares, {"fpi_30": "float64", "fpi_90": "float64"})
    if p is None:
        raise ValueError("clean_fpi needs at least one Altares table")
    p = p.filter(p.fpi_30.notnull() | p.fpi_90.notnull())
    return drop_blacklisted(_latest_of_month(p, ["fpi_30", "fpi_90"]), blacklist)
