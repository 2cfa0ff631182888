"""The platform database schema (SQLAlchemy 2 declarative, typed).

One ``Base`` for every table of the platform; each family of tables lives in its own section (and may move to its
own module as the schema grows). Any change here needs a
new Alembic revision under ``platform/migrations/versions/`` (a test checks the models and the migrations agree).

Families:

- **identity** (``companies``, ``establishments``): SIRENE identity, upserted at each publication (never deleted,
  so that other tables may reference them); ``snapshot_batch`` is the batch of the last publication that carried
  the row.
- **series** (``company_months``, ``diane_statements``, ``bdf_statements``, ``procol_events``): what the company
  page charts, replaced as a whole by the latest snapshot at each publication.
- **lists** (``publications``, ``lists``, ``scores``, ``list_changes``): the monthly risk lists, kept for history;
  re-publishing a batch (same algo) replaces that list's rows, its id stays.
- **accounts** (``organisations``, ``users``, ``web_sessions``, ``api_tokens``, ``follows``, ``open_regions``):
  who may log in, with which territory and data rights; server-side sessions (the cookie holds a random token,
  the table its SHA-256) and personal API tokens (hashed likewise); the companies each user follows; the régions
  where the platform is open (regional roll-out; ``FR`` = the whole country).
- **work** (``comments``, ``cases``, ``case_participants``, ``case_measures``, ``suggestion_decisions``,
  ``codefi_imports``, ``codefi_alerts``): what agents record — threaded comments, accompaniment cases with their
  participants and support measures, the suggested measures confirmed or discarded, the DGFiP/CODEFI alert lists.
- **audit** (``audit_events``): one typed row per access to confidential data, login, export, denied or
  out-of-territory access and admin change, written in the transaction of the action.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "AUDIT_EVENTS",
    "CASE_STATES",
    "DIANE_FIELDS",
    "MEASURES",
    "MEASURE_STATUSES",
    "SERIES_FIELDS",
    "ApiToken",
    "AuditEvent",
    "Base",
    "BdfStatement",
    "Case",
    "CaseMeasure",
    "CaseParticipant",
    "CodefiAlert",
    "CodefiImport",
    "Comment",
    "Company",
    "CompanyMonth",
    "DianeStatement",
    "Establishment",
    "Follow",
    "List",
    "ListChange",
    "LoginAttempt",
    "OpenRegion",
    "Organisation",
    "ProcolEvent",
    "Publication",
    "Score",
    "SuggestionDecision",
    "User",
    "WebSession",
]

#: Constraint names fixed by convention, so that migrations name them the same on every database.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: JSON on every database, JSONB on PostgreSQL.
Json = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {  # noqa: RUF012
        dict[str, Any]: Json,
        list[Any]: Json,
        str: String,
        dt.date: Date,
        dt.datetime: DateTime(timezone=True),
    }


# --------------------------------------------------------------------------------------------------- identity


class Company(Base):
    """A legal unit (SIREN), from ``clean_sirene_ul``; NULL identity when SIRENE does not know it."""

    __tablename__ = "companies"

    siren: Mapped[str] = mapped_column(String(9), primary_key=True)
    raison_sociale: Mapped[str | None]
    categorie_juridique: Mapped[str | None] = mapped_column(String(4))
    libelle_categorie_juridique: Mapped[str | None]
    activite_principale: Mapped[str | None] = mapped_column(String(6))
    libelle_activite_principale: Mapped[str | None]
    naf_section: Mapped[str | None] = mapped_column(String(1))
    libelle_naf_section: Mapped[str | None]
    siret_siege: Mapped[str | None] = mapped_column(String(14))
    departement: Mapped[str | None] = mapped_column(String(3), index=True)
    libelle_departement: Mapped[str | None]
    region: Mapped[str | None] = mapped_column(String(2), index=True)
    libelle_region: Mapped[str | None]
    creation: Mapped[dt.date | None]
    est_actif: Mapped[bool | None]
    snapshot_batch: Mapped[str] = mapped_column(String(16))


#: PostgreSQL only: a trigram index for the name search (``lower(raison_sociale) LIKE '%…%'``, the list filter ``q``
#: and ``/recherche``); without it PostgreSQL scans every company for each search (extension ``pg_trgm``, created
#: by migration 0004). SQLite scans the names, which is fast enough there.
Index(
    "ix_companies_raison_sociale_trgm",
    func.lower(Company.__table__.c.raison_sociale).label("raison_sociale_lower"),
    postgresql_using="gin",
    postgresql_ops={"raison_sociale_lower": "gin_trgm_ops"},
).ddl_if(dialect="postgresql")

class Establishment(Base):
    """An establishment (SIRET), from ``clean_sirene``."""

    __tablename__ = "establishments"

    siret: Mapped[str] = mapped_column(String(14), primary_key=True)
    siren: Mapped[str] = mapped_column(String(9), ForeignKey("companies.siren"), index=True)
    siege: Mapped[bool | None]
    adresse: Mapped[str | None] = mapped_column(Text)
    code_commune: Mapped[str | None] = mapped_column(String(5))
    departement: Mapped[str | None] = mapped_column(String(3), index=True)
    libelle_departement: Mapped[str | None]
    region: Mapped[str | None] = mapped_column(String(2), index=True)
    libelle_region: Mapped[str | None]
    ape: Mapped[str | None] = mapped_column(String(6))
    date_creation: Mapped[dt.date | None]
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    est_actif: Mapped[bool | None]
    snapshot_batch: Mapped[str] = mapped_column(String(16))


# ----------------------------------------------------------------------------------------------------- series

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


#: DIANE fields published per exercise (``clean_diane``), after the key columns.
DIANE_FIELDS = (
    "ca",
    "valeur_ajoutee",
    "excedent_brut_d_exploitation",
    "resultat_expl",
    "benefice_ou_perte",
    "capacite_autofinancement",
    "charge_personnel",
    "charges_financieres",
    "dette_fiscale_et_sociale",
    "concours_bancaire_courant",
    "liquidite_generale",
    "liquidite_reduite",
    "endettement",
    "autonomie_financiere",
    "capacite_remboursement",
    "rentabilite_economique",
    "rentabilite_nette",
    "taux_d_investissement_productif",
    "credit_client",
    "credit_fournisseur",
    "effectif_consolide",
)


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


# ------------------------------------------------------------------------------------------------------ lists


class Publication(Base):
    """One run of ``signaux-faibles publish`` that committed (written in its transaction)."""

    __tablename__ = "publications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch: Mapped[str] = mapped_column(String(16))
    published_at: Mapped[dt.datetime]
    companies: Mapped[int] = mapped_column(BigInteger)
    establishments: Mapped[int] = mapped_column(BigInteger)
    company_months: Mapped[int] = mapped_column(BigInteger)
    scores: Mapped[int] = mapped_column(BigInteger)
    seconds: Mapped[float] = mapped_column(Float)


class List(Base):
    """A published monthly risk list; one per (batch, algo)."""

    __tablename__ = "lists"
    __table_args__ = (UniqueConstraint("batch", "algo"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch: Mapped[str] = mapped_column(String(16))
    algo: Mapped[str] = mapped_column(String(64))
    label: Mapped[str]  # "Septembre 2026" (the real system's idListe)
    periode: Mapped[dt.date]
    published_at: Mapped[dt.datetime]
    threshold_high: Mapped[float | None] = mapped_column(Float)
    threshold_moderate: Mapped[float | None] = mapped_column(Float)
    previous_batch: Mapped[str | None] = mapped_column(String(16))


class Score(Base):
    """A company's line on a list (``lists/<AAMM>/scores.parquet``)."""

    __tablename__ = "scores"
    __table_args__ = (
        Index("ix_scores_siren", "siren"),
        Index("ix_scores_list_rank", "list_id", "rank"),
        Index("ix_scores_list_alert_rank", "list_id", "alert", "rank"),  # the alerted rows of a list, by rank
    )

    list_id: Mapped[int] = mapped_column(ForeignKey("lists.id", ondelete="CASCADE"), primary_key=True)
    siren: Mapped[str] = mapped_column(String(9), primary_key=True)
    siret: Mapped[str | None] = mapped_column(String(14))
    algo: Mapped[str] = mapped_column(String(64))
    rank: Mapped[int] = mapped_column(BigInteger)
    probability: Mapped[float] = mapped_column(Float)
    alert: Mapped[str] = mapped_column(String(32))
    alert_pre_adjustment: Mapped[str] = mapped_column(String(32))
    adjustments: Mapped[list[Any]]
    base_probability: Mapped[float | None] = mapped_column(Float)
    macro_expl: Mapped[dict[str, Any] | None]
    micro_expl: Mapped[dict[str, Any] | None]
    what_if: Mapped[dict[str, Any] | None]
    first_alert: Mapped[bool]
    first_high_alert: Mapped[bool]
    hausse_urssaf: Mapped[bool | None]
    ap_12m: Mapped[bool | None]
    etat_proc_collective: Mapped[str | None] = mapped_column(String(32))
    dette_urssaf: Mapped[float | None] = mapped_column(Float)
    # a first collective-proceedings judgment is known at the batch: never alerted, shown apart (issue 19)
    procedure_en_cours: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    etat_procol: Mapped[str | None] = mapped_column(String(32))
    date_procol: Mapped[dt.date | None]
    # the term structure: probability of a first judgment within 3, 6 and 12 months (18 months: ``probability``)
    probability_3m: Mapped[float | None] = mapped_column(Float)
    probability_6m: Mapped[float | None] = mapped_column(Float)
    probability_12m: Mapped[float | None] = mapped_column(Float)


