"""message attachments (a file sent with a message of the dialogue); campaigns that accept groups of
inhabitants without SIRET (FPH)

Revision ID: daily2_01
Revises: rgpd_01
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "daily2_01"
down_revision: str | None = "rgpd_01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # plain ALTER TABLE (no batch copy of `campaigns`, which the dossiers' foreign keys forbid on SQLite)
    op.add_column(
        "campaigns", sa.Column("inhabitant_groups", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("message_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_attachments_message_id"), ["message_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_attachments_message_id_dossier_messages"),
            "dossier_messages",
            ["message_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_attachments_message_id_dossier_messages"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_attachments_message_id"))
        batch_op.drop_column("message_id")
    # a plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35 too): a batch would copy `campaigns`, which the
    # dossiers' foreign keys forbid on SQLite once there is data
    op.drop_column("campaigns", "inhabitant_groups")
