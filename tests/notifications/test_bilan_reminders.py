"""The end of the year's messages, delivered to a real SMTP server: a bilan sent back reaches its
porteur with the message and the new date; bilans due, late (J+1 then weekly), to correct; the focus
invitation with its place and time."""

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from aap.bilans import focus
from aap.models import Bilan, Dossier, User
from aap.settings import Settings
from tests.notifications.conftest import SmtpServer
from tests.notifications.test_cron_pass import at, go, porteur_emails, previous_campaign
from workflows.reasons import fr_date


def _bilans(session: Session, state: str) -> list[tuple[Dossier, Bilan]]:
    rows = session.execute(
        select(Dossier, Bilan).join(Bilan, Bilan.dossier_id == Dossier.id).where(Bilan.state == state)
    )
    return [(d, b) for d, b in rows]


def test_a_returned_bilan_reaches_its_porteur_with_the_message_and_its_answers_kept(
    db_engine: Engine, session: Session, settings: Settings, demo: date, smtp: SmtpServer
) -> None:
    [(dossier, bilan)] = _bilans(session, "a_corriger")
    assert bilan.answers["appreciation"]["qualitative"]  # what the porteur wrote is still there
    go(db_engine, session, settings, smtp, at(demo, 9))
    sent = smtp.inbox.by_rule("bilan_renvoye")
    assert {m["To"] for m in sent} == porteur_emails(session, dossier.organisation_id)
    text = smtp.inbox.text(sent[0])
    assert "détailler l'écart sur la deuxième ligne de charges" in text
    assert fr_date(demo + timedelta(days=21)) in sent[0]["Subject"]
    assert f"/dossiers/{dossier.id}/bilan" in text


def test_bilan_reminders_due_late_weekly_to_correct(
    db_engine: Engine, session: Session, settings: Settings, demo: date, smtp: SmtpServer
) -> None:
    [(late, _)] = [(d, b) for d, b in _bilans(session, "brouillon") if b.due_date and b.due_date < demo]
    go(db_engine, session, settings, smtp, at(demo))
    overdue = smtp.inbox.by_rule("bilan_en_retard")
    assert {m["X-Aap-Key"].split(":")[1] for m in overdue} == {f"d{late.id}"}
    assert fr_date(demo - timedelta(days=10)) in overdue[0]["Subject"]
    go(db_engine, session, settings, smtp, at(demo, 15))
    assert len(smtp.inbox.by_rule("bilan_en_retard")) == len(overdue)  # once per week, not per pass
    go(db_engine, session, settings, smtp, at(demo + timedelta(days=7)))
    assert len(smtp.inbox.by_rule("bilan_en_retard")) == 2 * len(overdue)

    # J-7 of the bilans still to write (due in 14 days)
    due = smtp.inbox.by_rule("bilan_a_deposer")
    assert due and all("dans 7 jours" in smtp.inbox.text(m) for m in due[-1:])

    [(returned, _)] = _bilans(session, "a_corriger")
    go(db_engine, session, settings, smtp, at(demo + timedelta(days=14)))
    correct = smtp.inbox.by_rule("bilan_a_corriger")
    assert {m["X-Aap-Key"].split(":")[1] for m in correct} == {f"d{returned.id}"}
    assert "dans 7 jours" in smtp.inbox.text(correct[0])


def test_the_funded_operators_are_invited_to_the_focus_with_its_place_and_time(
    db_engine: Engine, session: Session, settings: Settings, demo: date, smtp: SmtpServer
) -> None:
    admin = session.scalar(select(User).where(User.email == "admin@demo.aap.test"))
    assert admin is not None
    previous = previous_campaign(session)
    focus.create_session(
        session,
        admin,
        day=demo + timedelta(days=21),
        heure="18:30",
        lieu="Salle des fêtes de la Rochette",
        qpv=None,
        annee=previous.year,
        now=datetime.combine(demo, time(8), UTC),
    )
    funded = list(
        session.scalars(
            select(Dossier).where(
                Dossier.campaign_id == previous.id,
                Dossier.state.in_(("conventionne", "bilan_depose", "cloture")),
            )
        )
    )
    go(db_engine, session, settings, smtp, at(demo))
    invited = smtp.inbox.by_rule("focus_beneficiaires")
    expected = {(e, f"d{d.id}") for d in funded for e in porteur_emails(session, d.organisation_id)}
    assert {(m["To"], m["X-Aap-Key"].split(":")[1]) for m in invited} == expected
    text = smtp.inbox.text(invited[0])
    assert "Salle des fêtes de la Rochette" in text and "18 h 30" in text
    assert fr_date(demo + timedelta(days=21)) in invited[0]["Subject"]
