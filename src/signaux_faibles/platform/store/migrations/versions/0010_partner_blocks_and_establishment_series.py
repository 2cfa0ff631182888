"""the company file's partner blocks and the establishment series (issue 23)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 22:30:00

New tables, filled by each publication from the clean views (replaced as a whole, like the other series):

- ``payment_records``: Altares paydex (days late) and FPI 30/90 per SIREN and value date;
- ``ccsf_events``: CCSF plans per SIRET;
- ``group_members``: Ellisphere group membership (group, head, holding level and share);
- ``establishment_months``: effectif, cotisations, URSSAF debt and activité partielle per SIRET and month;
- ``delais``: the URSSAF payment plans per SIRET.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payment_records",
        sa.Column("siren", sa.String(9), primary_key=True),
        sa.Column("date_valeur", sa.Date(), primary_key=True),
        sa.Column("paydex_jours", sa.Float()),
        sa.Column("fpi_30", sa.Float()),
        sa.Column("fpi_90", sa.Float()),
    )
    op.create_table(
        "ccsf_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("siret", sa.String(14), nullable=False),
        sa.Column("siren", sa.String(9), nullable=False),
        sa.Column("numero_compte", sa.String(32)),
        sa.Column("date_traitement", sa.Date()),
        sa.Column("stade", sa.String(32)),
        sa.Column("action", sa.String(32)),
    )
    op.create_index("ix_ccsf_events_siren", "ccsf_events", ["siren"])
    op.create_table(
        "group_members",
        sa.Column("code_groupe", sa.String(32), primary_key=True),
        sa.Column("siren", sa.String(9), primary_key=True),
        sa.Column("siren_tete", sa.String(9)),
        sa.Column("raison_sociale_groupe", sa.String()),
        sa.Column("niveau_detention", sa.Integer()),
        sa.Column("part_financiere", sa.Float()),
    )
    op.create_index("ix_group_members_siren", "group_members", ["siren"])
    op.create_table(
        "establishment_months",
        sa.Column("siret", sa.String(14), primary_key=True),
        sa.Column("periode", sa.Date(), primary_key=True),
        sa.Column("siren", sa.String(9), nullable=False),
        sa.Column("effectif", sa.Integer()),
        sa.Column("cotisation", sa.Float()),
        sa.Column("part_ouvriere", sa.Float()),
        sa.Column("part_patronale", sa.Float()),
        sa.Column("etp_autorise", sa.Float()),
        sa.Column("etp_consomme", sa.Float()),
    )
    op.create_index("ix_establishment_months_siren", "establishment_months", ["siren"])
    op.create_table(
        "delais",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("siret", sa.String(14), nullable=False),
        sa.Column("siren", sa.String(9), nullable=False),
        sa.Column("numero_compte", sa.String(32)),
        sa.Column("numero_contentieux", sa.String(32)),
        sa.Column("date_creation", sa.Date()),
        sa.Column("date_echeance", sa.Date()),
        sa.Column("duree_delai", sa.Integer()),
        sa.Column("montant_echeancier", sa.Float()),
        sa.Column("stade", sa.String(32)),
        sa.Column("action", sa.String(32)),
    )
    op.create_index("ix_delais_siren", "delais", ["siren"])
    op.create_index("ix_delais_siret", "delais", ["siret"])


def downgrade() -> None:
    for index, table in (
        ("ix_delais_siret", "delais"),
        ("ix_delais_siren", "delais"),
        ("ix_establishment_months_siren", "establishment_months"),
        ("ix_group_members_siren", "group_members"),
        ("ix_ccsf_events_siren", "ccsf_events"),
    ):
        op.drop_index(index, table_name=table)
    for table in ("delais", "establishment_months", "group_members", "ccsf_events", "payment_records"):
        op.drop_table(table)
