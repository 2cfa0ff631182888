"""procedures on lists: a firm already in collective proceedings is flagged, never alerted (issue 19)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 13:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("scores") as batch:
        batch.add_column(sa.Column("procedure_en_cours", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("etat_procol", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("date_procol", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scores") as batch:
        batch.drop_column("date_procol")
        batch.drop_column("etat_procol")
        batch.drop_column("procedure_en_cours")
