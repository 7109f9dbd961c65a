"""The comité's sitting, a dossier's messages and a partner's avis come a page at a time, read in SQL:
a page costs the same statements whatever the campaign's size or the thread's length (counted with
SQLAlchemy's event hooks), and the sitting still records a page's avis all or nothing."""

import html
import re
from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session

from aap.demo.volume import generate
from aap.models import AvisPartenaire, Dossier, DossierMessage, User
from tests.api.helpers import Actor
from tests.dialogue.test_avis_partenaires import PARTNER, _partner
from tests.scale.test_lists_in_sql import statements
from tests.web.staff_helpers import INSTRUCTEUR, csrf_of, web_login


def _instruit(engine: Engine, campaign_id: int) -> list[int]:
    with Session(engine) as s:
        return list(
            s.scalars(
                select(Dossier.id)
                .where(Dossier.campaign_id == campaign_id, Dossier.state == "instruit")
                .order_by(Dossier.id)
            )
        )


def _rows(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<select id="avis-(\d+)"', page)]


def test_the_sitting_shows_50_instructed_dossiers_a_page_and_records_a_page_all_or_nothing(
    client: TestClient, db_engine: Engine, demo: date
) -> None:
    campaign = generate(db_engine, 1000, 2, today=demo)
    instruit = _instruit(db_engine, campaign.id)
    assert 50 < len(instruit) <= 100, len(instruit)  # two pages
    web_login(client, INSTRUCTEUR)
    url = f"/instruction/comite/{campaign.id}/seance"
    client.get(url)  # warm
    with statements(db_engine) as first_seen:
        first = client.get(url)
    with statements(db_engine) as second_seen:
        second = client.get(url, params={"page": 2})
    assert first.status_code == second.status_code == 200
    assert _rows(first.text) == instruit[:50] and _rows(second.text) == instruit[50:]
    assert f"sur {len(instruit)}" in first.text and f"{url}?page=2" in first.text
    assert len(first_seen) == len(second_seen), (len(first_seen), len(second_seen))

    token = csrf_of(second.text)
    day = (date.today() - timedelta(days=1)).isoformat()
    form = {"csrf": token, "date": day, "page": "2"}
    form |= {f"avis-{i}": "favorable" for i in instruit[50:]}
    refused = client.post(url, data={**form, f"avis-{instruit[-1]}": "peut-etre"})
    assert refused.status_code == 422 and "Rien n'a été enregistré" in html.unescape(refused.text)
    assert _instruit(db_engine, campaign.id) == instruit  # none recorded
    done = client.post(url, data=form, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"{url}?page=2"  # back to the sitting
    assert _instruit(db_engine, campaign.id) == instruit[:50]
    after = client.get(done.headers["location"])  # page 2 is gone: the last page, the ones left
    assert after.status_code == 200 and _rows(after.text) == instruit[:50]
    with Session(db_engine) as s:
        avised = s.scalars(select(Dossier.state).where(Dossier.id.in_(instruit[50:])))
        assert set(avised) == {"avise"}


def test_a_long_thread_shows_its_latest_messages_and_pages_back_at_a_constant_cost(
    client: TestClient, db_engine: Engine, demo: date
) -> None:
    instructeur = Actor(client, INSTRUCTEUR)
    dossier_id = instructeur.get("/api/v1/dossiers", params={"state": "depose"}).json()["items"][0]["id"]

    def add(n: int) -> None:
        with Session(db_engine) as s:
            start = s.scalar(select(func.count()).where(DossierMessage.dossier_id == dossier_id)) or 0
            now = datetime.now(UTC)
            s.execute(
                insert(DossierMessage),
                [
                    {
                        "dossier_id": dossier_id,
                        "audience": "echange",
                        "author_email": INSTRUCTEUR,
                        "author_name": "Instructrice",
                        "author_role": "instructeur",
                        "body": f"Message numéro {start + k + 1}",
                        "created_at": now,
                    }
                    for k in range(n)
                ],
            )
            s.commit()

    add(60)
    api = instructeur.get(f"/api/v1/dossiers/{dossier_id}/messages", params={"limit": 25, "offset": 50})
    assert api.status_code == 200
    assert api.json()["total"] == 60 and len(api.json()["items"]) == 10
    assert api.json()["items"][0]["texte"] == "Message numéro 51"

    web_login(client, INSTRUCTEUR)
    url = f"/dossiers/{dossier_id}/echanges"
    client.get(url)  # warm
    with statements(db_engine) as short:
        latest = html.unescape(client.get(url).text)
    assert "Message numéro 60" in latest and "Message numéro 11<" in latest
    assert "Message numéro 10<" not in latest and f"{url}?page=2" in latest
    older = html.unescape(client.get(url, params={"page": 2}).text)
    assert (
        "Message numéro 10<" in older
        and "Message numéro 11<" not in older
        and "Messages plus récents" in older
    )
    add(240)
    with statements(db_engine) as long:
        assert "Message numéro 300" in html.unescape(client.get(url).text)
    assert len(short) == len(long), (len(short), len(long))
    page = html.unescape(client.get(f"/instruction/dossiers/{dossier_id}").text)
    assert (
        "Message numéro 300" in page and "Message numéro 250<" not in page and "Messages plus anciens" in page
    )


def test_a_partner_reads_its_requests_a_page_at_a_time_without_one_query_per_dossier(
    client: TestClient, db_engine: Engine, demo: date
) -> None:
    _partner(db_engine)
    campaign = generate(db_engine, 120, 2, today=demo)
    with Session(db_engine) as s:
        partner_id = s.scalar(select(User.id).where(User.email == PARTNER))
        ids = list(
            s.scalars(select(Dossier.id).where(Dossier.campaign_id == campaign.id).order_by(Dossier.id))
        )
        s.execute(
            insert(AvisPartenaire),
            [
                {
                    "dossier_id": i,
                    "partner_id": partner_id,
                    "question": "Ce public est-il suivi ?",
                    "due_date": date.today() + timedelta(days=k),
                    "requested_at": datetime.now(UTC),
                }
                for k, i in enumerate(ids[:110])
            ],
        )
        s.commit()
    partner = Actor(client, PARTNER, password="mot de passe du service jeunesse")
    inbox = partner.get("/api/v1/avis-partenaires", params={"limit": 100, "offset": 100}).json()
    assert inbox["total"] == 110 and len(inbox["items"]) == 10
    web_login(client, PARTNER, "mot de passe du service jeunesse")
    client.get("/avis")  # warm
    counts = []
    for page in (1, 2, 3):
        with statements(db_engine) as seen:
            shown = client.get("/avis", params={"page": page})
        assert shown.status_code == 200
        counts.append(len(seen))
        assert len(re.findall(r'<th scope="row"><a href="/avis/\d+">', shown.text)) == (
            50 if page < 3 else 10
        )
    assert counts[0] == counts[1] == counts[2], counts  # 50 porteurs read at once, not one by one
