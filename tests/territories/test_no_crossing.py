"""No read or write crosses territories: every API route, called by each account of another territory
on the demo territory's objects, answers as if they did not exist, and changes nothing."""

import re
from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from aap.models import (
    Attachment,
    AvisPartenaire,
    Bilan,
    Campaign,
    CampaignCommune,
    CampaignFinanceur,
    Cofinancement,
    Cpo,
    Dossier,
    DossierEvent,
    FocusContribution,
    FocusParticipation,
    FocusSession,
    JoinRequest,
    Membership,
    Organisation,
    Payment,
)
from tests.conftest import login
from tests.territories.helpers import PASSWORD, demo_open_campaign, load_metro

# routes about the caller itself or about no territory's object
OWN = {
    "/api/v1/health",
    "/api/v1/auth/token",
    "/api/v1/me",
    "/api/v1/lifecycle.mmd",
    "/api/v1/cpos/lifecycle.mmd",
    "/api/v1/campaigns",
    "/api/v1/dossiers",
    "/api/v1/me/notifications",
    "/api/v1/me/preferences",
    "/api/v1/me/preferences/{rule}",
    "/api/v1/registry/siret/{siret}",
    # the account's own life (accounts): logout, registration, links by e-mail, its address and password
    "/api/v1/cpos",  # the CPOs of the caller's own territory (a list, as /campaigns)
    "/api/v1/auth/logout",
    "/api/v1/auth/register",
    "/api/v1/auth/verify",
    "/api/v1/auth/password-reset",
    "/api/v1/auth/password-reset/confirm",
    "/api/v1/auth/email-change/confirm",
    "/api/v1/auth/invitations/accept",
    "/api/v1/me/email",
    "/api/v1/me/password",
    # the caller's own territory's focus sessions (`?territory=` names another: open to porteurs, who
    # may work in several contracts); registering and recording in one is checked below by `focus_id`
    "/api/v1/focus",
    # the caller's own personal data, and the access log of the accounts of the admin's own territory
    # (`aap.rgpd.journal`: rows of `accounts_of_territory`, whatever object they name)
    "/api/v1/account/export",
    "/api/v1/access-log",
}
# a porteur may read any territory's call (with its envelopes, as the call itself shows them) and file
# in it: an association may work in several contracts
OPEN_TO_PORTEURS = {
    ("get", "/api/v1/campaigns/{campaign_id}"),
    ("get", "/api/v1/campaigns/{campaign_id}/enveloppes"),
    ("get", "/api/v1/campaigns/{campaign_id}/form"),
    ("post", "/api/v1/campaigns/{campaign_id}/dossiers"),
}
BODIES: dict[str, Any] = {
    "proposition": {"montant": "10.00"},
    "decision": {"decision": "accorde", "montant": "10.00"},
    "decisions": {"decisions": []},
    "paiements": {"kind": "avance", "montant": "10.00", "paid_on": "2026-01-01"},
    "extension": {"until": "2099-01-01", "reason": "essai"},
    "reconduire": {"campaign_id": 0},
    "validation": {"comment": "essai"},
    "contributions": {"theme": "Essai", "texte": "Une contribution d'un autre territoire"},
}


def _snapshot(engine: Engine) -> list[Any]:
    with Session(engine) as s:
        return [
            sorted((d.id, d.state, d.version, d.campaign_id) for d in s.scalars(select(Dossier))),
            sorted(
                (c.id, c.montant_propose, c.decision, c.montant_accorde)
                for c in s.scalars(select(Cofinancement))
            ),
            sorted((p.id, p.montant) for p in s.scalars(select(Payment))),
            sorted((c.id, c.enveloppe) for c in s.scalars(select(CampaignFinanceur))),
            sorted((c.id, c.validated_at) for c in s.scalars(select(CampaignCommune))),
            s.query(DossierEvent).count(),
            s.query(Attachment).count(),
            sorted((a.id, a.state) for a in s.scalars(select(AvisPartenaire))),
            sorted((b.id, b.state, b.version) for b in s.scalars(select(Bilan))),
            s.query(FocusParticipation).count(),
            s.query(FocusContribution).count(),
            sorted((c.id, c.state) for c in s.scalars(select(Cpo))),
            sorted((m.user_id, m.organisation_id) for m in s.scalars(select(Membership))),
        ]


