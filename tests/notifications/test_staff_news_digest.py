"""What the team hears after the decisions, through the real cron pass and a real SMTP server: the porteur
files the budget ajusté after a partial grant (an e-mail at once, a line in the next digest, the history
shows what changed), and the conventions to have signed are listed in the instructeurs' digest, once."""

import html
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from aap.accounts.service import create_user
from aap.models import User
from aap.settings import Settings
from notifications.cron import run_pass
from tests.api.helpers import drafts
from tests.financing.helpers import Actor, Walk, instruct, open_campaign, to_avise
from tests.notifications.conftest import SmtpServer, later_the_same_day, smtp  # noqa: F401  (the real SMTP server fixture)
from tests.web.staff_helpers import INSTRUCTEUR, web_login
from workflows.money import format_euros

COLLEAGUE = "instructrice2@demo.aap.test"


def _colleague(engine: Engine) -> None:
    """A second instructeur of the territory (to turn a digest line off)."""
    with Session(engine) as session:
        first = session.scalar(select(User).where(User.email == INSTRUCTEUR))
        assert first is not None
        create_user(
            session,
            email=COLLEAGUE,
            password="mot de passe de l'instructrice",
            role="instructeur",
            full_name="Nadia Colin",
            territory_id=first.territory_id,
        )
        session.commit()


def _put(actor: Actor, url: str, body: dict[str, Any]) -> Any:
    return actor.client.put(url, json=body, headers=actor.headers)


def _to(smtp: SmtpServer, rule: str, address: str) -> list[Any]:  # noqa: F811
    return [m for m in smtp.inbox.by_rule(rule) if m["To"] == address]


def _section(text: str, label: str) -> str:
    """One section of a digest (its heading up to the next one)."""
    start = text.index(f"== {label}")
    end = text.find("\n== ", start + 1)
    return text[start : end if end != -1 else None]


def _partial_grant(w: Walk) -> tuple[dict[str, Any], dict[str, Decimal]]:
    d = to_avise(w)
    accorded = {}
    for line in d["cofinancements"]:
        accorded[line["financeur"]] = (Decimal(line["montant_demande"]) * Decimal("0.6")).quantize(
            Decimal("0.01")
        )
        assert w.decide(d["id"], line["financeur"], "accorde", accorded[line["financeur"]]).status_code == 200
    d = w.porteur.get(f"/api/v1/dossiers/{d['id']}").json()
    assert d["state"] == "programme"
    return d, accorded


