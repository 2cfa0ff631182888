"""name search without case nor accents: ``companies.raison_sociale_folded`` (issue 22, item 2)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 20:30:00

SQLite's ``lower()`` leaves É and Ô as they are, so "hôtel" never found "HÔTEL SIMON". The name is now folded once,
in Python (``store.identity.fold_name``: lower case, accents and punctuation removed), when it is written (the
publication, the ORM), and the searches compare the folded text with the folded query, alike on both databases.
This revision adds the column, fills it for the companies already published, and on PostgreSQL moves the trigram
index of 0004 from ``lower(raison_sociale)`` to the folded column (``unaccent`` is not needed: the folding is done
before the text reaches the database); SQLite gets a plain index on it (exact and prefix matches).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from signaux_faibles.platform.store.identity import fold_name

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_BATCH = 5_000


def _backfill() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT siren, raison_sociale FROM companies WHERE raison_sociale IS NOT NULL")).all()
    update = sa.text("UPDATE companies SET raison_sociale_folded = :folded WHERE siren = :siren")
    for start in range(0, len(rows), _BATCH):
        chunk = rows[start : start + _BATCH]
        bind.execute(update, [{"siren": s, "folded": fold_name(n)} for s, n in chunk])


def upgrade() -> None:
    with op.batch_alter_table("companies") as batch:
        batch.add_column(sa.Column("raison_sociale_folded", sa.String(), nullable=True))
    _backfill()
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_companies_raison_sociale_trgm", table_name="companies", postgresql_using="gin")
    op.create_index(
        "ix_companies_raison_sociale_folded",
        "companies",
        ["raison_sociale_folded"],
        postgresql_using="gin",
        postgresql_ops={"raison_sociale_folded": "gin_trgm_ops"},
    )


def downgrade() -> None:
    op.drop_index("ix_companies_raison_sociale_folded", table_name="companies", postgresql_using="gin")
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            "ix_companies_raison_sociale_trgm",
            "companies",
            [sa.text("lower(raison_sociale) gin_trgm_ops")],
            postgresql_using="gin",
        )
    with op.batch_alter_table("companies") as batch:
        batch.drop_column("raison_sociale_folded")
