"""The public directory of funded actions, the per-quartier view, the calls and their feed: open to
anyone, showing only programmed actions and only the fields meant for the public."""

from decimal import Decimal
from typing import Any
from xml.etree import ElementTree as ET

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from aap.financing.totaux import totaux
from aap.models import Campaign, Cofinancement, Dossier, DossierEvent, DossierMessage, Organisation, User
from aap.opendata import service
from tests.api.helpers import drafts, open_campaign
from tests.financing.helpers import Walk, instruct
from tests.opendata.helpers import scdl_csv

ATOM = "{http://www.w3.org/2005/Atom}"


def _public_titles(session: Session) -> list[str]:
    rows = session.scalars(
        select(Dossier.title).where(
            Dossier.state.in_(("programme", "conventionne", "bilan_depose", "cloture"))
        )
    )
    return [t for t in rows if t]


def test_actions_lists_the_programmed_actions_of_a_quartier_without_login(
    client: TestClient, demo, session: Session
) -> None:
    page = client.get("/actions", params={"territory": "dlva", "quartier": "QN00402M"})
    assert page.status_code == 200
    html = page.text
    assert '<html lang="fr">' in html and "<caption>" in html and 'scope="col"' in html
    assert "Paroles d&#39;ados" in html  # Quartier Est only
    assert "Permanences d&#39;accès aux droits" not in html  # Quartier Ouest only
    assert "Quartier Est" in html and "Association Horizon Manosque" in html
    everything = client.get("/actions", params={"territory": "dlva"}).text
    titles = _public_titles(session)
    session.rollback()
    assert titles and all(t.replace("'", "&#39;") in everything for t in titles)


def test_actions_shows_no_personal_data_no_internal_note_and_no_amount_asked(
    client: TestClient, demo, session: Session
) -> None:
    line = session.scalars(
        select(Cofinancement).join(Dossier).where(Dossier.state == "conventionne").order_by(Cofinancement.id)
    ).first()
    assert line is not None
    line.montant_demande = Decimal("98765.43")
    line.motif = "NOTE-INTERNE-DU-FINANCEUR"
    dossier = session.get(Dossier, line.dossier_id)
    assert dossier is not None
    dossier.complements_message = "NOTE-INTERNE-COMPLEMENTS"
    session.add(
        DossierEvent(
            dossier_id=dossier.id,
            transition="commentaire",
            to_state=dossier.state,
            role="instructeur",
            comment="NOTE-INTERNE-HISTORIQUE",
        )
    )
    session.add(
        DossierMessage(
            dossier_id=dossier.id,
            audience="interne",
            author_email="instructeur@demo.aap.test",
            author_role="instructeur",
            body="NOTE-INTERNE-DIALOGUE",
        )
    )
    session.commit()
    people: list[str] = []
    for org in session.scalars(select(Organisation)):
        people += [v for v in (org.representative_name, org.representative_email, org.email, org.phone) if v]
    contact = dossier.answers.get("contact") or {}
    people += [v for v in contact.values() if isinstance(v, str) and v]
    people += [u.email for u in session.scalars(select(User))]
    session.rollback()
    assert people
    pages = [
        client.get("/actions").text,
        client.get("/actions", params={"territory": "dlva"}).text,
        client.get("/actions/quartiers", params={"territory": "dlva"}).text,
        client.get("/opendata/subventions.csv").text,
        client.get("/opendata/subventions.json").text,
    ]
    for text in pages:
        for secret in ("98765", "98 765", "NOTE-INTERNE", *people):
            assert secret not in text, secret


def test_the_quartier_view_gives_the_dashboard_figures(client: TestClient, demo, session: Session) -> None:
    campaign = session.scalars(select(Campaign).order_by(Campaign.year)).first()
    admin = session.scalar(select(User).where(User.email == "admin@demo.aap.test"))
    assert campaign is not None and admin is not None
    dashboard = {q["qpv"]: f"{q['accorde']:.2f}" for q in totaux(session, admin, campaign.id)["qpv"]}
    year = campaign.year
    view = service.quartiers(session, "dlva", str(year))
    session.rollback()
    mine = {p["code"]: f"{p['accorde']:.2f}" for p in view["places"] if p["actions"]}
    assert mine == dashboard and len(mine) == 2
    for place in view["places"]:
        assert sum(o["accorde"] for o in place["orientations"]) == place["accorde"]
        assert sum(o["part"] for o in place["orientations"]) == 1
    html = client.get("/actions/quartiers", params={"territory": "dlva", "annee": year}).text
    for place in view["places"]:
        amount = f"{place['accorde']:,.2f}".replace(",", "\u202f").replace(".", ",")
        assert place["name"] in html and amount in html


