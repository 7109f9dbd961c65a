"""« Mes dossiers » shows a porteur's dossiers fifty at a time, read a page at a time in SQL."""

import re
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from aap.demo.volume import generate
from aap.models import Dossier, Membership, User
from tests.web.staff_helpers import web_login

PORTEUR = "porteur@demo.aap.test"


def test_my_dossiers_go_page_by_page(client: TestClient, db_engine: Engine, demo: date) -> None:
    campaign = generate(db_engine, 60, 2, today=demo)
    with Session(db_engine) as s:  # the porteur's organisation holds the 60 generated dossiers too
        porteur = s.scalar(select(User).where(User.email == PORTEUR))
        assert porteur is not None
        organisation_id = s.scalar(select(Membership.organisation_id).where(Membership.user_id == porteur.id))
        s.execute(
            update(Dossier).where(Dossier.campaign_id == campaign.id).values(organisation_id=organisation_id)
        )
        s.commit()
        mine = len(
            s.scalars(
                select(Dossier.id).where(
                    Dossier.organisation_id.in_(
                        select(Membership.organisation_id).where(Membership.user_id == porteur.id)
                    )
                )
            ).all()
        )
    web_login(client, PORTEUR)
    shown: list[str] = []
    page, html = 1, ""
    while True:
        html = client.get("/mes-dossiers", params={"page": page}).text
        numbers = re.findall(r'<a href="/dossiers/(\d+)">', html)
        assert 0 < len(numbers) <= 50
        shown += numbers
        if "Page suivante" not in html:
            break
        page += 1
    assert page == -(-mine // 50) >= 2 and "Page précédente" in html
    assert len(shown) == len(set(shown)) == mine  # every dossier once, on one page
