"""A CPO's bilan holds next year's payment, also once sent back for corrections: the real reminder pass,
delivered to a real SMTP server, reminds its porteur of the new date."""

from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from aap.settings import Settings
from tests.bilans.helpers import fill
from tests.cpo.helpers import Walk, signed_cpo
from tests.notifications.conftest import SmtpServer
from tests.notifications.test_cron_pass import at, go
from workflows.reasons import fr_date


def _cpo_reminders(smtp: SmtpServer, dossier_id: int) -> list[str]:
    """The texts sent about this dossier that say the CPO's next payment waits for its bilan."""
    return [
        smtp.inbox.text(m)
        for m in smtp.inbox.messages
        if f":d{dossier_id}:" in f"{m['X-Aap-Key']}:" and "restent bloqués" in smtp.inbox.text(m)
    ]


def test_a_returned_cpo_bilan_is_reminded_as_holding_next_years_payment(
    client: TestClient,
    db_engine: Engine,
    session: Session,
    settings: Settings,
    demo: date,
    smtp: SmtpServer,
) -> None:
    w = Walk(client)
    cpo = signed_cpo(w)
    origin = cpo["dossier_origine"]
    fill(w.porteur, origin)
    assert w.porteur.fire(origin, "deposer_bilan").status_code == 200
    due = datetime.now(UTC).date() + timedelta(days=40)
    r = w.instructeur.fire(
        origin, "renvoyer_bilan", comment="Détaillez les charges.", due_date=due.isoformat()
    )
    assert r.status_code == 200, r.text

    go(db_engine, session, settings, smtp, at(due - timedelta(days=7)))
    sent = _cpo_reminders(smtp, origin)
    assert len(sent) == 1, [m["X-Aap-Rule"] for m in smtp.inbox.messages]
    assert fr_date(due) in sent[0]
    go(db_engine, session, settings, smtp, at(due - timedelta(days=6)))
    assert len(_cpo_reminders(smtp, origin)) == 1  # once, not at every pass
