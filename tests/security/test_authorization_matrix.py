"""The authorization matrix, generated from the OpenAPI document: every route × every role, on the demo
(its last year's conventioned dossier of Horizon Manosque, which solicits the État, the Ville and the
CAF but not DLVAgglo, the Ville's notification letter on it, the association's statuts…).

The expected answers are data: `authorization_matrix.yaml` (route → role → status). A route missing
from it fails the test, so a new route gets its row. A leak (a 2xx where the table expects a refusal)
is reported apart from other differences. `AAP_MATRIX_WRITE=1` rewrites the table from what the app
answers, to be reviewed line by line before committing.
"""

import os
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from aap.app import create_app
from aap.models import (
    Attachment,
    AvisPartenaire,
    Campaign,
    Cofinancement,
    Cpo,
    Dossier,
    Financeur,
    FocusSession,
    JoinRequest,
    Organisation,
    User,
)
from aap.settings import Settings
from tests.conftest import login

TABLE = Path(__file__).with_name("authorization_matrix.yaml")
ROLES = {
    "admin": "admin@demo.aap.test",
    "instructeur": "instructeur@demo.aap.test",
    "porteur": "porteur@demo.aap.test",
    "porteur_autre": "porteur2@demo.aap.test",
    "etat": "etat@demo.aap.test",
    "agglo": "agglo@demo.aap.test",
    "ville": "ville@demo.aap.test",
    "caf": "caf@demo.aap.test",
    "partenaire": "partenaire@demo.aap.test",
    "anonyme": None,
}
HEADER = """\
# Who gets what: route (and variant) -> role -> HTTP status, on the demo (see test_authorization_matrix.py).
# Writes are sent an empty JSON body: 422 means the caller got past the role check, not that it may write.
# Reviewed by hand: a 200 here is a decision that this role may read this object.
"""
# Extra cases beside each route's default one: "METHOD path | name=value,…" overrides.
VARIANTS = {
    "GET /api/v1/attachments/{attachment_id}": ["attachment_id=piece_statuts"],
    "GET /api/v1/dossiers/{dossier_id}": ["dossier_id=brouillon"],
    "GET /api/v1/dossiers/{dossier_id}/attachments": ["dossier_id=brouillon"],
    "GET /api/v1/dossiers/{dossier_id}/cofinancements/{financeur}/paiements": ["financeur=ETAT"],
}


def _targets(session: Session) -> dict[str, Any]:
    horizon = session.scalar(select(Organisation).where(Organisation.name == "Association Horizon Manosque"))
    assert horizon is not None
    dlva = session.scalar(select(Financeur.id).where(Financeur.code == "DLVA"))
    ville = session.scalar(select(Financeur.id).where(Financeur.code == "MANOSQUE"))
    dossier = next(
        d
        for d in session.scalars(
            select(Dossier)
            .where(Dossier.organisation_id == horizon.id, Dossier.state == "conventionne")
            .order_by(Dossier.id)
        )
        if dlva
        not in {c.financeur_id for c in session.scalars(select(Cofinancement).filter_by(dossier_id=d.id))}
    )
    brouillon = session.scalar(
        select(Dossier.id).where(Dossier.organisation_id == horizon.id, Dossier.state == "brouillon").limit(1)
    )
    letter = session.scalar(
        select(Attachment.id).where(Attachment.dossier_id == dossier.id, Attachment.financeur_id == ville)
    )
    statuts = session.scalar(
        select(Attachment.id).where(
            Attachment.organisation_id == horizon.id,
            Attachment.dossier_id.is_(None),
            Attachment.kind == "statuts",
        )
    )
    campaign = session.get(Campaign, dossier.campaign_id)
    assert campaign is not None and letter is not None and statuts is not None
    return {
        "dossier_id": dossier.id,
        "brouillon": brouillon,
        "campaign_id": campaign.id,
        "financeur": "MANOSQUE",
        "attachment_id": letter,
        "doc_id": letter,
        "piece_statuts": statuts,
        "organisation_id": horizon.id,
        "name": "abandonner",
        "rule": "brouillon_avant_cloture",
        "siret": "73282932000074",
        "code": campaign_territory_code(session, campaign),
        "focus_id": session.scalar(select(FocusSession.id).order_by(FocusSession.id).limit(1)) or 0,
        "avis_id": session.scalar(select(AvisPartenaire.id).order_by(AvisPartenaire.id).limit(1)) or 0,
        # another association's member: no one may remove it from Horizon's members
        "user_id": session.scalar(select(User.id).where(User.email == "porteur2@demo.aap.test")),
        "request_id": session.scalar(select(JoinRequest.id).order_by(JoinRequest.id).limit(1)) or 0,
        # the demo's CPO is Les Passerelles' (porteur_autre), signed by the État and DLVAgglo
        "cpo_id": session.scalar(select(Cpo.id).order_by(Cpo.id).limit(1)) or 0,
        "annee": campaign.year + 1,
        "insee": "04112",  # Manosque, the demo's commune
    }


