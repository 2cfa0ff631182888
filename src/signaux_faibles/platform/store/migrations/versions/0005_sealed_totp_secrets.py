"""sealed TOTP secrets: room for the encrypted form of users.totp_secret and web_sessions.pending_totp (issue 18)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 12:50:00

The secrets are encrypted with a key derived from the application's secret key (``security.seal``), which the
database never holds: the secrets already stored in clear are sealed when the application starts
(``web.app.create_app`` → ``accounts.seal_totp_secrets``), not by this migration.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.alter_column("totp_secret", type_=sa.String(length=255), existing_type=sa.String(length=64))
    with op.batch_alter_table("web_sessions") as batch:
        batch.alter_column("pending_totp", type_=sa.String(length=255), existing_type=sa.String(length=64))


def downgrade() -> None:
    with op.batch_alter_table("web_sessions") as batch:
        batch.alter_column("pending_totp", type_=sa.String(length=64), existing_type=sa.String(length=255))
    with op.batch_alter_table("users") as batch:
        batch.alter_column("totp_secret", type_=sa.String(length=64), existing_type=sa.String(length=255))
