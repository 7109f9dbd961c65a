"""The migration that brings `dossier_pieces` links the pièces that dossiers deposited before it name in
their answers, so financers keep reading them once the rule « versions in force only » applies."""

import importlib.util
from pathlib import Path

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import Engine, delete, select

from aap.models import Attachment, Dossier, DossierPiece

MIGRATION = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "rgpd_01_access_log.py"


def test_existing_deposited_dossiers_get_their_pieces_linked(db_engine: Engine, demo) -> None:
    spec = importlib.util.spec_from_file_location("rgpd_01", MIGRATION)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with db_engine.begin() as conn:
        before = set(conn.execute(select(DossierPiece.dossier_id, DossierPiece.attachment_id)).all())
        assert before, "the demo's deposited dossiers rely on pièces"
        conn.execute(delete(DossierPiece))
        with Operations.context(MigrationContext.configure(conn)):
            migration._link_existing_pieces()
        after = set(conn.execute(select(DossierPiece.dossier_id, DossierPiece.attachment_id)).all())
        owners = dict(
            conn.execute(
                select(DossierPiece.attachment_id, Attachment.organisation_id).join(
                    Attachment, Attachment.id == DossierPiece.attachment_id
                )
            ).all()
        )
        orgs = dict(conn.execute(select(Dossier.id, Dossier.organisation_id)).all())
    assert before <= after
    assert all(owners[attachment] == orgs[dossier] for dossier, attachment in after)