def test_no_route_lets_another_territorys_accounts_read_or_write_the_demos_objects(
    client: TestClient, db_engine: Engine, demo: date
) -> None:
    load_metro(db_engine, demo)
    with Session(db_engine) as s:
        campaign = demo_open_campaign(s)
        previous = s.scalars(
            select(Campaign).where(Campaign.territory_id == campaign.territory_id).order_by(Campaign.year)
        ).first()
        assert previous is not None
        dossier = s.scalars(
            select(Dossier).where(Dossier.campaign_id == previous.id, Dossier.state == "conventionne")
        ).first()
        assert dossier is not None
        document = s.scalars(select(Attachment).where(Attachment.dossier_id == dossier.id)).first()
        piece = s.scalars(select(Attachment).where(Attachment.organisation_id.is_not(None))).first()
        organisation = s.scalars(
            select(Organisation).where(Organisation.territory_id == campaign.territory_id)
        ).first()
        assert piece is not None and organisation is not None
        values = {
            "campaign_id": campaign.id,
            "dossier_id": dossier.id,
            "financeur": "ETAT",  # the metropolis has an ETAT of its own: codes are no key across territories
            "insee": "04112",
            "doc_id": document.id if document else 1,
            "attachment_id": piece.id,
            "organisation_id": organisation.id,
            "name": "prendre_en_instruction",
            "avis_id": s.scalar(select(AvisPartenaire.id).order_by(AvisPartenaire.id).limit(1)) or 1,
            "focus_id": s.scalar(
                select(FocusSession.id).where(FocusSession.territory_id == campaign.territory_id).limit(1)
            )
            or 1,
        }
        cpo = s.scalars(select(Cpo).where(Cpo.territory_id == campaign.territory_id)).first()
        values["cpo_id"] = cpo.id if cpo else 1
        values["annee"] = campaign.year
        values["user_id"] = (
            s.scalar(select(Membership.user_id).where(Membership.organisation_id == organisation.id).limit(1))
            or 1
        )
        values["request_id"] = s.scalar(select(JoinRequest.id).limit(1)) or 1
        BODIES["participations"] = {"dossier_id": dossier.id, "beneficiaires": {"femmes": 1}}
    before = _snapshot(db_engine)
    accounts = [
        "admin@metro.test",
        "instructeur@metro.test",
        "etat@metro.test",
        "loriol@metro.test",
        "porteur@metro.test",
    ]
    headers = {email: login(client, email, PASSWORD) for email in accounts}
    crossed: list[str] = []
    checked = 0
    for path, operations in client.get("/api/openapi.json").json()["paths"].items():
        if not path.startswith("/api/v1") or path in OWN:
            continue
        params = re.findall(r"{(\w+)}", path)
        missing = [p for p in params if p not in values]
        assert not missing, f"{path}: say which demo object {missing} stands for"
        url = path.format(**values)
        for method in operations:
            for email in accounts:
                if email.startswith("porteur") and (method, path) in OPEN_TO_PORTEURS:
                    continue
                body = BODIES.get(path.rstrip("/").rsplit("/", 1)[-1])
                if method == "patch":
                    response = client.patch(
                        url, headers={**headers[email], "If-Match": "1"}, json={"answers": {}}
                    )
                elif method in ("post", "put"):
                    response = client.request(
                        method.upper(), url, headers=headers[email], json=body or {"enveloppe": "1.00"}
                    )
                else:
                    response = client.get(url, headers=headers[email])
                checked += 1
                if response.status_code < 400 or response.status_code == 409:
                    crossed.append(f"{email} {method.upper()} {url} → {response.status_code}")
    assert checked > 100
    assert crossed == [], "\n".join(crossed)
    assert _snapshot(db_engine) == before
