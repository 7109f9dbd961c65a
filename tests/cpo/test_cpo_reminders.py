"""Reminders of the CPO (rules in notifications/rules.yaml): the yearly dossier to complete, the bilan that
holds next year's payment, the CPO that ends within six months."""

from datetime import UTC, date, datetime, time, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from aap.cpo import cycle
from aap.models import Dossier, Notification
from notifications.cron import record_digests, record_reminders
from notifications.rules import default_rules
from tests.cpo.helpers import Walk, open_campaign, signed_cpo


def _at(day: date) -> datetime:
    return datetime.combine(day, time(7), UTC)


def _sent(session: Session, rule: str) -> list[tuple[int | None, str]]:
    rows = session.scalars(select(Notification).where(Notification.rule == rule)).all()
    return sorted((n.dossier_id, n.recipient) for n in rows)


def test_the_yearly_dossier_the_blocking_bilan_and_the_end_of_the_cpo_are_reminded(
    client: TestClient, demo, session: Session
) -> None:
    w = Walk(client)
    cpo = signed_cpo(w)
    campaign = open_campaign(w.admin)
    assert w.admin.get(f"/api/v1/cpos/{cpo['id']}").json()["a_renouveler"] is False  # not yet, today
    cycle.run(session, datetime.now(UTC))
    session.commit()
    yearly = session.scalar(select(Dossier.id).where(Dossier.cpo_id == cpo["id"]))
    rules = default_rules().by_code()
    cloture = date.fromisoformat(campaign["dates"]["depot_cloture"])

    record_reminders(
        session, [rules["cpo_dossier_annuel"]], cloture - timedelta(days=7), _at(cloture), "http://x"
    )
    sent = _sent(session, "cpo_dossier_annuel")
    assert (yearly, "porteur@demo.aap.test") in sent
    assert all(session.get(Dossier, d).cpo_id for d, _ in sent)  # type: ignore[union-attr]  # CPO ones only
    drafts = session.scalars(select(Dossier.id).where(Dossier.state == "brouillon", Dossier.cpo_id.is_(None)))
    assert set(drafts).isdisjoint({d for d, _ in sent})

    origin = session.get(Dossier, cpo["dossier_origine"])
    assert origin is not None and origin.bilan_due is not None
    day = origin.bilan_due - timedelta(days=30)
    record_reminders(session, [rules["cpo_bilan_versement"]], day, _at(day), "http://x")
    sent = _sent(session, "cpo_bilan_versement")
    assert (origin.id, "porteur@demo.aap.test") in sent
    others = session.scalars(
        select(Dossier.id).where(Dossier.campaign_id == origin.campaign_id, Dossier.state == "conventionne")
    )
    assert len(sent) < len(list(others))  # not every conventioned dossier: those of a CPO
    message = session.scalar(select(Notification).where(Notification.rule == "cpo_bilan_versement"))
    assert message is not None and "bloqués" in message.body_text

    end = date(cpo["annees"][-1]["annee"], 12, 31)
    day = end - timedelta(days=183)
    record_reminders(session, [rules["cpo_fin_proche"]], day - timedelta(days=1), _at(day), "http://x")
    assert (origin.id, "porteur@demo.aap.test") not in _sent(session, "cpo_fin_proche")
    record_reminders(session, [rules["cpo_fin_proche"]], day, _at(day), "http://x")
    record_reminders(session, [rules["cpo_fin_proche"]], day, _at(day), "http://x")  # a second pass: once
    assert _sent(session, "cpo_fin_proche").count((origin.id, "porteur@demo.aap.test")) == 1
    assert record_digests(session, [rules["instructeurs_cpo_fin_proche"]], day, _at(day), "http://x") == 1
