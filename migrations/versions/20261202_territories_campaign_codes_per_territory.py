"""campaign codes unique per territory; dossier numbers per territory and year

Revision ID: territories_01
Revises: daily_01
Create Date: 2026-12-02 02:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "territories_01"
down_revision: str | None = "daily_01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_constraint("uq_campaigns_code", type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_campaigns_territory_id"), ["territory_id", "code"])
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.drop_constraint("uq_dossiers_number", type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_dossiers_campaign_id"), ["campaign_id", "number"])
    counters = op.create_table(
        "dossier_counters",
        sa.Column("territory_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["territory_id"],
            ["territories.id"],
            name=op.f("fk_dossier_counters_territory_id_territories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("territory_id", "year", name=op.f("pk_dossier_counters")),
    )
    # numbers already given (`YYYY-NNNNN`, from the dossier id) go on: the counters start after them
    rows = op.get_bind().execute(
        sa.text(
            "SELECT c.territory_id, c.year, d.number FROM dossiers d JOIN campaigns c ON c.id = d.campaign_id"
        )
    )
    last: dict[tuple[int, int], int] = {}
    for territory_id, year, number in rows:
        suffix = str(number).rsplit("-", 1)[-1]
        if suffix.isdigit():
            key = (territory_id, year)
            last[key] = max(last.get(key, 0), int(suffix))
    if last:
        op.bulk_insert(counters, [{"territory_id": t, "year": y, "last": n} for (t, y), n in last.items()])


def downgrade() -> None:
    op.drop_table("dossier_counters")
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.drop_constraint("uq_dossiers_campaign_id", type_="unique")
        batch_op.create_unique_constraint("uq_dossiers_number", ["number"])
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_constraint("uq_campaigns_territory_id", type_="unique")
        batch_op.create_unique_constraint("uq_campaigns_code", ["code"])
