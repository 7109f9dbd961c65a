"""index the day an avis of a partner was given (the instructeurs' digest asks for the avis received
by that date, so its cost follows what is due)

Revision ID: avisdigest_01
Revises: daily2_01
Create Date: 2026-12-02 11:31:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "avisdigest_01"
down_revision: str | None = "daily2_01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("avis_partenaires", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_avis_partenaires_given_at"), ["given_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("avis_partenaires", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_avis_partenaires_given_at"))
