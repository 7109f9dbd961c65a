"""index the history by step and time (the instructeurs' digest asks for the budgets ajustés filed and
the conventions made by that day, so its cost follows what is due)

Revision ID: daily3_01
Revises: avisdigest_01
Create Date: 2026-12-02 12:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "daily3_01"
down_revision: str | None = "avisdigest_01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dossier_events", schema=None) as batch_op:
        batch_op.create_index("ix_dossier_events_transition_at", ["transition", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("dossier_events", schema=None) as batch_op:
        batch_op.drop_index("ix_dossier_events_transition_at")
