"""name search: a trigram index on lower(raison_sociale), PostgreSQL only (issue 8, web benchmark)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 07:55:00

The list filter ``q`` and ``/recherche`` look for a part of the name (``lower(raison_sociale) LIKE '%…%'``). On
PostgreSQL, without this index, each search scanned the 100 000 companies of the benchmark and then probed the
scores of every match (p50 82 ms under load). ``pg_trgm`` is a trusted extension (PostgreSQL 13+): the database
owner may create it. SQLite gets nothing (its scan of the names is fast enough).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_index(
        "ix_companies_raison_sociale_trgm",
        "companies",
        [sa.text("lower(raison_sociale) gin_trgm_ops")],
        postgresql_using="gin",
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_companies_raison_sociale_trgm", table_name="companies", postgresql_using="gin")
