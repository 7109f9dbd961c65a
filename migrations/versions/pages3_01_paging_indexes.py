"""indexes that keep the staff pages flat as a campaign grows (a campaign's dossiers in number order,
which a page of the list or of the comité's table reads and stops at its limit, is exports3_01's
index): the financing lines' amounts beside their dossier (the enveloppes, the
CPO share and the programme's totals summed from the index, not from every line's row), and a
campaign's dossiers by state with their budget (the programme's count and budget read from the index:
the budget sits after the answers in the row, which SQLite would otherwise read through), and by
orientation with their state (a list filtered by orientation counted by state from the index alone);
the kept campaign totals recounted, now with each financer's accorded lines (the CPO share's totals)

Revision ID: pages3_01
Revises: bench3_01
Create Date: 2026-12-02 12:55:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "pages3_01"
down_revision: str | None = "bench3_01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_dossiers_campaign_state", table_name="dossiers")
    op.drop_index("ix_dossiers_campaign_orientation", table_name="dossiers")
    op.create_index(
        "ix_dossiers_campaign_orientation_state",
        "dossiers",
        ["campaign_id", "orientation_code", "state"],
        unique=False,
    )
    op.create_index(
        "ix_dossiers_campaign_state_budget", "dossiers", ["campaign_id", "state", "budget_total"], unique=False
    )
    op.create_index(
        "ix_cofinancements_amounts",
        "cofinancements",
        ["dossier_id", "financeur_id", "decision", "montant_demande", "montant_propose", "montant_accorde"],
        unique=False,
    )


    _recount()


def _recount() -> None:
    """Each existing campaign's kept totals, as the grouped queries compute them (with the `a` rows)."""
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    from aap.financing import summary

    conn = op.get_bind()
    session = Session(bind=conn)
    for (campaign_id,) in conn.execute(sa.text("SELECT id FROM campaigns ORDER BY id")).all():
        summary.rebuild(session, campaign_id)
    session.flush()


def downgrade() -> None:
    op.execute("DELETE FROM campaign_sums WHERE dim = 'a'")
    op.drop_index("ix_cofinancements_amounts", table_name="cofinancements")
    op.drop_index("ix_dossiers_campaign_orientation_state", table_name="dossiers")
    op.create_index(
        "ix_dossiers_campaign_orientation", "dossiers", ["campaign_id", "orientation_code"], unique=False
    )
    op.drop_index("ix_dossiers_campaign_state_budget", table_name="dossiers")
    op.create_index("ix_dossiers_campaign_state", "dossiers", ["campaign_id", "state"], unique=False)
