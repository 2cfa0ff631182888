"""term structure on lists: the probability of a first judgment within 3, 6 and 12 months (issue 19, part 5)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 16:00:00

The 18-month point is ``scores.probability``; the three shorter horizons come from the hazard model's composition
(``FailureModel.term_structure``) and are NULL on lists scored without it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("scores") as batch:
        batch.add_column(sa.Column("probability_3m", sa.Float(), nullable=True))
        batch.add_column(sa.Column("probability_6m", sa.Float(), nullable=True))
        batch.add_column(sa.Column("probability_12m", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scores") as batch:
        batch.drop_column("probability_12m")
        batch.drop_column("probability_6m")
        batch.drop_column("probability_3m")
