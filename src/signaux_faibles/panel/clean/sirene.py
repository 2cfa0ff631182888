"""SIRENE clean relations and the perimeter (migrations ``037``, ``038``, ``044``, ``049``; ``042`` for the filter).

SIRENE relations are not restricted to the perimeter (the front end needs every company) except
``clean_sirene_histo``, which drops blacklisted SIRENs as the real view does.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from signaux_faibles.panel.clean._common import drop_blacklisted, siren_of
from signaux_faibles.panel.clean.labels import categories_juridiques_table, departements_table, naf_table

__all__ = ["clean_filter", "clean_sirene", "clean_sirene_histo", "clean_sirene_ul"]


def _blank_to_null(v: ir.StringValue) -> ir.StringValue:
    return v.strip().nullif("")


def clean_sirene(stg_sirene: ibis.Table) -> ibis.Table:
    """Establishments: ``siren, siret, siege, adresse, code_commune, departement, libelle_departement, region,
    libelle_region, ape, naf_section, date_creation, longitude, latitude, est_actif``.

    ``adresse``: street line (number, repetition index, street type and name, complement in brackets), then a new
    line with postcode and commune (or foreign commune, and the foreign country on a third line).
    """
    s = stg_sirene
    complement = _blank_to_null(s.complement_adresse)
    street = ibis.literal(" ").join(
        [
            _blank_to_null(s.numero_voie),
            _blank_to_null(s.indrep),
            _blank_to_null(s.type_voie),
            _blank_to_null(s.voie),
            ibis.ifelse(complement.notnull(), "(" + complement + ")", ibis.null("string")),
        ]
    )
    town = ibis.literal(" ").join(
        [
            _blank_to_null(s.code_postal),
            ibis.coalesce(_blank_to_null(s.commune), _blank_to_null(s.commune_etranger)),
        ]
    )
    country = _blank_to_null(s.pays_etranger)
    adresse = (
        street.fill_null("") + "\n" + town.fill_null("") + ibis.ifelse(country.notnull(), "\n" + country, "")
    ).strip()
    s = s.mutate(adresse=adresse)
    ldr = departements_table()
    naf = naf_table()
    j = s.left_join(ldr, s.departement == ldr.departement).left_join(naf, s.ape == naf.niv5)
    return j.select(
        siren=s.siren,
        siret=s.siret,
        siege=s.siege,
        adresse=j.adresse,
        code_commune=s.code_commune,
        departement=s.departement,
        libelle_departement=j.libelle_departement,
        region=j.region,
        libelle_region=j.libelle_region,
        ape=s.ape,
        naf_section=j.niv1,
        date_creation=s.date_creation,
        longitude=s.longitude,
        latitude=s.latitude,
        est_actif=s.est_actif,
    )


def _raison_sociale(ul: ibis.Table) -> ir.StringValue:
    """The company name, or for a sole trader "nom [nom d'usage] prénoms EI" (empty parts as empty strings, as the
    real parser delivers them, so that the real view's spacing is reproduced)."""

    def part(c: str) -> ir.StringValue:
        return ul[c].fill_null("")

    built = (
        part("nom_unite_legale")
        + " "
        + part("nom_usage_unite_legale")
        + " "
        + part("prenom1_unite_legale")
        + " "
        + part("prenom2_unite_legale")
        + " "
        + part("prenom3_unite_legale")
        + " "
        + part("prenom4_unite_legale")
    ).strip() + " EI"
    has_name = ul.raison_sociale.notnull() & (ul.raison_sociale != "")
    return ibis.ifelse(has_name, ul.raison_sociale, built)


def clean_sirene_ul(stg_sirene_ul: ibis.Table, stg_sirene: ibis.Table) -> ibis.Table:
    """Legal units with labels: legal category, NAF rev2 (sous-classe and section), NAF 2025 (labels left NULL: no
    NAF 2025 nomenclature is shipped yet), head office (``siret_siege``, département, region) and creation date.
    """
    ul = stg_sirene_ul.mutate(raison_sociale=_raison_sociale(stg_sirene_ul))
    if "activite_principale_naf25" not in ul.columns:
        ul = ul.mutate(activite_principale_naf25=ibis.null("string"))
    cj = categories_juridiques_table()
    naf = naf_table()
    siege = stg_sirene.filter(stg_sirene.siege.fill_null(False)).select(
        s_siren=stg_sirene.siren, siret_siege=stg_sirene.siret, departement=stg_sirene.departement
    )
    ldr = departements_table().rename(ldr_departement="departement")
    j = (
        ul.left_join(cj, ul.categorie_juridique == cj.code)
        .left_join(naf, ul.activite_principale == naf.niv5)
        .left_join(siege, ul.siren == siege.s_siren)
    )
    j = j.left_join(ldr, j.departement == ldr.ldr_departement)
    return j.select(
        siren=j.siren,
        raison_sociale=j.raison_sociale,
        categorie_juridique=j.categorie_juridique,
        libelle_categorie_juridique=j.libelle,
        activite_principale=j.activite_principale,
        libelle_activite_principale=j.niv5_libelle,
        naf_section=j.niv1,
        libelle_naf_section=j.niv1_libelle,
        activite_principale_naf25=j.activite_principale_naf25,
        libelle_activite_principale_naf25=ibis.null("string"),
        naf25_section=ibis.null("string"),
        libelle_naf25_section=ibis.null("string"),
        departement=j.departement,
        siret_siege=j.siret_siege,
        libelle_departement=j.libelle_departement,
        region=j.region,
        libelle_region=j.libelle_region,
        creation=j.creation,
        est_actif=j.est_actif,
    )


def clean_sirene_histo(stg_sirene_histo: ibis.Table, blacklist: ibis.Table | None = None) -> ibis.Table:
    """``(siret, date_debut, date_fin, est_actif)``: periods of activity of each establishment.

    Keeps the first period of each SIRET and every period that changes the active state; ``date_fin`` is the day
    before the next kept period starts (NULL for the last).
    """
    h = stg_sirene_histo.filter(stg_sirene_histo.siret.notnull())
    h = drop_blacklisted(h.mutate(siren=siren_of(h.siret)), blacklist)
    h = h.mutate(rk=ibis.rank().over(group_by=h.siret, order_by=h.date_debut))
    kept = h.filter((h.rk == 0) | h.changement_statut_actif.fill_null(False))
    nxt = kept.date_debut.lead().over(group_by=kept.siret, order_by=[kept.rk, kept.date_debut])
    return kept.select(
        "siret",
        "date_debut",
        date_fin=(nxt - ibis.interval(days=1)).cast("date"),
        est_actif=kept.est_actif,
    )


def clean_filter(stg_filter_import: ibis.Table, blacklist: ibis.Table | None = None) -> ibis.Table:
    """``(siren)``: the perimeter, the imported filter minus the blacklist."""
    f = stg_filter_import.filter(stg_filter_import.siren.notnull()).select("siren").distinct()
    return drop_blacklisted(f, blacklist)
