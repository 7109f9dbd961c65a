"""A contract overseas reads its times on its own clock: a dossier deposited at 22:00 in Cayenne on the
last evening is acknowledged « à 22 h 00 » that day, in the e-mail and on the page, never the next morning
in Paris (after the deadline)."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from aap.dossiers import service
from aap.errors import AppError
from aap.models import Campaign, Dossier, Notification, Territory, User
from aap.web.rendering import date_long
from tests.web.staff_helpers import INSTRUCTEUR, web_login
from workflows.reasons import fr_date

CAYENNE, PARIS = ZoneInfo("America/Cayenne"), ZoneInfo("Europe/Paris")
PORTEUR = "porteur@demo.aap.test"


def test_a_deposit_in_cayenne_is_dated_where_it_was_made(
    client: TestClient, demo: date, db_engine: Engine
) -> None:
    evening = datetime.combine(date.today(), time(22, 0), CAYENNE)  # already tomorrow in Paris
    assert evening.astimezone(PARIS).date() > evening.date()
    with Session(db_engine, expire_on_commit=False) as session:
        for territory in session.scalars(select(Territory)):
            territory.fuseau = "America/Cayenne"
        session.commit()
        porteur = session.scalars(select(User).where(User.email == PORTEUR)).one()
        campaign = session.scalars(select(Campaign).order_by(Campaign.year.desc())).first()
        assert campaign is not None
        mine = [o.id for o in porteur.organisations]
        deposited = None
        for draft in session.scalars(
            select(Dossier)
            .where(
                Dossier.campaign_id == campaign.id,
                Dossier.state == "brouillon",
                Dossier.organisation_id.in_(mine),
            )
            .order_by(Dossier.id)
        ):
            try:  # the app's clock gives the moment in Paris
                deposited = service.fire_transition(
                    session, porteur, draft.id, "deposer", {}, evening.astimezone(PARIS)
                )
                break
            except AppError:
                session.rollback()
        assert deposited is not None, "no complete draft of the demo porteur"
        [ack] = session.scalars(
            select(Notification).where(
                Notification.rule == "accuse_depot", Notification.dossier_id == deposited.id
            )
        ).all()

    assert f"Date et heure du dépôt : {fr_date(evening.date())} à 22 h 00" in ack.body_text

    web_login(client, PORTEUR)
    page = client.get(f"/dossiers/{deposited.id}/accuse-de-reception")
    assert page.status_code == 200
    assert f"{date_long(evening.date())} à 22 h 00" in page.text


def test_a_list_reads_its_dates_where_its_reader_works(
    client: TestClient, demo: date, db_engine: Engine
) -> None:
    """The instructeur's list is about no one dossier: an instructeur in Cayenne reads a dépôt made at
    22:00 there on its day, not on the next (Paris's)."""
    evening = datetime.combine(date(2026, 1, 30), time(22, 0), CAYENNE)
    with Session(db_engine) as session:
        for territory in session.scalars(select(Territory)):
            territory.fuseau = "America/Cayenne"
        dossier = session.scalars(
            select(Dossier).where(Dossier.deposited_at.is_not(None)).order_by(Dossier.id)
        ).first()
        assert dossier is not None
        dossier.deposited_at = evening
        number = dossier.number
        session.commit()

    web_login(client, INSTRUCTEUR)
    page = client.get("/instruction", params={"q": number})
    assert page.status_code == 200 and number in page.text
    assert date_long(evening.date()) in page.text  # « 30 janvier 2026 »
    assert date_long(date(2026, 1, 31)) not in page.text
