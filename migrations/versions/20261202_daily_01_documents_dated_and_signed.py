"""documents dated in the territory's time zone and signed by the financer's signataire

Revision ID: daily_01
Revises: cpo_01
Create Date: 2026-12-02 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "daily_01"
down_revision: str | None = "cpo_01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("territories") as batch:
        batch.add_column(sa.Column("fuseau", sa.String(64), server_default="Europe/Paris", nullable=False))
    with op.batch_alter_table("financeurs") as batch:
        batch.add_column(sa.Column("signataire_nom", sa.String(200), nullable=True))
        batch.add_column(sa.Column("signataire_qualite", sa.String(300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("financeurs") as batch:
        batch.drop_column("signataire_qualite")
        batch.drop_column("signataire_nom")
    with op.batch_alter_table("territories") as batch:
        batch.drop_column("fuseau")
