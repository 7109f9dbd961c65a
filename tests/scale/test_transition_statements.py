"""A transition through the service issues few statements: the dossier is read once (locked, with its
lines), and no statement recounts the campaign's totals when the move changes none of them."""

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from aap.demo.volume import generate
from aap.dossiers import service
from aap.financing import summary
from aap.models import Dossier, DossierTarget, User
from tests.scale.test_lists_in_sql import statements
from tests.web.staff_helpers import INSTRUCTEUR

PORTEUR = "porteur@demo.aap.test"


def test_prendre_en_instruction_reads_the_dossier_once_and_leaves_the_totals_alone(
    db_engine: Engine, demo: date
) -> None:
    campaign = generate(db_engine, 60, 3, today=demo)
    with Session(db_engine, expire_on_commit=False) as session:  # as the app's sessions
        user = session.scalar(select(User).where(User.email == INSTRUCTEUR))
        assert user is not None
        first, second = session.scalars(
            select(Dossier.id)
            .where(Dossier.campaign_id == campaign.id, Dossier.state == "depose")
            .order_by(Dossier.id)
            .limit(2)
        )
        now = datetime.now(UTC)
        service.fire_transition(session, user, first, "prendre_en_instruction", {}, now)  # warm
        with statements(db_engine) as seen:
            moved = service.fire_transition(session, user, second, "prendre_en_instruction", {}, now)
    assert moved.state == "en_instruction" and moved.cofinancements  # answered from what was written
    reads_of_the_dossier = [
        s for s in seen if s.lstrip().upper().startswith("SELECT") and "FROM dossiers" in s
    ]
    assert len(reads_of_the_dossier) == 1, reads_of_the_dossier
    assert not [s for s in seen if "campaign_sums" in s or "GROUP BY" in s.upper()]
    # the lock read (the dossier with its organisation and campaign; its lines with their financers and
    # their payments), the history row, the dossier's row, the pièces in force (one query) and the
    # rows linking them: answers whose links did not change are not written again, nor their list
    # columns recomputed
    assert len(seen) <= 8, "\n".join(seen)
    assert not [s for s in seen if "dossier_targets" in s or "answers=" in s], "\n".join(seen)
    with Session(db_engine) as s:
        delta = summary.check(s, campaign.id)
        assert not delta.sums and not delta.delays


def test_an_autosave_reads_the_dossier_once_and_the_form_s_lists_in_one_statement(
    db_engine: Engine, demo: date
) -> None:
    """A porteur's autosave: the dossier locked with its lines, the territory's places, orientations and
    priorities with the campaign's financers in one statement (no financer fetched one by one), the
    dossier's row; the lines it already has are not looked up again."""
    with Session(db_engine, expire_on_commit=False) as session:
        user = session.scalar(select(User).where(User.email == PORTEUR))
        assert user is not None
        drafts = [d for d in service.list_dossiers(session, user, state="brouillon")[0] if d.cofinancements]
        assert drafts, "la démo donne au porteur un brouillon avec ses financements"
        draft, version = drafts[0], drafts[0].version
        now = datetime.now(UTC)
        saved = service.update_answers(
            session, user, draft.id, {"action": {"lieux": "Salle A"}}, version, now
        )  # warm (the statements' compiled forms)
    with Session(db_engine, expire_on_commit=False) as session:  # a request of its own, as the app's
        user = session.scalar(select(User).where(User.email == PORTEUR))
        assert user is not None
        with statements(db_engine) as seen:
            saved = service.update_answers(
                session, user, draft.id, {"action": {"lieux": "Salle B"}}, saved.version, now
            )
    assert saved.answers["action"]["lieux"] == "Salle B"
    assert saved.version == version + 2
    selects = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
    assert len([s for s in selects if "FROM dossiers" in s]) == 1, "\n".join(selects)
    assert len([s for s in selects if "financeurs" in s and "cofinancements" not in s]) == 1, "\n".join(
        selects
    )
    assert len(selects) <= 3, "\n".join(selects)
    # a text changed: the places and orientation the lists filter on are those already written
    assert not [s for s in seen if "dossier_targets" in s], "\n".join(seen)


def test_an_autosave_that_changes_the_places_rewrites_them_and_one_that_does_not_keeps_them(
    db_engine: Engine, demo: date
) -> None:
    with Session(db_engine, expire_on_commit=False) as session:
        user = session.scalar(select(User).where(User.email == PORTEUR))
        assert user is not None
        draft = next(d for d in service.list_dossiers(session, user, state="brouillon")[0])
        now = datetime.now(UTC)

        def save(answers: dict[str, Any], version: int) -> tuple[int, list[str]]:
            with statements(db_engine) as seen:
                saved = service.update_answers(session, user, draft.id, answers, version, now)
            return saved.version, seen

        version, seen = save({"action": {"qpv": ["QN00402M"]}}, draft.version)
        assert [s for s in seen if s.lstrip().upper().startswith("INSERT INTO DOSSIER_TARGETS")]
        version, seen = save({"action": {"lieux": "Salle C"}}, version)
        assert not [s for s in seen if "dossier_targets" in s]
        places = session.scalars(
            select(DossierTarget.code).where(
                DossierTarget.dossier_id == draft.id, DossierTarget.kind == "qpv"
            )
        ).all()
    assert places == ["QN00402M"]