class ListChange(Base):
    """The diff of a list against the previous one (``lists/<AAMM>/diff.parquet``)."""

    __tablename__ = "list_changes"

    list_id: Mapped[int] = mapped_column(ForeignKey("lists.id", ondelete="CASCADE"), primary_key=True)
    siren: Mapped[str] = mapped_column(String(9), primary_key=True)
    alert_previous: Mapped[str | None] = mapped_column(String(32))
    alert: Mapped[str | None] = mapped_column(String(32))
    change: Mapped[str] = mapped_column(String(16))
    previous_batch: Mapped[str | None] = mapped_column(String(16))


# --------------------------------------------------------------------------------------------------- accounts


class Organisation(Base):
    """A partner organisation (URSSAF, DREETS/DDETS, Banque de France, …); its admins manage its agents."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    domains: Mapped[list[Any]]  # e-mail domains of its agents (SSO without roles)


class User(Base):
    """An account: organisation, territory (codes ``FR``, ``R27``, ``21``), data rights, role, login state."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str | None]
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    territory: Mapped[str] = mapped_column(Text)  # comma-separated codes (policy.Territory.parse)
    rights: Mapped[str] = mapped_column(String(64), default="")  # comma-separated data rights
    role: Mapped[str] = mapped_column(String(16), default="agent")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str | None] = mapped_column(Text)
    totp_secret: Mapped[str | None] = mapped_column(String(255))  # sealed (security.seal): never in clear
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    sso_subject: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime | None]
    last_login_at: Mapped[dt.datetime | None]
    notice_accepted_at: Mapped[dt.datetime | None]
    reviewed_at: Mapped[dt.datetime | None]
    reviewed_by: Mapped[int | None] = mapped_column(Integer)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    first_failure_at: Mapped[dt.datetime | None]
    locked_until: Mapped[dt.datetime | None]


