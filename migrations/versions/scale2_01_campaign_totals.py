"""campaign totals kept with each write (campaign_sums, campaign_delays), built from the existing data

Revision ID: scale2_01
Revises: terr2_01
Create Date: 2026-12-02 10:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "scale2_01"
down_revision: str | None = "terr2_01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "campaign_sums",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("dim", sa.String(length=1), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("financeur_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("demande", sa.BigInteger(), nullable=False),
        sa.Column("propose", sa.BigInteger(), nullable=False),
        sa.Column("accorde", sa.BigInteger(), nullable=False),
        sa.Column("paye", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_campaign_sums_campaign_id_campaigns"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("campaign_id", "dim", "code", "financeur_id", name=op.f("pk_campaign_sums")),
    )
    op.create_table(
        "campaign_delays",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("days", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_campaign_delays_campaign_id_campaigns"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("campaign_id", "kind", "days", name=op.f("pk_campaign_delays")),
    )
    _backfill()


def _backfill() -> None:
    """Each existing campaign's totals, as the grouped queries compute them."""
    from sqlalchemy.orm import Session

    from aap.financing import summary

    conn = op.get_bind()
    session = Session(bind=conn)
    for (campaign_id,) in conn.execute(sa.text("SELECT id FROM campaigns ORDER BY id")).all():
        summary.rebuild(session, campaign_id)
    session.flush()


def downgrade() -> None:
    op.drop_table("campaign_delays")
    op.drop_table("campaign_sums")