def test_the_atom_feed_lists_the_open_call_and_its_public_page_says_how_to_apply(
    client: TestClient, demo, session: Session
) -> None:
    open_call = session.scalars(select(Campaign).order_by(Campaign.year.desc())).first()
    assert open_call is not None
    title, code, cloture = open_call.title, open_call.code, open_call.depot_cloture
    session.rollback()
    feed = client.get("/territoires/dlva/appels.atom")
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(feed.content)
    entries = root.findall(f"{ATOM}entry")
    assert title in [e.findtext(f"{ATOM}title") for e in entries]
    entry = next(e for e in entries if e.findtext(f"{ATOM}title") == title)
    link = entry.find(f"{ATOM}link")
    assert link is not None and link.get("href", "").endswith(f"/territoires/dlva/appels/{code}")
    assert root.findtext(f"{ATOM}updated") and entry.findtext(f"{ATOM}id")

    page = client.get(f"/territoires/dlva/appels/{code}")
    assert page.status_code == 200
    from aap.web.rendering import date_long

    assert date_long(cloture) in page.text
    assert "Comment déposer un dossier" in page.text and "/inscription" in page.text
    assert "Les documents à joindre" in page.text and "Clôture du dépôt" in page.text
    listing = client.get("/territoires/dlva/appels").text
    assert f"/territoires/dlva/appels/{code}" in listing and "appels.atom" in listing


def test_a_call_not_yet_launched_is_neither_in_the_feed_nor_public(
    client: TestClient, demo, session: Session
) -> None:
    call = session.scalars(select(Campaign).order_by(Campaign.year.desc())).first()
    assert call is not None
    code, title = call.code, call.title
    call.dates = {**call.dates, "lancement": "2999-01-01"}
    session.commit()
    assert title not in client.get("/territoires/dlva/appels.atom").text
    missing = client.get(f"/territoires/dlva/appels/{code}")
    assert missing.status_code == 404 and f"Appel à projets inconnu : « {code} »" in missing.text


def test_unknown_territory_year_or_quartier_is_a_french_404(client: TestClient, demo) -> None:
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("/actions", {"territory": "atlantide"}, "Territoire inconnu : « atlantide »"),
        ("/actions", {"territory": "dlva", "annee": "1999"}, "Année inconnue : « 1999 »"),
        ("/actions", {"annee": "l-an-dernier"}, "Année inconnue"),
        ("/actions", {"territory": "dlva", "quartier": "QN99999Z"}, "Quartier inconnu : « QN99999Z »"),
        ("/actions", {"territory": "dlva", "orientation": "Z.9"}, "Orientation inconnue : « Z.9 »"),
        ("/actions", {"page": "99"}, "Page inconnue"),
        ("/actions/quartiers", {"territory": "atlantide"}, "Territoire inconnu"),
        ("/actions/quartiers", {"territory": "dlva", "annee": "1999"}, "Année inconnue"),
        ("/territoires/atlantide/appels.atom", {}, "Territoire inconnu"),
        ("/territoires/atlantide/appels", {}, "Territoire inconnu"),
        ("/territoires/dlva/appels/nulle-part", {}, "Appel à projets inconnu"),
    ]
    for url, params, words in cases:
        response = client.get(url, params=params)
        assert response.status_code == 404, (url, params)
        assert words in response.text, (url, params)