class WebSession(Base):
    """A browser session; ``token_hash`` is the SHA-256 of the cookie's random token (never stored itself)."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(16))  # "totp" (password checked, code awaited) or "ok"
    method: Mapped[str] = mapped_column(String(16))  # "password" or "sso"
    csrf_token: Mapped[str] = mapped_column(String(64))
    pending_totp: Mapped[str | None] = mapped_column(String(255))  # secret being enrolled, sealed, until confirmed
    next_url: Mapped[str | None] = mapped_column(Text)  # where to go once logged in
    created_at: Mapped[dt.datetime]
    last_seen_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(Text)


class ApiToken(Base):
    """A personal API token (``Authorization: Bearer sf_…``), hashed at rest, expiring and revocable."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # the first characters, to recognise a token in a list
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str | None]
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]


class Follow(Base):
    """A user follows a company (the real system's ``follow``: a category is mandatory); kept when ended."""

    __tablename__ = "follows"
    __table_args__ = (Index("ix_follows_user_active", "user_id", "active"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    siren: Mapped[str] = mapped_column(String(9), index=True)
    category: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    since: Mapped[dt.datetime]
    until: Mapped[dt.datetime | None]
    end_category: Mapped[str | None] = mapped_column(String(64))
    end_comment: Mapped[str | None] = mapped_column(Text)


class OpenRegion(Base):
    """A région where the platform is open (regional roll-out); ``FR`` opens the whole country."""

    __tablename__ = "open_regions"

    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    opened_at: Mapped[dt.datetime]
    opened_by: Mapped[str | None]


class LoginAttempt(Base):
    """A failed login attempt (password, code, refused SSO callback), counted per address and per account to throttle
    guessing (``accounts.login_throttled``); successful logins are never recorded, and rows older than the longest
    window are purged at each new failure."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_ip_at", "ip", "at"),
        Index("ix_login_attempts_account_at", "account", "at"),
        Index("ix_login_attempts_at", "at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[dt.datetime]
    ip: Mapped[str | None] = mapped_column(String(64))  # the client's address (``web.context.client_address``)
    # SHA-256 of the e-mail typed, lower case (never the text); None: no e-mail (an SSO refusal before any identity)
    account: Mapped[str | None] = mapped_column(String(64))


# ------------------------------------------------------------------------------------------------------- work

#: The states of an accompaniment case (SFOR's ``EstablishmentTracking``), French labels.
CASE_STATES = {"in_progress": "En cours", "under_surveillance": "Sous surveillance", "completed": "Terminé"}
#: The catalogue of support measures, French labels.
MEASURES = {
    "delai_urssaf": "Délai de paiement URSSAF",
    "ccsf": "Plan d'apurement CCSF",
    "activite_partielle": "Activité partielle",
    "fne_formation": "FNE-Formation",
    "codefi": "Orientation vers le CODEFI",
    "mediation_credit": "Médiation du crédit",
    "mediation_entreprises": "Médiation des entreprises",
    "mandat_ad_hoc": "Mandat ad hoc (tribunal de commerce)",
    "conciliation": "Conciliation (tribunal de commerce)",
    "bpifrance": "Bpifrance",
    "cci": "CCI",
    "conseil_regional": "Conseil régional",
}
#: Where a measure stands.
MEASURE_STATUSES = {
    "proposed": "Proposée",
    "in_progress": "En cours",
    "obtained": "Obtenue",
    "refused": "Refusée",
    "abandoned": "Abandonnée",
}


class Comment(Base):
    """A comment on a company, threaded (``parent_id``), editable by its author."""

    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_siren_created", "siren", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    siren: Mapped[str] = mapped_column(String(9))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    edited_at: Mapped[dt.datetime | None]


class Case(Base):
    """An accompaniment case of a company (at most one open at a time)."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    siren: Mapped[str] = mapped_column(String(9), index=True)
    state: Mapped[str] = mapped_column(String(24))  # CASE_STATES
    referent_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    opened_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    closed_at: Mapped[dt.datetime | None]
    difficulties: Mapped[list[Any]]  # free labels (e.g. "trésorerie", "dette sociale")
    summary: Mapped[str | None] = mapped_column(Text)
    codefi_referred_at: Mapped[dt.datetime | None]
    codefi_referred_by: Mapped[int | None] = mapped_column(Integer)


class CaseParticipant(Base):
    """A user taking part in a case (agents of several partners)."""

    __tablename__ = "case_participants"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    added_at: Mapped[dt.datetime]


class CaseMeasure(Base):
    """A support measure offered in a case (``MEASURES``) and where it stands (``MEASURE_STATUSES``)."""

    __tablename__ = "case_measures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    measure: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(Text)
    offered_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    offered_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class SuggestionDecision(Base):
    """An agent confirmed or discarded a suggested measure for a company (kept with the signal behind it)."""

    __tablename__ = "suggestion_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    siren: Mapped[str] = mapped_column(String(9), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    measure: Mapped[str] = mapped_column(String(32))
    decision: Mapped[str] = mapped_column(String(16))  # "confirmed" or "discarded"
    signal: Mapped[str | None] = mapped_column(Text)
    delta: Mapped[float | None] = mapped_column(Float)  # what-if change of the probability, when known
    decided_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime]


class CodefiImport(Base):
    """One import of the DGFiP/CODEFI alert list (a CSV of SIRENs)."""

    __tablename__ = "codefi_imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    file_name: Mapped[str]
    imported_at: Mapped[dt.datetime]
    imported_by: Mapped[str | None]
    rows: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)


