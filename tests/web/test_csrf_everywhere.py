"""Every state-changing web route refuses a form posted without the session's CSRF token.

The routes are listed from the application itself, so a route added later is covered (or fails here)
without anyone remembering to add it. Each is posted by a logged-in user of the role the route serves,
to a dossier that user may act on: the refusal seen is the CSRF one, not a 401, 403 or 404 for
another reason.
"""

import re
from datetime import date

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from aap.models import Dossier, Membership, User
from tests.web.staff_helpers import ADMIN, AGENTS, INSTRUCTEUR, web_login

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
CSRF_REFUSAL = "Le formulaire a expiré ou ne vient pas de cette application"
PORTEUR = "porteur@demo.aap.test"
PARTNER = "partenaire@demo.aap.test"
PDF = {"file": ("rib.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")}


def web_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every state-changing route outside the API (the web pages' forms), as the
    application routes them (included routers walked with their prefixes)."""
    return sorted(
        (method, route.path)
        for route in iter_route_contexts(app.routes)
        if route.path and not route.path.startswith(("/api/", "/static"))
        for method in (route.methods or set()) & STATE_CHANGING
    )


def _who(path: str) -> str | None:
    """The account a route serves (None: anyone, logged in or not)."""
    if path.startswith("/instruction"):
        return INSTRUCTEUR
    if path.startswith("/financeur"):
        return AGENTS["ETAT"]
    if path.startswith("/admin"):
        return ADMIN
    if path.startswith("/avis"):
        return PARTNER
    if path.startswith(("/connexion", "/inscription", "/deconnexion")):
        return None
    return PORTEUR


def _dossier_for(engine: Engine, email: str | None) -> int:
    with Session(engine) as session:
        if email == PORTEUR:
            user = session.scalar(select(User).where(User.email == email))
            mine = select(Membership.organisation_id).where(Membership.user_id == user.id)  # type: ignore[union-attr]
            query = select(Dossier.id).where(Dossier.organisation_id.in_(mine), Dossier.state == "brouillon")
        else:
            query = select(Dossier.id).where(Dossier.state.not_in(("brouillon", "non_depose")))
        found = session.scalar(query.order_by(Dossier.id).limit(1))
        assert found is not None
        return found


def _filled(path: str, dossier_id: int) -> str:
    values = {
        "dossier_id": str(dossier_id),
        "step": "completer",
        "key": "action",
        "financeur": "ETAT",
        "name": "prendre_en_instruction",
    }
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: values.get(m.group(1), "1"), path)


def test_the_list_holds_the_known_forms(app: FastAPI) -> None:
    routes = web_routes(app)
    assert ("POST", "/connexion") in routes and ("POST", "/dossiers/{dossier_id}/deposer") in routes
    assert len(routes) >= 17


def test_every_state_changing_web_route_refuses_without_csrf(
    app: FastAPI, client: TestClient, demo: date, db_engine: Engine
) -> None:
    accepted = []
    for method, path in web_routes(app):
        email = _who(path)
        client.cookies.clear()
        if email is not None:
            web_login(client, email)
        else:
            client.get("/connexion")  # a session with a token exists: the form simply does not send it
        url = _filled(path, _dossier_for(db_engine, email))
        # multipart, so that the upload forms read the body to the end and reach their check too
        response = client.request(
            method, url, data={"kind": "rib", "motif": "x"}, files=PDF, follow_redirects=False
        )
        if response.status_code != 403 or CSRF_REFUSAL not in response.text:
            accepted.append(f"{method} {url}: {response.status_code}")
    assert accepted == []


@pytest.mark.parametrize("token", ["", "pas-le-bon-jeton"])
def test_a_wrong_token_is_refused_like_a_missing_one(client: TestClient, demo: date, token: str) -> None:
    web_login(client, PORTEUR)
    response = client.post("/deconnexion", data={"csrf": token}, follow_redirects=False)
    assert response.status_code == 403 and CSRF_REFUSAL in response.text
    assert client.get("/api/v1/me").status_code == 200  # still logged in: nothing happened