def campaign_territory_code(session: Session, campaign: Campaign) -> str:
    from aap.models import Territory

    territory = session.get(Territory, campaign.territory_id)
    assert territory is not None
    return territory.code


def _cases(app: Any, targets: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(row key, method, url, body kind) for every operation of the OpenAPI document and its variants."""
    out = []
    for path, operations in app.openapi()["paths"].items():
        for method in operations:
            route = f"{method.upper()} {path}"
            for variant in [""] + VARIANTS.get(route, []):
                values = dict(targets)
                for pair in filter(None, variant.split(",")):
                    name, value = pair.split("=")
                    values[name] = targets.get(value, value)
                url = path.format(**values)
                key = route + (f" | {variant}" if variant else "")
                out.append((key, method.upper(), url, "form" if path.endswith("/auth/token") else "json"))
    # logging out cuts every session of the account: it goes last
    return sorted(out, key=lambda case: case[0].startswith("POST /api/v1/auth/logout"))


def _call(client: TestClient, method: str, url: str, body: str, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    if method == "GET":
        return client.get(url, headers=headers)
    if body == "form":
        return client.post(url, data={"username": "x@y.fr", "password": "faux"})
    return client.request(method, url, json={}, headers=headers)


def test_every_route_answers_every_role_as_the_table_says(
    db_engine, settings: Settings, demo: date, session: Session
) -> None:  # type: ignore[no-untyped-def]
    live = settings.model_copy(update={"registry_base_url": "http://127.0.0.1:9"})
    app = create_app(live, db_engine)
    targets = _targets(session)
    session.close()
    observed: dict[str, dict[str, int]] = {}
    bodies: dict[str, list[str]] = {role: [] for role in ROLES}
    with TestClient(app) as client:
        headers = {role: login(client, email) if email else {} for role, email in ROLES.items()}
        for key, method, url, body in _cases(app, targets):
            observed[key] = {}
            for role in ROLES:
                response = _call(client, method, url, body, headers[role])
                observed[key][role] = response.status_code
                if response.status_code < 300 and "json" in response.headers.get("content-type", ""):
                    bodies[role].append(response.text)
        headers = {role: login(client, email) if email else {} for role, email in ROLES.items()}
        # no list names a file its reader may not download (the letters of the other financers)
        all_files = [
            a
            for (a,) in client.app.state.sessionmaker()  # type: ignore[attr-defined]
            .execute(select(Attachment.id))
            .all()
        ]
        for role in ROLES:
            for attachment_id in all_files:
                url = f"/api/v1/attachments/{attachment_id}"
                if client.get(url, headers=headers[role]).status_code == 404:
                    named = [b for b in bodies[role] if f'"{url}"' in b]
                    assert not named, f"{role} voit {url} dans une liste mais ne peut le lire"
    if os.environ.get("AAP_MATRIX_WRITE"):
        TABLE.write_text(HEADER + yaml.safe_dump(observed, sort_keys=False, allow_unicode=True, width=200))
        pytest.skip("table réécrite : relisez-la avant de la valider")
    expected: dict[str, dict[str, int]] = yaml.safe_load(TABLE.read_text())
    missing = sorted(set(observed) - set(expected))
    assert not missing, f"routes absentes de {TABLE.name} : {missing}"
    leaks, differences = [], []
    for key, answers in observed.items():
        for role, status in answers.items():
            want = expected[key][role]
            if status != want:
                (leaks if status < 300 <= want else differences).append(
                    f"{key} [{role}] : {status} (attendu {want})"
                )
    assert leaks == [], "fuites : " + "\n".join(leaks)
    assert differences == [], "\n".join(differences)
    # (the registry answers 503 here: its address is a closed port, nothing leaves the machine)
    assert not any(s >= 500 and s != 503 for answers in observed.values() for s in answers.values())