class CodefiAlert(Base):
    """A SIREN flagged by the tax administration in an import (the latest import is the current list)."""

    __tablename__ = "codefi_alerts"

    import_id: Mapped[int] = mapped_column(
        ForeignKey("codefi_imports.id", ondelete="CASCADE"), primary_key=True
    )
    siren: Mapped[str] = mapped_column(String(9), primary_key=True, index=True)
    motif: Mapped[str | None] = mapped_column(Text)


# ------------------------------------------------------------------------------------------------------ audit

#: The typed audit events.
AUDIT_EVENTS = (
    "login",
    "login_failed",
    "logout",
    "company_viewed",
    "confidential_shown",
    "list_viewed",
    "search",
    "export",
    "denied",
    "out_of_territory",
    "admin_change",
)


class AuditEvent(Base):
    """One audited event (``AUDIT_EVENTS``), written in the transaction of the action it records."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_at", "at"),
        Index("ix_audit_events_user_at", "user_id", "at"),
        Index("ix_audit_events_siren", "siren"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[dt.datetime]
    event: Mapped[str] = mapped_column(String(32), index=True)
    user_id: Mapped[int | None] = mapped_column(Integer)  # no foreign key: the audit outlives accounts
    email: Mapped[str | None] = mapped_column(String(254))
    siren: Mapped[str | None] = mapped_column(String(9))
    siret: Mapped[str | None] = mapped_column(String(14))
    list_id: Mapped[int | None] = mapped_column(Integer)
    method: Mapped[str | None] = mapped_column(String(8))
    path: Mapped[str | None] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any] | None]
