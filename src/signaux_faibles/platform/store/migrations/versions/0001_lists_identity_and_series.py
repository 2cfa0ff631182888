"""Identity, series and lists: the first schema of the platform (issue 6)

Revision ID: 0001
Revises:
Create Date: 2026-11-26 21:11:09.196180
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bdf_statements",
        sa.Column("siren", sa.String(length=9), nullable=False),
        sa.Column("arrete_bilan", sa.Date(), nullable=False),
        sa.Column("annee", sa.Integer(), nullable=True),
        sa.Column("date_publication", sa.Date(), nullable=True),
        sa.Column("poids_frng", sa.Float(), nullable=True),
        sa.Column("taux_marge", sa.Float(), nullable=True),
        sa.Column("delai_fournisseur", sa.Float(), nullable=True),
        sa.Column("dette_fiscale", sa.Float(), nullable=True),
        sa.Column("financier_court_terme", sa.Float(), nullable=True),
        sa.Column("frais_financier", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("siren", "arrete_bilan", name=op.f("pk_bdf_statements")),
    )
    op.create_table(
        "companies",
        sa.Column("siren", sa.String(length=9), nullable=False),
        sa.Column("raison_sociale", sa.String(), nullable=True),
        sa.Column("categorie_juridique", sa.String(length=4), nullable=True),
        sa.Column("libelle_categorie_juridique", sa.String(), nullable=True),
        sa.Column("activite_principale", sa.String(length=6), nullable=True),
        sa.Column("libelle_activite_principale", sa.String(), nullable=True),
        sa.Column("naf_section", sa.String(length=1), nullable=True),
        sa.Column("libelle_naf_section", sa.String(), nullable=True),
        sa.Column("siret_siege", sa.String(length=14), nullable=True),
        sa.Column("departement", sa.String(length=3), nullable=True),
        sa.Column("libelle_departement", sa.String(), nullable=True),
        sa.Column("region", sa.String(length=2), nullable=True),
        sa.Column("libelle_region", sa.String(), nullable=True),
        sa.Column("creation", sa.Date(), nullable=True),
        sa.Column("est_actif", sa.Boolean(), nullable=True),
        sa.Column("snapshot_batch", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("siren", name=op.f("pk_companies")),
    )
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_companies_departement"), ["departement"], unique=False)
        batch_op.create_index(batch_op.f("ix_companies_region"), ["region"], unique=False)

    op.create_table(
        "company_months",
        sa.Column("siren", sa.String(length=9), nullable=False),
        sa.Column("periode", sa.Date(), nullable=False),
        sa.Column("cotisation", sa.Float(), nullable=True),
        sa.Column("montant_part_ouvriere", sa.Float(), nullable=True),
        sa.Column("montant_part_patronale", sa.Float(), nullable=True),
        sa.Column("delai_montant_echeancier", sa.Float(), nullable=True),
        sa.Column("delai_nb_jours_restants", sa.Integer(), nullable=True),
        sa.Column("effectif", sa.Integer(), nullable=True),
        sa.Column("effectif_ent", sa.Integer(), nullable=True),
        sa.Column("apart_heures_autorisees", sa.Float(), nullable=True),
        sa.Column("apart_heures_consommees", sa.Float(), nullable=True),
        sa.Column("etat_proc_collective", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("siren", "periode", name=op.f("pk_company_months")),
    )
    op.create_table(
        "diane_statements",
        sa.Column("siren", sa.String(length=9), nullable=False),
        sa.Column("exercice", sa.Integer(), nullable=False),
        sa.Column("arrete_bilan", sa.Date(), nullable=True),
        sa.Column("nombre_mois", sa.Integer(), nullable=True),
        sa.Column("date_publication", sa.Date(), nullable=True),
        sa.Column("ca", sa.Float(), nullable=True),
        sa.Column("valeur_ajoutee", sa.Float(), nullable=True),
        sa.Column("excedent_brut_d_exploitation", sa.Float(), nullable=True),
        sa.Column("resultat_expl", sa.Float(), nullable=True),
        sa.Column("benefice_ou_perte", sa.Float(), nullable=True),
        sa.Column("capacite_autofinancement", sa.Float(), nullable=True),
        sa.Column("charge_personnel", sa.Float(), nullable=True),
        sa.Column("charges_financieres", sa.Float(), nullable=True),
        sa.Column("dette_fiscale_et_sociale", sa.Float(), nullable=True),
        sa.Column("concours_bancaire_courant", sa.Float(), nullable=True),
        sa.Column("liquidite_generale", sa.Float(), nullable=True),
        sa.Column("liquidite_reduite", sa.Float(), nullable=True),
        sa.Column("endettement", sa.Float(), nullable=True),
        sa.Column("autonomie_financiere", sa.Float(), nullable=True),
        sa.Column("capacite_remboursement", sa.Float(), nullable=True),
        sa.Column("rentabilite_economique", sa.Float(), nullable=True),
        sa.Column("rentabilite_nette", sa.Float(), nullable=True),
        sa.Column("taux_d_investissement_productif", sa.Float(), nullable=True),
        sa.Column("credit_client", sa.Float(), nullable=True),
        sa.Column("credit_fournisseur", sa.Float(), nullable=True),
        sa.Column("effectif_consolide", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("siren", "exercice", name=op.f("pk_diane_statements")),
    )
    op.create_table(
        "lists",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("batch", sa.String(length=16), nullable=False),
        sa.Column("algo", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(), nullable=False),
        sa.Column("periode", sa.Date(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("threshold_high", sa.Float(), nullable=True),
        sa.Column("threshold_moderate", sa.Float(), nullable=True),
        sa.Column("previous_batch", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lists")),
        sa.UniqueConstraint("batch", "algo", name=op.f("uq_lists_batch_algo")),
    )
    op.create_table(
        "procol_events",
        sa.Column("siren", sa.String(length=9), nullable=False),
        sa.Column("date_effet", sa.Date(), nullable=False),
        sa.Column("action_procol", sa.String(length=32), nullable=False),
        sa.Column("stade_procol", sa.String(length=64), nullable=False),
        sa.Column("libelle_procol", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint(
            "siren", "date_effet", "action_procol", "stade_procol", name=op.f("pk_procol_events")
        ),
    )
    op.create_table(
        "publications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("batch", sa.String(length=16), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("companies", sa.BigInteger(), nullable=False),
        sa.Column("establishments", sa.BigInteger(), nullable=False),
        sa.Column("company_months", sa.BigInteger(), nullable=False),
        sa.Column("scores", sa.BigInteger(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publications")),
    )
    op.create_table(
        "establishments",
        sa.Column("siret", sa.String(length=14), nullable=False),
        sa.Column("siren", sa.String(length=9), nullable=False),
        sa.Column("siege", sa.Boolean(), nullable=True),
        sa.Column("adresse", sa.Text(), nullable=True),
        sa.Column("code_commune", sa.String(length=5), nullable=True),
        sa.Column("departement", sa.String(length=3), nullable=True),
        sa.Column("libelle_departement", sa.String(), nullable=True),
        sa.Column("region", sa.String(length=2), nullable=True),
        sa.Column("libelle_region", sa.String(), nullable=True),
        sa.Column("ape", sa.String(length=6), nullable=True),
        sa.Column("date_creation", sa.Date(), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("est_actif", sa.Boolean(), nullable=True),
        sa.Column("snapshot_batch", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["siren"], ["companies.siren"], name=op.f("fk_establishments_siren_companies")
        ),
        sa.PrimaryKeyConstraint("siret", name=op.f("pk_establishments")),
    )
    with op.batch_alter_table("establishments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_establishments_departement"), ["departement"], unique=False)
        batch_op.create_index(batch_op.f("ix_establishments_region"), ["region"], unique=False)
        batch_op.create_index(batch_op.f("ix_establishments_siren"), ["siren"], unique=False)

    op.create_table(
        "list_changes",
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("siren", sa.String(length=9), nullable=False),
        sa.Column("alert_previous", sa.String(length=32), nullable=True),
        sa.Column("alert", sa.String(length=32), nullable=True),
        sa.Column("change", sa.String(length=16), nullable=False),
        sa.Column("previous_batch", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["list_id"], ["lists.id"], name=op.f("fk_list_changes_list_id_lists"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("list_id", "siren", name=op.f("pk_list_changes")),
    )
    op.create_table(
        "scores",
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("siren", sa.String(length=9), nullable=False),
        sa.Column("siret", sa.String(length=14), nullable=True),
        sa.Column("algo", sa.String(length=64), nullable=False),
        sa.Column("rank", sa.BigInteger(), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("alert", sa.String(length=32), nullable=False),
        sa.Column("alert_pre_adjustment", sa.String(length=32), nullable=False),
        sa.Column(
            "adjustments",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("base_probability", sa.Float(), nullable=True),
        sa.Column(
            "macro_expl",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "micro_expl",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "what_if",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("first_alert", sa.Boolean(), nullable=False),
        sa.Column("first_high_alert", sa.Boolean(), nullable=False),
        sa.Column("hausse_urssaf", sa.Boolean(), nullable=True),
        sa.Column("ap_12m", sa.Boolean(), nullable=True),
        sa.Column("etat_proc_collective", sa.String(length=32), nullable=True),
        sa.Column("dette_urssaf", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["list_id"], ["lists.id"], name=op.f("fk_scores_list_id_lists"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("list_id", "siren", name=op.f("pk_scores")),
    )
    with op.batch_alter_table("scores", schema=None) as batch_op:
        batch_op.create_index("ix_scores_siren", ["siren"], unique=False)
        batch_op.create_index("ix_scores_list_rank", ["list_id", "rank"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("scores", schema=None) as batch_op:
        batch_op.drop_index("ix_scores_list_rank")
        batch_op.drop_index("ix_scores_siren")

    op.drop_table("scores")
    op.drop_table("list_changes")
    with op.batch_alter_table("establishments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_establishments_siren"))
        batch_op.drop_index(batch_op.f("ix_establishments_region"))
        batch_op.drop_index(batch_op.f("ix_establishments_departement"))

    op.drop_table("establishments")
    op.drop_table("publications")
    op.drop_table("procol_events")
    op.drop_table("lists")
    op.drop_table("diane_statements")
    op.drop_table("company_months")
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_companies_region"))
        batch_op.drop_index(batch_op.f("ix_companies_departement"))

    op.drop_table("companies")
    op.drop_table("bdf_statements")
