"""Reminders to communes late with their validation: rules as data, sent by the cron pass by SMTP."""

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from aap.models import CampaignCommune
from aap.settings import Settings
from notifications.cron import run_pass
from tests.notifications.conftest import SmtpServer, smtp  # noqa: F401 (the fixture)
from tests.territories.helpers import load_metro, new_dossier

RULE = "commune_validation_en_retard"


def _pass(engine: Engine, settings: Settings, server: SmtpServer, day: date) -> None:
    run_pass(
        engine, settings.model_copy(update={"smtp_url": server.url}), datetime.combine(day, time(7), UTC)
    )


def test_a_commune_that_has_not_validated_after_its_instance_is_reminded_once_per_occurrence(
    db_engine: Engine,
    demo: date,
    settings: Settings,
    smtp: SmtpServer,  # noqa: F811
) -> None:
    validation = demo + timedelta(days=100)
    loriol_day = validation - timedelta(days=5)
    metro = load_metro(
        db_engine, demo, validation="par_commune", validations_communes={"26166": loriol_day.isoformat()}
    )
    for qpv, title in (
        ("QN02601X", "Loriol : accès aux droits"),
        ("QN02602X", "Pracomtal : chantier jeunes"),
    ):
        new_dossier(
            db_engine,
            metro.campaign_id,
            "porteur@metro.test",
            qpv=[qpv],
            orientation="2",
            financements={"ETAT": "1000.00"},
            title=title,
            state="avise",
            avis="favorable",
        )

    _pass(db_engine, settings, smtp, loriol_day)  # the day of the instance: not late yet
    assert smtp.inbox.by_rule(RULE) == []
    _pass(db_engine, settings, smtp, loriol_day + timedelta(days=1))
    _pass(db_engine, settings, smtp, loriol_day + timedelta(days=1))  # a second pass adds nothing
    (late,) = smtp.inbox.by_rule(RULE)
    assert late["To"] == "loriol@metro.test"
    assert (
        "Loriol-sur-Drôme" in late["Subject"] and "Appel à projets de la Métropole du Val" in late["Subject"]
    )
    assert "1 dossier(s)" in smtp.inbox.text(late)

    with Session(db_engine) as s:  # Loriol validates; Montélimar's instance passes without validation
        s.execute(
            update(CampaignCommune)
            .where(CampaignCommune.campaign_id == metro.campaign_id, CampaignCommune.commune_insee == "26166")
            .values(validated_at=datetime.combine(loriol_day, time(18), UTC))
        )
        s.commit()
    _pass(db_engine, settings, smtp, validation + timedelta(days=1))
    assert sorted(m["To"] for m in smtp.inbox.by_rule(RULE)) == ["loriol@metro.test", "montelimar@metro.test"]
    _pass(db_engine, settings, smtp, loriol_day + timedelta(days=7))  # Loriol's J+7: validated, nothing
    assert len(smtp.inbox.by_rule(RULE)) == 2
