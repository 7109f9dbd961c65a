"""The staff's « en retard », a payment's « today » and the bilans report's day are the day where the
contract is, as its deadlines are.

Two zones 25 hours apart are never on the same day: when it is day D in Pago Pago (UTC-11), it is D+1
(or D+2) in Kiritimati (UTC+14), whatever the time the test runs. A date D is therefore not yet past for
a contract in Pago Pago and already past for one in Kiritimati, and the app's own clock (Paris) agrees
with only one of them: each assertion below fails on a rule that reads the app's day.
"""

import html
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from aap.models import AvisPartenaire, Bilan, Campaign, Dossier, Territory, User
from tests.api.helpers import Actor, complete_draft
from tests.conftest import campaign_elsewhere
from tests.dialogue.test_avis_partenaires import PARTNER
from tests.dialogue.test_avis_partenaires import _asked as ask_partner
from tests.financing.helpers import Walk, previous_campaign
from tests.web.staff_helpers import ADMIN, INSTRUCTEUR, web_login

BEHIND, AHEAD = "Pacific/Pago_Pago", "Pacific/Kiritimati"  # UTC-11 and UTC+14, no summer time


@pytest.fixture
def day_behind() -> date:
    """Today in Pago Pago (skipped in the last minutes of that day: a test takes seconds, not minutes)."""
    moment = datetime.now(ZoneInfo(BEHIND))
    if (moment.hour, moment.minute) >= (23, 55):
        pytest.skip("the day ends in Pago Pago in a few minutes")
    assert datetime.now(ZoneInfo(AHEAD)).date() > moment.date()
    return moment.date()


def _zone(engine: Engine, fuseau: str, code: str | None = None) -> None:
    """Every territory (or the one `code`) in `fuseau`."""
    with Session(engine) as session:
        query = select(Territory) if code is None else select(Territory).where(Territory.code == code)
        for territory in session.scalars(query):
            territory.fuseau = fuseau
        session.commit()


def test_complements_are_late_from_the_day_after_their_date_where_the_contract_is(
    client: TestClient, demo: date, db_engine: Engine, day_behind: date
) -> None:
    instructeur = Actor(client, INSTRUCTEUR)
    dossier = complete_draft(Actor(client, "porteur@demo.aap.test"))
    with Session(db_engine) as session:
        session.execute(
            update(Dossier)
            .where(Dossier.id == dossier["id"])
            .values(state="complements_demandes", complements_due=day_behind)
        )
        # another contract, so that the contracts are on two days and the filter compares each with its own
        campaign = session.scalars(select(Campaign).where(Campaign.id == dossier["campaign_id"])).one()
        campaign_elsewhere(session, campaign, "AILLEURS", AHEAD)
        session.commit()

    def late() -> tuple[bool, bool]:
        """(in the API's « en retard » filter, badged on the instructeur's list)"""
        listed = instructeur.get("/api/v1/dossiers", params={"overdue": True, "limit": 500}).json()
        web_login(client, INSTRUCTEUR)
        row = html.unescape(client.get("/instruction", params={"q": dossier["number"]}).text)
        assert dossier["number"] in row
        return dossier["id"] in {d["id"] for d in listed["items"]}, "En retard</span>" in row

    demo_code = _demo_territory(db_engine)
    _zone(db_engine, BEHIND, demo_code)
    assert late() == (False, False)  # its last day, in Pago Pago
    _zone(db_engine, AHEAD, demo_code)
    _zone(db_engine, BEHIND, "AILLEURS")
    assert late() == (True, True)  # already the day after, in Kiritimati


def test_a_partner_s_avis_is_late_on_its_contract_s_day(
    client: TestClient, demo: date, db_engine: Engine, day_behind: date
) -> None:
    _, _, dossier, asked = ask_partner(client, db_engine, date(2099, 1, 1))  # then due D, below
    with Session(db_engine) as session:
        session.execute(
            update(AvisPartenaire).where(AvisPartenaire.id == asked["id"]).values(due_date=day_behind)
        )
        session.commit()

    def late() -> tuple[bool, bool, bool]:
        """(badged in the partner's list, `en_retard` in its API, « date dépassée » on the dossier's page)"""
        web_login(client, PARTNER, password="mot de passe du service jeunesse")
        page = html.unescape(client.get("/avis").text)
        assert dossier["number"] in page
        api = Actor(client, PARTNER, password="mot de passe du service jeunesse")
        [item] = api.get("/api/v1/avis-partenaires").json()["items"]
        web_login(client, INSTRUCTEUR)
        staff = html.unescape(client.get(f"/instruction/dossiers/{dossier['id']}").text)
        assert "Ce public est-il déjà suivi ?" in staff
        return "en retard</span>" in page, item["en_retard"], "date dépassée" in staff

    _zone(db_engine, BEHIND)
    assert late() == (False, False, False)
    _zone(db_engine, AHEAD)
    assert late() == (True, True, True)


def test_a_payment_is_dated_up_to_the_day_it_is_where_the_contract_is(
    client: TestClient, demo: date, db_engine: Engine, day_behind: date
) -> None:
    w = Walk(client)
    campaign = previous_campaign(w.admin)
    d = w.admin.get("/api/v1/dossiers", params={"campaign_id": campaign["id"]}).json()["items"][0]
    code = d["cofinancements"][0]["financeur"]
    url = f"/api/v1/dossiers/{d['id']}/cofinancements/{code}/paiements"
    tomorrow_behind = datetime.now(ZoneInfo(AHEAD)).date()  # today in Kiritimati
    assert tomorrow_behind > day_behind

    _zone(db_engine, BEHIND)
    refused = w.agents[code].post(
        url, json={"kind": "avance", "date": tomorrow_behind.isoformat(), "montant": "1"}
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"]["errors"][0]["code"] == "date_future"

    _zone(db_engine, AHEAD)
    paid = w.agents[code].post(
        url, json={"kind": "avance", "date": tomorrow_behind.isoformat(), "montant": "1"}
    )
    assert paid.status_code == 201, paid.text


def test_the_bilans_report_counts_late_bilans_on_the_contract_s_day(
    client: TestClient, demo: date, db_engine: Engine, day_behind: date
) -> None:
    """Every bilan still expected falls due on day D: none is late in Pago Pago, all are in Kiritimati."""
    admin = Actor(client, ADMIN)
    campaign = previous_campaign(admin)
    with Session(db_engine) as session:
        dossiers = select(Dossier.id).where(Dossier.campaign_id == campaign["id"])
        session.execute(update(Dossier).where(Dossier.id.in_(dossiers)).values(bilan_due=day_behind))
        session.execute(update(Bilan).where(Bilan.dossier_id.in_(dossiers)).values(due_date=day_behind))
        session.commit()

    def late() -> int:
        report = admin.get(f"/api/v1/campaigns/{campaign['id']}/rapport")
        assert report.status_code == 200, report.text
        return int(report.json()["bilans"]["en_retard"])

    _zone(db_engine, BEHIND)
    assert late() == 0
    _zone(db_engine, AHEAD)
    assert late() > 0


def _demo_territory(engine: Engine) -> str:
    with Session(engine) as session:
        code = session.scalars(
            select(Territory.code)
            .join(User, User.territory_id == Territory.id)
            .where(User.email == INSTRUCTEUR)
        ).one()
        return str(code)
