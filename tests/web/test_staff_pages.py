"""The staff pages through HTTP, as a browser without JavaScript uses them: who may open which page,
the instruction of a dossier by its forms, a financer's decision, and the all-or-nothing bulk form."""

import re
from datetime import date
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.web.staff_helpers import (
    ADMIN,
    AGENTS,
    INSTRUCTEUR,
    csrf_of,
    deposit_demo_dossiers,
    dossier_row,
    instruct_to_avise,
    web_login,
)

PORTEUR = "porteur@demo.aap.test"
PAGES = {
    "/instruction": (INSTRUCTEUR, ADMIN),
    "/instruction/comite": (INSTRUCTEUR, ADMIN),
    "/financeur": (AGENTS["ETAT"], AGENTS["CAF"]),
    "/admin": (ADMIN,),
    "/admin/utilisateurs": (ADMIN,),
    "/admin/territoire": (ADMIN,),
    "/tableau-de-bord": (ADMIN, INSTRUCTEUR, AGENTS["ETAT"], AGENTS["CAF"]),
}
EVERYONE = (ADMIN, INSTRUCTEUR, AGENTS["ETAT"], AGENTS["CAF"], PORTEUR)


@pytest.mark.parametrize("path", sorted(PAGES))
def test_an_anonymous_visitor_is_sent_to_the_login_page(client: TestClient, demo: date, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/connexion?suivant=")


@pytest.mark.parametrize("path", sorted(PAGES))
def test_each_page_opens_for_its_roles_and_refuses_the_others(
    client: TestClient, demo: date, path: str
) -> None:
    for email in EVERYONE:
        web_login(client, email)
        response = client.get(path)
        if email in PAGES[path]:
            assert response.status_code == 200, (email, response.text[:500])
            assert "<h1" in response.text
        else:
            assert response.status_code == 403, (email, path)
            assert "Accès refusé" in response.text


def test_the_list_filters_and_counts_dossiers_by_state(
    client: TestClient, demo: date, db_engine: Engine
) -> None:
    deposit_demo_dossiers(db_engine, 2)  # today; the demo's Passerelles deposited one a week ago
    web_login(client, INSTRUCTEUR)
    page = client.get("/instruction").text
    assert re.search(r'<span class="count">3</span> déposé', page)
    filtered = client.get("/instruction", params={"etat": "depose"}).text
    assert filtered.count('href="/instruction/dossiers/') == 3
    assert "0 dossier" not in filtered
    late = client.get("/instruction", params={"etat": "depose", "retard": "1"}).text
    assert late.count('href="/instruction/dossiers/') == 1  # the one waiting for a week
    by_financer = client.get("/instruction", params={"financeur": "NOPE"}).text
    assert "Aucun dossier ne correspond" in by_financer


def test_an_instructeur_instructs_a_dossier_through_its_forms(
    client: TestClient, demo: date, db_engine: Engine
) -> None:
    [dossier_id] = deposit_demo_dossiers(db_engine, 1)
    token = web_login(client, INSTRUCTEUR)
    url = f"/instruction/dossiers/{dossier_id}"
    page = client.get(url).text
    assert "Prendre en instruction" in page and 'aria-current="step"' in page

    def fire(name: str, **fields: str):  # type: ignore[no-untyped-def]
        version = re.search(r'name="version" value="(\d+)"', client.get(url).text)
        assert version
        return client.post(
            f"{url}/transitions/{name}", data={"csrf": token, "version": version.group(1), **fields}
        )

    assert fire("prendre_en_instruction").status_code == 200
    # Finishing before proposing amounts: refused, with every missing line listed, linked to its field.
    refused = fire("terminer_instruction")
    assert refused.status_code == 422
    assert "Aucun montant proposé pour le financeur" in refused.text
    assert 'href="#p-' in refused.text
    # A wrong amount is refused next to its field.
    line = dossier_row(db_engine, dossier_id).cofinancements[0]
    wrong = client.post(
        f"{url}/propositions/{line.financeur.code}", data={"csrf": token, "montant": "beaucoup"}
    )
    assert wrong.status_code == 422 and 'aria-invalid="true"' in wrong.text
    for line in dossier_row(db_engine, dossier_id).cofinancements:
        amount = f"{line.montant_demande - 100:.2f}".replace(".", ",")
        response = client.post(
            f"{url}/propositions/{line.financeur.code}", data={"csrf": token, "montant": amount}
        )
        assert response.status_code == 200, response.text[:500]
    assert fire("terminer_instruction").status_code == 200
    no_avis = fire("rendre_avis")
    assert no_avis.status_code == 422 and "L'avis du comité technique est obligatoire" in unescape(
        no_avis.text
    )
    done = fire("rendre_avis", avis="favorable", comment="Cohérent avec l'orientation C.")
    assert done.status_code == 200
    assert "Avis rendu" in done.text
    assert dossier_row(db_engine, dossier_id).state == "avise"


def test_a_stale_form_is_refused_without_effect(client: TestClient, demo: date, db_engine: Engine) -> None:
    [dossier_id] = deposit_demo_dossiers(db_engine, 1)
    token = web_login(client, INSTRUCTEUR)
    url = f"/instruction/dossiers/{dossier_id}"
    version = dossier_row(db_engine, dossier_id).version
    assert (
        client.post(
            f"{url}/transitions/prendre_en_instruction", data={"csrf": token, "version": str(version)}
        ).status_code
        == 200
    )
    stale = client.post(
        f"{url}/transitions/demander_complements",
        data={"csrf": token, "version": str(version), "comment": "RIB", "due_date": "2099-01-01"},
    )
    assert stale.status_code == 412
    assert dossier_row(db_engine, dossier_id).state == "en_instruction"


def test_a_form_without_its_csrf_token_is_refused(client: TestClient, demo: date, db_engine: Engine) -> None:
    [dossier_id] = deposit_demo_dossiers(db_engine, 1)
    web_login(client, INSTRUCTEUR)
    response = client.post(f"/instruction/dossiers/{dossier_id}/transitions/prendre_en_instruction", data={})
    assert response.status_code == 403
    assert dossier_row(db_engine, dossier_id).state == "depose"


def test_a_decision_posted_through_the_financer_form_is_recorded(
    client: TestClient, demo: date, db_engine: Engine
) -> None:
    [dossier_id] = deposit_demo_dossiers(db_engine, 1)
    instruct_to_avise(db_engine, [dossier_id])
    codes = [line.financeur.code for line in dossier_row(db_engine, dossier_id).cofinancements]
    for i, code in enumerate(codes):
        token = web_login(client, AGENTS[code])
        page = client.get("/financeur").text
        assert f'href="/financeur/dossiers/{dossier_id}"' in page
        url = f"/financeur/dossiers/{dossier_id}"
        # A refusal needs its motif.
        bad = client.post(f"{url}/decision", data={"csrf": token, "decision": "refuse", "motif": ""})
        assert bad.status_code == 422 and "Le motif de la décision est obligatoire" in bad.text
        data = (
            {"csrf": token, "decision": "accorde", "montant": "1000,00"}
            if i == 0
            else {"csrf": token, "decision": "refuse", "motif": "Hors de nos priorités cette année."}
        )
        response = client.post(f"{url}/decision", data=data)
        assert response.status_code == 200, response.text[:500]
        assert "Décision enregistrée" in response.text
    d = dossier_row(db_engine, dossier_id)
    first = next(line for line in d.cofinancements if line.financeur.code == codes[0])
    assert first.decision == "accorde" and f"{first.montant_accorde:.2f}" == "1000.00"
    assert d.state == "programme"


def _bulk_form(page: str) -> dict[str, str]:
    return {"csrf": csrf_of(page), "campagne": re.search(r'name="campagne" value="(\d+)"', page).group(1)}  # type: ignore[union-attr]


def test_the_bulk_form_is_all_or_nothing_with_errors_on_their_rows(
    client: TestClient, demo: date, db_engine: Engine
) -> None:
    ids = deposit_demo_dossiers(db_engine, 2)
    instruct_to_avise(db_engine, ids)
    code = next(
        line.financeur.code
        for line in dossier_row(db_engine, ids[0]).cofinancements
        if any(
            other.financeur.code == line.financeur.code
            for other in dossier_row(db_engine, ids[1]).cofinancements
        )
    )
    web_login(client, AGENTS[code])
    page = client.get("/financeur").text
    for dossier_id in ids:
        assert f'id="b-{dossier_id}-decision"' in page
    form = _bulk_form(page)
    data = {
        **form,
        "dossier": [str(ids[0]), str(ids[1])],
        f"b-{ids[0]}-decision": "accorde",
        f"b-{ids[0]}-montant": "500",
        f"b-{ids[1]}-decision": "accorde",
        f"b-{ids[1]}-montant": "99999999",
    }
    refused = client.post("/financeur/decisions", data=data)
    assert refused.status_code == 422
    assert "Aucune décision n'a été enregistrée" in unescape(refused.text)
    assert f'href="#b-{ids[1]}-montant"' in refused.text
    assert 'class="row-error"' in refused.text
    for dossier_id in ids:  # nothing written, not even the valid row
        line = next(
            li for li in dossier_row(db_engine, dossier_id).cofinancements if li.financeur.code == code
        )
        assert line.decision is None
    data = {
        **form,
        "dossier": [str(ids[0]), str(ids[1])],
        f"b-{ids[0]}-decision": "accorde",
        f"b-{ids[0]}-montant": "500",
        f"b-{ids[1]}-decision": "ajourne",
        f"b-{ids[1]}-motif": "Attendre le bilan 2025.",
    }
    accepted = client.post("/financeur/decisions", data=data)
    assert accepted.status_code == 200 and "2 décisions enregistrées" in accepted.text
    decided = [
        next(li for li in dossier_row(db_engine, i).cofinancements if li.financeur.code == code).decision
        for i in ids
    ]
    assert decided == ["accorde", "ajourne"]


def test_the_comite_page_totals_against_envelopes_and_links_the_exports(
    client: TestClient, demo: date, db_engine: Engine
) -> None:
    ids = deposit_demo_dossiers(db_engine, 1)
    instruct_to_avise(db_engine, ids)
    web_login(client, INSTRUCTEUR)
    page = client.get("/instruction/comite", follow_redirects=True)
    assert page.status_code == 200
    assert "Totaux par financeur face aux enveloppes" in page.text
    assert "<tfoot>" in page.text
    assert "programmation?format=csv" in page.text and "programmation?format=xlsx" in page.text
    campaign_id = dossier_row(db_engine, ids[0]).campaign_id
    csv = client.get(f"/api/v1/campaigns/{campaign_id}/programmation?format=csv")
    assert csv.status_code == 200 and dossier_row(db_engine, ids[0]).number in csv.text


def test_the_admin_changes_an_envelope_and_opens_an_account(client: TestClient, demo: date) -> None:
    token = web_login(client, ADMIN)
    page = client.get("/admin").text
    action = re.search(r'action="(/admin/campagnes/\d+/enveloppes/CAF)"', page)
    assert action
    below = client.post(action.group(1), data={"csrf": token, "enveloppe": "-5"})
    assert below.status_code == 422
    ok = client.post(action.group(1), data={"csrf": token, "enveloppe": "30 000,00"})
    assert ok.status_code == 200 and "Enveloppe de CAF enregistrée" in ok.text
    assert 'value="30000.00"' in ok.text
    missing = client.post(
        "/admin/utilisateurs",
        data={
            "csrf": token,
            "email": "x",
            "full_name": "",
            "role": "financeur",
            "financeur": "",
            "password": "court",
        },
    )
    assert missing.status_code == 422
    for target in ("u-email", "u-full-name", "u-financeur", "u-password"):
        assert f'href="#{target}"' in missing.text
    created = client.post(
        "/admin/utilisateurs",
        data={
            "csrf": token,
            "email": "agent.caf@demo.aap.test",
            "full_name": "Agent CAF",
            "role": "financeur",
            "financeur": "CAF",
            "password": "un mot de passe long",
        },
    )
    assert created.status_code == 200 and "agent.caf@demo.aap.test" in created.text
    web_login(client, "agent.caf@demo.aap.test", "un mot de passe long")
    assert client.get("/financeur").status_code == 200


def test_the_dashboard_draws_its_charts_with_text_alternatives(client: TestClient, demo: date) -> None:
    web_login(client, ADMIN)
    page = client.get("/tableau-de-bord").text
    for chart in (
        "graphique-financeurs",
        "graphique-orientations",
        "graphique-qpv",
        "graphique-delais",
        "graphique-cpo",
    ):
        assert f'id="{chart}" role="img"' in page
        assert f'<desc id="{chart}-desc">' in page
    assert page.count('class="bar"') >= 8
    assert 'class="target"' in page and "Objectif : 50 %" in page
    # last year's call (the default: it has decisions) holds the demo's CPO; this year's has none accorded yet
    assert "Aucun montant n'est encore accordé sous convention" not in unescape(page)
    this_year = client.get(f"/tableau-de-bord?campagne={_open_campaign_id(client)}").text
    assert "Aucun montant n'est encore accordé sous convention pluriannuelle d'objectifs" in unescape(
        this_year
    )
    web_login(client, AGENTS["CAF"])
    theirs = client.get("/tableau-de-bord").text
    assert "Caisse" in theirs or "CAF" in theirs
    assert "Ville de Manosque :" not in theirs  # no other financer's bar


def _open_campaign_id(client: TestClient) -> int:
    """This year's open call, as listed by the API to the logged-in page user."""
    items = client.get("/api/v1/campaigns").json()["items"]
    return next(c["id"] for c in items if c["depot_ouvert"])