def _file(w: Walk, d: dict[str, Any], accorded: dict[str, Decimal], label: str) -> dict[str, Any]:
    budget = d["answers"]["budget"]
    produits = sum((Decimal(p["montant"]) for p in budget.get("produits", [])), Decimal(0))
    total = produits + sum(accorded.values(), Decimal(0))
    adjusted = {
        "charges": [{"compte": "64", "libelle": label, "montant": f"{total:.2f}"}],
        "produits": budget.get("produits", []),
        "financements": {code: f"{v:.2f}" for code, v in accorded.items()},
    }
    version = w.porteur.get(f"/api/v1/dossiers/{d['id']}").json()["version"]
    r = w.client.put(
        f"/api/v1/dossiers/{d['id']}/budget-ajuste",
        json={"budget": adjusted},
        headers={**w.porteur.headers, "If-Match": str(version)},
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_the_porteur_files_the_adjusted_budget_and_the_instructeurs_hear_of_it_by_email_and_digest(
    client: TestClient,
    demo: object,
    db_engine: Engine,
    settings: Settings,
    smtp: SmtpServer,  # noqa: F811
) -> None:
    _colleague(db_engine)
    colleague = Actor(client, COLLEAGUE, password="mot de passe de l'instructrice")
    off = _put(colleague, "/api/v1/me/preferences/instructeurs_budgets_ajustes", {"enabled": False})
    assert off.status_code == 200, off.text
    mandatory = _put(colleague, "/api/v1/me/preferences/budget_ajuste_recu", {"enabled": False})
    assert mandatory.status_code >= 400  # the e-mail of the event cannot be turned off
    w = Walk(client)
    d, accorded = _partial_grant(w)
    assert _file(w, d, accorded, "Animatrice à mi-temps (réduit)")["budget_version"] == 1

    live = settings.model_copy(update={"smtp_url": smtp.url})
    now = datetime.now(UTC) + timedelta(minutes=1)
    run_pass(db_engine, live, now)
    (mail,) = _to(smtp, "budget_ajuste_recu", INSTRUCTEUR)
    assert d["number"] in mail["Subject"] and "budget ajusté déposé" in mail["Subject"]
    assert "(version 1)" in mail["Subject"]
    text = smtp.inbox.text(mail)
    assert "Le porteur a déposé le budget ajusté de son action" in text
    for line in d["cofinancements"]:
        asked, given = Decimal(line["montant_demande"]), accorded[line["financeur"]]
        assert f"demandé {format_euros(asked)}, accordé {format_euros(given)}" in text
    assert f"{live.base_url.rstrip('/')}/dossiers/{d['id']}/budget-ajuste" in text
    assert "ne peut pas être désactivé" in text
    assert len(_to(smtp, "budget_ajuste_recu", COLLEAGUE)) == 1  # every instructeur of the territory
    assert not _to(smtp, "budget_ajuste_recu", "porteur@demo.aap.test")

    (digest,) = _to(smtp, "digest", INSTRUCTEUR)
    section = _section(smtp.inbox.text(digest), "Budgets ajustés déposés après une aide partielle")
    assert "(1)" in section.splitlines()[0] and d["number"] in section
    assert f"budget ajusté déposé le {now:%d/%m/%Y} (version 1)" in section
    assert f"/dossiers/{d['id']}/budget-ajuste" in section
    for mine in _to(smtp, "digest", COLLEAGUE):  # she turned that line off
        assert "Budgets ajustés" not in smtp.inbox.text(mine)

    before = len(smtp.inbox.messages)
    run_pass(db_engine, live, later_the_same_day(now))
    assert len(smtp.inbox.messages) == before  # the same day: nothing more

    # filed again the next morning: version 2, told again, and the next digest lists the new version
    assert _file(w, d, accorded, "Animatrice à mi-temps (réduit encore)")["budget_version"] == 2
    run_pass(db_engine, live, now + timedelta(days=1))
    assert [m["Subject"].endswith("(version 2)") for m in _to(smtp, "budget_ajuste_recu", INSTRUCTEUR)] == [
        False,
        True,
    ]

    # the history says it, with what changed; the instructeur's page links the budget
    web_login(client, INSTRUCTEUR)
    page = html.unescape(client.get(f"/instruction/dossiers/{d['id']}").text)
    history = page[page.index('id="historique-titre"') :]
    assert "Budget ajusté déposé (version 1)" in history and "Budget ajusté déposé (version 2)" in history
    assert "Animatrice à mi-temps (réduit) → Animatrice à mi-temps (réduit encore)" in history
    assert f'href="/dossiers/{d["id"]}/budget-ajuste"' in page
    budget_page = html.unescape(client.get(f"/dossiers/{d['id']}/budget-ajuste").text)
    assert "Animatrice à mi-temps (réduit encore)" in budget_page


def _conventioned_with_a_convention(w: Walk) -> dict[str, Any]:
    """A dossier asking the État 23 000 € (a convention from that amount), accorded and conventionné."""
    campaign = open_campaign(w.porteur)
    draft = next(x for x in drafts(w.porteur, campaign["id"]) if x["title"] and len(x["cofinancements"]) >= 2)
    budget = draft["answers"]["budget"]
    financements = {**budget["financements"], "ETAT": "23000.00"}
    produits = sum((Decimal(p["montant"]) for p in budget.get("produits", [])), Decimal(0))
    total = produits + sum((Decimal(v) for v in financements.values() if v), Decimal(0))
    patch = {
        "answers": {
            "budget": {
                "financements": financements,
                "charges": [{"compte": "64", "libelle": "Salaires et charges", "montant": f"{total:.2f}"}],
            }
        }
    }
    assert w.porteur.patch(f"/api/v1/dossiers/{draft['id']}", patch, draft["version"]).status_code == 200
    deposed = w.porteur.fire(draft["id"], "deposer")
    assert deposed.status_code == 200, deposed.text
    d = instruct(w, deposed.json())
    for line in d["cofinancements"]:
        assert w.decide(d["id"], line["financeur"], "accorde", line["montant_demande"]).status_code == 200
    conventioned = w.instructeur.fire(d["id"], "conventionner")
    assert conventioned.status_code == 200, conventioned.text
    return conventioned.json()


def _conventioned_with_letters_only(w: Walk) -> dict[str, Any]:
    """Another dossier of the same association: the État refuses, the others grant 2 000 € each: letters
    of notification only."""
    d = to_avise(w)
    for line in d["cofinancements"]:
        code = line["financeur"]
        if code == "ETAT":
            assert w.decide(d["id"], code, "refuse", motif="Enveloppe épuisée.").status_code == 200
        else:
            given = min(Decimal(line["montant_demande"]), Decimal("2000"))
            assert w.decide(d["id"], code, "accorde", given).status_code == 200
    conventioned = w.instructeur.fire(d["id"], "conventionner")
    assert conventioned.status_code == 200, conventioned.text
    kinds = {doc["kind"] for doc in w.porteur.get(f"/api/v1/dossiers/{d['id']}/documents").json()["items"]}
    assert "convention" not in kinds and "notification" in kinds
    return conventioned.json()


def test_the_instructeurs_digest_lists_the_conventions_to_have_signed_once(
    client: TestClient,
    demo: object,
    db_engine: Engine,
    settings: Settings,
    smtp: SmtpServer,  # noqa: F811
) -> None:
    _colleague(db_engine)
    colleague = Actor(client, COLLEAGUE, password="mot de passe de l'instructrice")
    prefs = {p["rule"]: p for p in colleague.get("/api/v1/me/preferences").json()["items"]}
    assert prefs["instructeurs_conventions_a_signer"]["optional"] is True
    assert prefs["instructeurs_conventions_a_signer"]["label"] == "Conventions à faire signer"
    off = _put(colleague, "/api/v1/me/preferences/instructeurs_conventions_a_signer", {"enabled": False})
    assert off.status_code == 200, off.text
    w = Walk(client)
    signed = _conventioned_with_a_convention(w)
    letters = _conventioned_with_letters_only(w)

    live = settings.model_copy(update={"smtp_url": smtp.url})
    now = datetime.now(UTC) + timedelta(minutes=1)
    run_pass(db_engine, live, now)
    (digest,) = _to(smtp, "digest", INSTRUCTEUR)
    section = _section(smtp.inbox.text(digest), "Conventions à faire signer")
    assert section.splitlines()[0] == "== Conventions à faire signer (1) =="
    assert signed["number"] in section and letters["number"] not in section  # a letter is not signed
    assert f"convention ou notification établie le {now:%d/%m/%Y}" in section
    assert "Convention à faire signer par : " in section and "État" in section
    assert "Conventions à faire signer" in smtp.inbox.html(digest)
    for mine in _to(smtp, "digest", COLLEAGUE):  # she turned that line off
        assert "Conventions à faire signer" not in smtp.inbox.text(mine)
    # the immediate e-mail still goes to both (an event message is never turned off)
    assert len(_to(smtp, "convention_a_signer", INSTRUCTEUR)) == 1
    assert len(_to(smtp, "convention_a_signer", COLLEAGUE)) == 1

    before = len(smtp.inbox.messages)
    run_pass(db_engine, live, later_the_same_day(now))
    assert len(smtp.inbox.messages) == before  # the same day: nothing more

    run_pass(db_engine, live, now + timedelta(days=1))
    for later in _to(smtp, "digest", INSTRUCTEUR)[1:]:  # listed once, not every day
        assert "Conventions à faire signer" not in smtp.inbox.text(later)
