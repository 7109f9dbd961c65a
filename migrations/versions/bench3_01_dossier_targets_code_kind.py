"""the places index of `dossier_targets` by (code, kind), not (kind, code): a campaign's totals by QPV
join its dossiers' places by dossier id; with (kind, code), SQLite without statistics scanned the
`qpv` places of every dossier of the instance (120 ms a query, 40 ms a transition's kept totals, growing
with the instance at national size) instead of the campaign's own

Revision ID: bench3_01
Revises: exports3_01
Create Date: 2026-12-02 12:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "bench3_01"
down_revision: str | None = "exports3_01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dossier_targets", schema=None) as batch_op:
        batch_op.drop_index("ix_dossier_targets_kind_code")
        batch_op.create_index("ix_dossier_targets_code_kind", ["code", "kind"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("dossier_targets", schema=None) as batch_op:
        batch_op.drop_index("ix_dossier_targets_code_kind")
        batch_op.create_index("ix_dossier_targets_kind_code", ["kind", "code"], unique=False)
