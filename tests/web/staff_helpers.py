"""Shared by the staff page tests (TestClient and browser): log in through the login page, and move demo
dossiers along with the services, so a test starts where the page under test takes over."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from aap.dossiers import service as dossiers
from aap.errors import AppError
from aap.financing import service as financing
from aap.models import Campaign, Dossier, User

INSTRUCTEUR = "instructeur@demo.aap.test"
ADMIN = "admin@demo.aap.test"
AGENTS = {
    "ETAT": "etat@demo.aap.test",
    "DLVA": "agglo@demo.aap.test",
    "MANOSQUE": "ville@demo.aap.test",
    "CAF": "caf@demo.aap.test",
}


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "pas de jeton CSRF dans la page"
    return match.group(1)


def web_login(client: TestClient, email: str, password: str = "demo") -> str:
    """Logs in through /connexion like a browser; returns the session's CSRF token."""
    client.cookies.clear()
    token = csrf_of(client.get("/connexion").text)
    response = client.post(
        "/connexion", data={"email": email, "password": password, "csrf": token}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    return csrf_of(client.get(response.headers["location"]).text)


def user(session: Session, email: str) -> User:
    found = session.scalar(select(User).where(User.email == email))
    assert found is not None
    return found


def deposit_demo_dossiers(engine: Engine, count: int) -> list[int]:
    """Deposits `count` complete drafts of the open campaign (by their porteurs); returns their ids."""
    now = datetime.now(UTC)
    done: list[int] = []
    with Session(engine, expire_on_commit=False) as session:
        drafts = session.scalars(
            select(Dossier)
            .join(Campaign, Campaign.id == Dossier.campaign_id)
            .where(
                Dossier.state == "brouillon",
                Campaign.depot_ouverture <= now.date(),
                Campaign.depot_cloture >= now.date(),
            )
            .order_by(Dossier.id)
        ).all()
        for draft in drafts:
            if len(done) == count:
                break
            porteur = _porteur_of(session, draft)
            try:
                dossiers.fire_transition(session, porteur, draft.id, "deposer", {}, now)
            except AppError:
                session.rollback()
                continue
            done.append(draft.id)
    assert len(done) == count, f"seulement {len(done)} brouillons complets à déposer"
    return done


def _porteur_of(session: Session, draft: Dossier) -> User:
    from aap.models import Membership

    member = session.scalar(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id == draft.organisation_id)
    )
    assert member is not None
    return member


def instruct_to_avise(engine: Engine, dossier_ids: list[int]) -> None:
    """The instructeur's whole work on each dossier: taken, 90 % proposed, instruit, avis favorable."""
    now = datetime.now(UTC)
    with Session(engine, expire_on_commit=False) as session:
        instructeur = user(session, INSTRUCTEUR)
        for dossier_id in dossier_ids:
            dossiers.fire_transition(session, instructeur, dossier_id, "prendre_en_instruction", {}, now)
            d = dossiers.get_dossier(session, instructeur, dossier_id)
            for line in d.cofinancements:
                amount = (line.montant_demande * Decimal("0.9")).quantize(Decimal("1"))
                financing.propose(session, instructeur, dossier_id, line.financeur.code, amount, now)
            dossiers.fire_transition(
                session, instructeur, dossier_id, "terminer_instruction", {}, now + timedelta(minutes=1)
            )
            dossiers.fire_transition(
                session,
                instructeur,
                dossier_id,
                "rendre_avis",
                {"avis": "favorable"},
                now + timedelta(minutes=2),
            )


def dossier_row(engine: Engine, dossier_id: int) -> Dossier:
    with Session(engine, expire_on_commit=False) as session:
        admin = user(session, ADMIN)
        d = dossiers.get_dossier(session, admin, dossier_id)
        session.expunge_all()
        return d
