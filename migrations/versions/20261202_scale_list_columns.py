"""list columns: orientation, budget and QPV of each dossier read from its answers, indexed

Revision ID: scale_01
Revises: dialogue_04
Create Date: 2026-12-02 02:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import aap.types

revision: str = "scale_01"
down_revision: str | None = "dialogue_04"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
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
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("orientation_code", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("budget_total", aap.types.Money(), nullable=True))
        batch_op.create_index("ix_dossiers_campaign_orientation", ["campaign_id", "orientation_code"], unique=False)
    _backfill()


def _backfill() -> None:
    """Existing dossiers get their columns from their answers, as a save would set them."""
    from aap.dossiers.search_columns import facts_of
    from aap.models import Dossier

    conn = op.get_bind()
    dossiers = sa.table(
        "dossiers",
        sa.column("id", sa.Integer),
        sa.column("form_code", sa.String),
        sa.column("form_version", sa.Integer),
        sa.column("answers", sa.JSON),
        sa.column("orientation_code", sa.String),
        sa.column("budget_total", aap.types.Money()),
    )
    qpvs = sa.table("dossier_qpvs", sa.column("dossier_id", sa.Integer), sa.column("qpv_code", sa.String))
    rows = conn.execute(
        sa.select(dossiers.c.id, dossiers.c.form_code, dossiers.c.form_version, dossiers.c.answers)
    ).all()
    for row in rows:
        try:
            facts = facts_of(Dossier(form_code=row.form_code, form_version=row.form_version, answers=row.answers))
        except Exception:  # a form no longer shipped: the columns stay empty until its next save
            continue
        conn.execute(
            dossiers.update()
            .where(dossiers.c.id == row.id)
            .values(orientation_code=facts.orientation, budget_total=facts.budget)
        )
        if facts.qpvs:
            conn.execute(qpvs.insert(), [{"dossier_id": row.id, "qpv_code": code} for code in facts.qpvs])


def downgrade() -> None:
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.drop_index("ix_dossiers_campaign_orientation")
        batch_op.drop_column("budget_total")
        batch_op.drop_column("orientation_code")
    with op.batch_alter_table("dossier_qpvs", schema=None) as batch_op:
        batch_op.drop_index("ix_dossier_qpvs_qpv_dossier")
    op.drop_table("dossier_qpvs")
