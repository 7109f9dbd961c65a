"""one table for a dossier's places: `dossier_qpvs` folds into `dossier_targets` (kind `qpv`)

`dossier_targets` already held the same QPV codes (and the places hors QPV); the QPV filter, the totals
and the programme now read it. Upgrade copies any QPV row missing there, then drops `dossier_qpvs`;
downgrade rebuilds `dossier_qpvs` from the `qpv` rows.

Revision ID: terr2_01
Revises: territories_04
Create Date: 2026-12-02 10:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "terr2_01"
down_revision: str | None = "territories_04"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        sa.text(
            "INSERT INTO dossier_targets (dossier_id, kind, code) "
            "SELECT q.dossier_id, 'qpv', q.qpv_code FROM dossier_qpvs q "
            "WHERE NOT EXISTS (SELECT 1 FROM dossier_targets t WHERE t.dossier_id = q.dossier_id "
            "AND t.kind = 'qpv' AND t.code = q.qpv_code)"
        )
    )
    with op.batch_alter_table("dossier_qpvs", schema=None) as batch_op:
        batch_op.drop_index("ix_dossier_qpvs_qpv_dossier")
    op.drop_table("dossier_qpvs")


def downgrade() -> None:
    op.create_table(
        "dossier_qpvs",
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("qpv_code", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["dossier_id"], ["dossiers.id"], name=op.f("fk_dossier_qpvs_dossier_id_dossiers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("dossier_id", "qpv_code", name=op.f("pk_dossier_qpvs")),
    )
    with op.batch_alter_table("dossier_qpvs", schema=None) as batch_op:
        batch_op.create_index("ix_dossier_qpvs_qpv_dossier", ["qpv_code", "dossier_id"], unique=False)
    op.execute(
        sa.text(
            "INSERT INTO dossier_qpvs (dossier_id, qpv_code) "
            "SELECT dossier_id, code FROM dossier_targets WHERE kind = 'qpv'"
        )
    )
