"""index a campaign's dossiers in id order: each keyset page of the programme export reads its 1 000
rows instead of every later dossier of the campaign (SQLite sorted them all for every page)

Revision ID: exports3_01
Revises: daily3_01
Create Date: 2026-12-02 12:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "exports3_01"
down_revision: str | None = "daily3_01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.create_index("ix_dossiers_campaign_id_id", ["campaign_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.drop_index("ix_dossiers_campaign_id_id")
