"""The series tables, what the company and establishment pages show: ``company_months``, ``diane_statements``,
``bdf_statements``, ``procol_events``, ``payment_records`` (Altares paydex and FPI), ``ccsf_events``,
``group_members`` (Ellisphere), ``establishment_months`` and ``delais`` (per SIRET); replaced as a whole by the latest
snapshot at each publication.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

# the DIANE fields published per exercise (``clean_diane``), after the key columns
from ...contract import DIANE_FIELDS as DIANE_FIELDS
from .base import Base

#: Panel columns published per SIREN × month (``panel/company_month``), in table order after (siren, periode).
SERIES_FIELDS = (
    "cotisation",
    "montant_part_ouvriere",
    "montant_part_patronale",
    "delai_montant_echeancier",
    "delai_nb_jours_restants",
    "effectif",
    "effectif_ent",
    "apart_heures_autorisees",
    "apart_heures_consommees",
    "etat_proc_collective",
)


class CompanyMonth(Base):
    """The monthly series of a company (SIREN × first day of the month), from the panel."""

    __tablename__ = "company_months"

    siren: Mapped[str] = mapped_column(String(9), primary_key=True)
    periode: Mapped[dt.date] = mapped_column(primary_key=True)
    cotisation: Mapped[float | None] = mapped_column(Float)
    montant_part_ouvriere: Mapped[float | None] = mapped_column(Float)
    montant_part_patronale: Mapped[float | None] = mapped_column(Float)
    delai_montant_echeancier: Mapped[float | None] = mapped_column(Float)
    delai_nb_jours_restants: Mapped[int | None] = mapped_column(Integer)
    effectif: Mapped[int | None] = mapped_column(Integer)
    effectif_ent: Mapped[int | None] = mapped_column(Integer)
    apart_heures_autorisees: Mapped[float | None] = mapped_column(Float)
    apart_heures_consommees: Mapped[float | None] = mapped_column(Float)
    etat_proc_collective: Mapped[str | None] = mapped_column(String(32))


class DianeStatement(Base):
    """A DIANE financial statement (SIREN × exercise)."""

    __tablename__ = "diane_statements"

    siren: Mapped[str] = mapped_column(String(9), primary_key=True)
    exercice: Mapped[int] = mapped_column(Integer, primary_key=True)
    arrete_bilan: Mapped[dt.date | None]
    nombre_mois: Mapped[int | None] = mapped_column(Integer)
    date_publication: Mapped[dt.date | None]
    ca: Mapped[float | None] = mapped_column(Float)
    valeur_ajoutee: Mapped[float | None] = mapped_column(Float)
    excedent_brut_d_exploitation: Mapped[float | None] = mapped_column(Float)
    resultat_expl: Mapped[float | None] = mapped_column(Float)
    benefice_ou_perte: Mapped[float | None] = mapped_column(Float)
    capacite_autofinancement: Mapped[float | None] = mapped_column(Float)
    charge_personnel: Mapped[float | None] = mapped_column(Float)
    charges_financieres: Mapped[float | None] = mapped_column(Float)
    dette_fiscale_et_sociale: Mapped[float | None] = mapped_column(Float)
    concours_bancaire_courant: Mapped[float | None] = mapped_column(Float)
    liquidite_generale: Mapped[float | None] = mapped_column(Float)
    liquidite_reduite: Mapped[float | None] = mapped_column(Float)
    endettement: Mapped[float | None] = mapped_column(Float)
    autonomie_financiere: Mapped[float | None] = mapped_column(Float)
    capacite_remboursement: Mapped[float | None] = mapped_column(Float)
    rentabilite_economique: Mapped[float | None] = mapped_column(Float)
    rentabilite_nette: Mapped[float | None] = mapped_column(Float)
    taux_d_investissement_productif: Mapped[float | None] = mapped_column(Float)
    credit_client: Mapped[float | None] = mapped_column(Float)
    credit_fournisseur: Mapped[float | None] = mapped_column(Float)
    effectif_consolide: Mapped[float | None] = mapped_column(Float)


class BdfStatement(Base):
    """The six Banque de France ratios of a closing (SIREN × balance-sheet date)."""

    __tablename__ = "bdf_statements"

    siren: Mapped[str] = mapped_column(String(9), primary_key=True)
    arrete_bilan: Mapped[dt.date] = mapped_column(primary_key=True)
    annee: Mapped[int | None] = mapped_column(Integer)
    date_publication: Mapped[dt.date | None]
    poids_frng: Mapped[float | None] = mapped_column(Float)
    taux_marge: Mapped[float | None] = mapped_column(Float)
    delai_fournisseur: Mapped[float | None] = mapped_column(Float)
    dette_fiscale: Mapped[float | None] = mapped_column(Float)
    financier_court_terme: Mapped[float | None] = mapped_column(Float)
    frais_financier: Mapped[float | None] = mapped_column(Float)


class ProcolEvent(Base):
    """A collective-proceeding event (``clean_procol``)."""

    __tablename__ = "procol_events"

    siren: Mapped[str] = mapped_column(String(9), primary_key=True)
    date_effet: Mapped[dt.date] = mapped_column(primary_key=True)
    action_procol: Mapped[str] = mapped_column(String(32), primary_key=True)
    stade_procol: Mapped[str] = mapped_column(String(64), primary_key=True)
    libelle_procol: Mapped[str | None]


class PaymentRecord(Base):
    """Altares payment behaviour of a company at a value date: paydex (days late, ``clean_paydex``) and the FPI
    alert scores (``clean_fpi``: probability, out of 100, of a payment over 30 or 90 days late)."""

    __tablename__ = "payment_records"

    siren: Mapped[str] = mapped_column(String(9), primary_key=True)
    date_valeur: Mapped[dt.date] = mapped_column(primary_key=True)
    paydex_jours: Mapped[float | None] = mapped_column(Float)
    fpi_30: Mapped[float | None] = mapped_column(Float)
    fpi_90: Mapped[float | None] = mapped_column(Float)


class CcsfEvent(Base):
    """A CCSF event (plan d'apurement of the Commission des chefs des services financiers, ``clean_ccsf``)."""

    __tablename__ = "ccsf_events"
    __table_args__ = (Index("ix_ccsf_events_siren", "siren"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    siret: Mapped[str] = mapped_column(String(14))
    siren: Mapped[str] = mapped_column(String(9))
    numero_compte: Mapped[str | None] = mapped_column(String(32))
    date_traitement: Mapped[dt.date | None]
    stade: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str | None] = mapped_column(String(32))


class GroupMember(Base):
    """A company's membership of a group (Ellisphere, ``clean_ellisphere``): the group, its head, the holding."""

    __tablename__ = "group_members"
    __table_args__ = (Index("ix_group_members_siren", "siren"),)

    code_groupe: Mapped[str] = mapped_column(String(32), primary_key=True)
    siren: Mapped[str] = mapped_column(String(9), primary_key=True)
    siren_tete: Mapped[str | None] = mapped_column(String(9))
    raison_sociale_groupe: Mapped[str | None]
    niveau_detention: Mapped[int | None] = mapped_column(Integer)
    part_financiere: Mapped[float | None] = mapped_column(Float)


class EstablishmentMonth(Base):
    """The monthly series of an establishment (SIRET × first day of the month), from the clean views: effectif
    (``clean_effectif``), cotisations due (``clean_cotisation``), URSSAF debt (``clean_debit``, carried forward
    from its last event), activité partielle in ETP (``clean_ap``)."""

    __tablename__ = "establishment_months"
    __table_args__ = (Index("ix_establishment_months_siren", "siren"),)

    siret: Mapped[str] = mapped_column(String(14), primary_key=True)
    periode: Mapped[dt.date] = mapped_column(primary_key=True)
    siren: Mapped[str] = mapped_column(String(9))
    effectif: Mapped[int | None] = mapped_column(Integer)
    cotisation: Mapped[float | None] = mapped_column(Float)
    part_ouvriere: Mapped[float | None] = mapped_column(Float)
    part_patronale: Mapped[float | None] = mapped_column(Float)
    etp_autorise: Mapped[float | None] = mapped_column(Float)
    etp_consomme: Mapped[float | None] = mapped_column(Float)


class Delai(Base):
    """A payment plan (délai) granted by the URSSAF to an establishment (``clean_delai``)."""

    __tablename__ = "delais"
    __table_args__ = (Index("ix_delais_siren", "siren"), Index("ix_delais_siret", "siret"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    siret: Mapped[str] = mapped_column(String(14))
    siren: Mapped[str] = mapped_column(String(9))
    numero_compte: Mapped[str | None] = mapped_column(String(32))
    numero_contentieux: Mapped[str | None] = mapped_column(String(32))
    date_creation: Mapped[dt.date | None]
    date_echeance: Mapped[dt.date | None]
    duree_delai: Mapped[int | None] = mapped_column(Integer)
    montant_echeancier: Mapped[float | None] = mapped_column(Float)
    stade: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str | None] = mapped_column(String(32))
