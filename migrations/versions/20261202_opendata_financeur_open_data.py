"""financeur open data: SIRET, publication threshold, opt-in for smaller amounts

Revision ID: opendata_01
Revises: dialogue_03
Create Date: 2026-12-02 02:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import aap.types

revision: str = 'opendata_01'
down_revision: str | None = 'dialogue_03'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # plain ADD COLUMN (not a batch copy): SQLite cannot drop a table that decisions and accounts
    # point at while foreign keys are enforced
    op.add_column('financeurs', sa.Column('siret', sa.String(length=14), nullable=True))
    op.add_column(
        'financeurs', sa.Column('opendata_seuil', aap.types.Money(), server_default='2300000', nullable=False)
    )
    op.add_column(
        'financeurs', sa.Column('opendata_sous_seuil', sa.Boolean(), server_default=sa.false(), nullable=False)
    )


def downgrade() -> None:
    with op.batch_alter_table('financeurs', schema=None) as batch_op:
        batch_op.drop_column('opendata_sous_seuil')
        batch_op.drop_column('opendata_seuil')
        batch_op.drop_column('siret')