def test_a_draft_a_refused_and_a_withdrawn_dossier_never_appear_on_any_public_page(
    client: TestClient, demo, session: Session
) -> None:
    w = Walk(client)
    campaign = open_campaign(w.porteur)
    secret = {
        "draft": "Brouillon confidentiel 4711",
        "refused": "Action refusée 4712",
        "withdrawn": "Action retirée 4713",
    }

    def retitled(dossier: dict[str, Any], title: str) -> dict[str, Any]:
        r = w.porteur.patch(
            f"/api/v1/dossiers/{dossier['id']}", {"answers": {"action": {"titre": title}}}, dossier["version"]
        )
        assert r.status_code == 200, r.text
        return r.json()

    created = w.porteur.post(f"/api/v1/campaigns/{campaign['id']}/dossiers", json={}).json()
    retitled(created, secret["draft"])

    def deposit_one(title: str) -> dict[str, Any]:
        """One of the porteur's complete demo drafts, retitled and deposed."""
        for d in drafts(w.porteur, campaign["id"]):
            if d["id"] == created["id"] or not d["title"]:
                continue
            former = d["title"]
            d = retitled(d, title)
            if w.porteur.fire(d["id"], "deposer").status_code == 200:
                return w.dossier(d["id"])
            retitled(d, former)
        raise AssertionError("no complete draft left in the demo")

    refused = instruct(w, deposit_one(secret["refused"]))
    for line in refused["cofinancements"]:
        assert w.decide(refused["id"], line["financeur"], "refuse", motif="Hors priorités").status_code == 200
    assert w.dossier(refused["id"])["state"] == "rejete"

    # a programmed action of the same call does appear: the pages can show this year's actions
    programmed = instruct(w, deposit_one("Action programmée 4714"))
    for line in programmed["cofinancements"]:
        r = w.decide(programmed["id"], line["financeur"], "accorde", montant=line["montant_propose"])
        assert r.status_code == 200, r.text
    assert w.dossier(programmed["id"])["state"] == "programme"

    withdrawn = next(d for d in drafts(w.porteur, campaign["id"]) if d["id"] != created["id"])
    retitled(withdrawn, secret["withdrawn"])
    assert w.porteur.fire(withdrawn["id"], "abandonner").status_code == 200

    year = str(campaign["year"])
    urls = [
        "/actions",
        f"/actions?territory=dlva&annee={year}",
        "/actions/quartiers?territory=dlva",
        f"/actions/quartiers?territory=dlva&annee={year}",
        "/territoires/dlva/appels",
        "/territoires/dlva/appels.atom",
        f"/territoires/dlva/appels/{campaign['code']}",
        "/opendata/subventions.csv",
        "/opendata/subventions.json",
        f"/opendata/subventions.json?annee={year}",
    ]
    seen = {url: client.get(url) for url in urls}
    for url, response in seen.items():
        assert response.status_code == 200, url
        for title in secret.values():
            assert title not in response.text, (title, url)
    assert "Action programmée 4714" in seen[f"/actions?territory=dlva&annee={year}"].text
    assert "Action programmée 4714" in seen[f"/actions/quartiers?territory=dlva&annee={year}"].text
    # programmed is public, but no convention yet: not in the subsidies file
    assert all(r["objet"] != "Action programmée 4714" for r in scdl_csv(client))


def test_the_directory_is_paginated(client: TestClient, demo, session: Session) -> None:
    query = service.directory_query(session, "dlva", None, None, None, "2")
    second = service.directory(session, query, page_size=2)
    first = service.directory(
        session, service.directory_query(session, "dlva", None, None, None, None), page_size=2
    )
    session.rollback()
    assert first["total"] == second["total"] >= 5 and first["pages"] == second["pages"] == 3
    assert len(first["items"]) == 2 and len(second["items"]) == 2
    assert not {a["title"] for a in first["items"]} & {a["title"] for a in second["items"]}
    html = client.get("/actions", params={"territory": "dlva"}).text
    assert f"{first['total']} actions" in html


def test_an_orientation_filter_takes_its_sub_objectives(client: TestClient, demo) -> None:
    html = client.get("/actions", params={"territory": "dlva", "orientation": "C"}).text
    assert "Paroles d&#39;ados" in html and "Accompagnement à la scolarité" in html  # C.3 and C.1
    assert "Médiation numérique" not in html  # D.1
    session_free = client.get("/actions", params={"territory": "dlva", "orientation": "C.3"}).text
    assert "Paroles d&#39;ados" in session_free and "Accompagnement à la scolarité" not in session_free
