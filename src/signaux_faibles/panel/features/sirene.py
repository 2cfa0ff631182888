"""Company attributes from SIRENE (sector, legal form, location, age, size) and its active period."""

from __future__ import annotations

import ibis

from signaux_faibles.panel.clean._common import month_start
from signaux_faibles.panel.features.feature import Feature

__all__ = ["FEATURES", "company_attributes"]

_G = "autres"

#: Size classes on effectif_ent (upper bounds excluded): INSEE-like bands.
SIZE_BANDS = ((10, "0-9"), (50, "10-49"), (250, "50-249"))

FEATURES = (
    Feature(
        "code_ape", "Main activity (NAF rev2 code) of the company", "clean_sirene_ul", "current", "code", _G
    ),
    Feature("naf_section", "NAF rev2 section (letter)", "clean_sirene_ul", "current", "code", _G),
    Feature(
        "statut_juridique", "Legal category (INSEE niveau III)", "clean_sirene_ul", "current", "code", _G
    ),
    Feature("departement", "Département of the head office", "clean_sirene_ul", "current", "code", _G),
    Feature("region", "Region of the head office", "clean_sirene_ul", "current", "label", _G),
    Feature(
        "nb_etablissements",
        "Establishments of the company known to SIRENE",
        "clean_sirene",
        "current",
        "count",
        _G,
    ),
    Feature(
        "nb_departements",
        "Distinct départements of those establishments",
        "clean_sirene",
        "current",
        "count",
        _G,
    ),
    Feature("date_creation", "Creation date of the company", "clean_sirene_ul", "current", "date", _G),
    Feature(
        "age_entreprise",
        "Whole years from the creation date to the month",
        "clean_sirene_ul",
        "month",
        "years",
        _G,
    ),
    Feature(
        "taille",
        "Size class on effectif_ent (else effectif): 0-9, 10-49, 50-249, 250+",
        "clean_effectif_ent",
        "month",
        "label",
        _G,
    ),
)


def company_attributes(
    clean_sirene_ul: ibis.Table | None, clean_sirene: ibis.Table | None, clean_sirene_histo: ibis.Table | None
) -> ibis.Table | None:
    """One row per SIREN: ``code_ape, naf_section, statut_juridique, departement, region, nb_etablissements,
    nb_departements, date_creation, date_fermeture`` (the first day of the month after which the company is
    closed: every establishment's last SIRENE period inactive and the unit not active; NULL when not closed)."""
    if clean_sirene_ul is None:
        return None
    u = clean_sirene_ul
    t = u.select(
        siren=u.siren,
        code_ape=u.activite_principale,
        naf_section=u.naf_section,
        statut_juridique=u.categorie_juridique,
        departement=u.departement,
        region=u.libelle_region,
        date_creation=u.creation,
        _actif=u.est_actif,
    )
    if clean_sirene is not None:
        s = clean_sirene
        e = s.group_by(_k=s.siren).agg(
            nb_etablissements=s.siret.nunique(), nb_departements=s.departement.nunique()
        )
        t = t.left_join(e, t.siren == e._k).drop("_k")
    else:
        t = t.mutate(nb_etablissements=ibis.null("int64"), nb_departements=ibis.null("int64"))
    if clean_sirene_histo is not None:
        h = clean_sirene_histo
        w = ibis.window(group_by=h.siret, order_by=h.date_debut.desc())
        last = h.mutate(_rn=ibis.row_number().over(w))
        last = last.filter(last._rn == 0)
        last = last.mutate(_siren=last.siret.substr(0, 9))
        closed = last.group_by(_k=last._siren).agg(
            _all_closed=(~last.est_actif.fill_null(True)).all(), _date=last.date_debut.max()
        )
        t = t.left_join(closed, t.siren == closed._k).drop("_k")
        t = t.mutate(
            date_fermeture=ibis.ifelse(
                (~t._actif.fill_null(True)) & t._all_closed.fill_null(False),
                month_start(t._date),
                ibis.null("date"),
            )
        ).drop("_all_closed", "_date")
    else:
        t = t.mutate(date_fermeture=ibis.null("date"))
    return t.drop("_actif")
