"""The yearly cycle of a CPO: its yearly dossier appears once when the campaign of its year opens, on the
light form, prefilled; it is instructed like any dossier with the planned amounts proposed; its payments
wait for last year's bilan; the totals show each financer's share under CPO."""

import threading
from datetime import UTC, datetime, time
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from aap.cpo import cycle
from aap.db import make_engine
from aap.models import CpoAnnee, Dossier, Territory
from tests.bilans.helpers import fill
from tests.cpo.helpers import Walk, open_campaign, signed_cpo


def _now() -> datetime:
    return datetime.now(UTC)


def _yearly(session: Session, cpo_id: int) -> list[tuple[int, int]]:
    """(id, campaign id) of the CPO's yearly dossiers."""
    session.expire_all()
    found = [(d.id, d.campaign_id) for d in session.scalars(select(Dossier).where(Dossier.cpo_id == cpo_id))]
    session.rollback()  # SQLite: a transaction holds the write lock the API needs
    return found


def test_racing_passes_make_one_yearly_dossier_prefilled_on_the_light_form(
    client: TestClient, demo, db_engine: Engine, session: Session
) -> None:
    w = Walk(client)
    cpo = signed_cpo(w)
    campaign = open_campaign(w.admin)
    url = db_engine.url.render_as_string(hide_password=False)
    engines = [make_engine(url) for _ in range(3)]
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []
    made: list[dict[str, int]] = []

    def one_pass(engine: Engine) -> None:
        try:
            barrier.wait()
            with Session(engine, expire_on_commit=False) as s:
                made.append(cycle.run(s, _now()))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=one_pass, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for e in engines:
        e.dispose()
    assert not errors, errors
    assert sum(m["cpo_dossiers_annuels"] for m in made) == 1
    yearly = _yearly(session, cpo["id"])
    assert len(yearly) == 1 and yearly[0][1] == campaign["id"]
    yearly_id = yearly[0][0]

    # even forced past its bookkeeping, the database keeps it to one dossier per CPO and campaign
    annee = session.scalar(select(CpoAnnee).where(CpoAnnee.dossier_id == yearly_id))
    assert annee is not None
    annee_id = annee.id
    annee.dossier_id = None
    session.flush()
    assert cycle.make_yearly_dossier(session, cpo["id"], annee_id, campaign["id"], _now()) is False
    session.rollback()
    assert session.scalar(select(func.count()).where(Dossier.cpo_id == cpo["id"])) == 1
    session.rollback()

    shown = w.porteur.get(f"/api/v1/dossiers/{yearly_id}")
    assert shown.status_code == 200, shown.text
    d = shown.json()
    assert d["cpo_id"] == cpo["id"] and d["state"] == "brouillon"
    assert d["form"] == {"code": "cpo_annuel", "version": 1}
    assert set(d["answers"]["budget"]["financements"].values()) == {"4000.00"}
    origin = w.admin.get(f"/api/v1/dossiers/{cpo['dossier_origine']}").json()
    assert origin["number"] in d["answers"]["bilan"]["reference"]
    assert {c["montant_demande"] for c in d["cofinancements"]} == {"4000.00"}
    after = w.admin.get(f"/api/v1/cpos/{cpo['id']}").json()
    assert after["annees"][1]["dossier_id"] == yearly_id and after["annees"][2]["dossier_id"] is None


def _to_conventionne(w: Walk, did: int) -> dict:
    d = w.porteur.get(f"/api/v1/dossiers/{did}").json()
    patch = {
        "changements": {"evolutions": "Rien ne change."},
        "budget": {"total": "20000.00"},
        "attestation": {"nom": "Awa Diallo", "sur_l_honneur": True},
    }
    r = w.porteur.patch(f"/api/v1/dossiers/{did}", {"answers": patch}, d["version"])
    assert r.status_code == 200, r.text
    r = w.porteur.fire(did, "deposer")
    assert r.status_code == 200, r.text
    r = w.instructeur.fire(did, "prendre_en_instruction")
    assert r.status_code == 200, r.text
    assert {c["montant_propose"] for c in r.json()["cofinancements"]} == {"4000.00"}  # the planned amount
    assert w.instructeur.fire(did, "terminer_instruction").status_code == 200
    assert w.instructeur.fire(did, "rendre_avis", avis="favorable").status_code == 200
    for line in r.json()["cofinancements"]:
        assert w.decide(did, line["financeur"], "accorde", "4000.00").status_code == 200
    r = w.instructeur.fire(did, "conventionner")
    assert r.status_code == 200, r.text
    return r.json()


def test_a_yearly_payment_waits_for_last_years_bilan_unless_an_avance_was_voted(
    client: TestClient, demo, session: Session
) -> None:
    w = Walk(client)
    cpo = signed_cpo(w)
    cycle.run(session, _now())
    session.rollback()
    did = _yearly(session, cpo["id"])[0][0]
    d = _to_conventionne(w, did)
    first, second = (c["financeur"] for c in d["cofinancements"])
    today = datetime.now(UTC).date().isoformat()

    def pay(code: str, kind: str = "avance"):  # type: ignore[no-untyped-def]
        return w.agents[code].post(
            f"/api/v1/dossiers/{did}/cofinancements/{code}/paiements",
            json={"kind": kind, "date": today, "montant": "2000.00"},
        )

    blocked = pay(first)
    assert blocked.status_code == 409, blocked.text
    detail = blocked.json()["detail"]
    assert detail["code"] == "cpo_bilan_precedent_non_valide"
    assert "bilan" in detail["message"] and str(cpo["annees"][0]["annee"]) in detail["message"]

    url = f"/api/v1/cpos/{cpo['id']}/annees/{cpo['annees'][1]['annee']}/avance-avant-bilan"
    body = {"financeur": first, "justification": "Délibération du 12 mars : avance votée avant le bilan."}
    assert w.instructeur.post(url, json=body).status_code == 403
    assert w.admin.post(url, json={**body, "justification": " "}).status_code == 422
    assert w.admin.post(url, json=body).status_code == 200
    assert pay(first).status_code == 201
    assert pay(first, "solde").status_code == 409  # the avance only
    assert pay(second).status_code == 409
    history = w.admin.get(f"/api/v1/cpos/{cpo['id']}/history").json()["items"]
    voted = [e for e in history if e["transition"] == "avance_avant_bilan"]
    assert (
        voted
        and voted[0]["comment"].startswith("Délibération du 12 mars")
        and voted[0]["by"] == w.admin.email
    )

    origin = cpo["dossier_origine"]
    fill(w.porteur, origin)  # last year's bilan, complete
    assert w.porteur.fire(origin, "deposer_bilan").status_code == 200
    assert w.instructeur.fire(origin, "valider_bilan").status_code == 200
    assert pay(second).status_code == 201

    shown = w.admin.get(f"/api/v1/cpos/{cpo['id']}").json()
    year = {f["financeur"]: f for f in shown["annees"][1]["financeurs"]}
    assert year[first] == {"financeur": first, "prevu": "4000.00", "accorde": "4000.00", "paye": "2000.00"}
    assert year[second]["paye"] == "2000.00"


def test_the_totals_show_each_financers_share_under_cpo_against_half(
    client: TestClient, demo, session: Session
) -> None:
    w = Walk(client)
    cpo = signed_cpo(w)
    cycle.run(session, _now())
    session.rollback()
    did = _yearly(session, cpo["id"])[0][0]
    d = _to_conventionne(w, did)
    campaign = open_campaign(w.admin)
    totaux = w.instructeur.get(f"/api/v1/campaigns/{campaign['id']}/totaux").json()
    shares = {s["financeur"]: s for s in totaux["cpo"]}
    accorded = {f["financeur"]: Decimal(f["accorde"]) for f in totaux["financeurs"]}
    for line in d["cofinancements"]:
        s = shares[line["financeur"]]
        assert s["montant_cpo"] == "4000.00" and s["actions_cpo"] == 1 and s["cible"] == "0.50"
        assert Decimal(s["montant_total"]) == accorded[line["financeur"]]
        share = Decimal("4000") / Decimal(s["montant_total"])
        assert Decimal(s["part"]) == share.quantize(Decimal("0.01"))  # the API rounds the part
        assert s["actions_total"] >= 1
    mine = w.agents[d["cofinancements"][0]["financeur"]].get(f"/api/v1/campaigns/{campaign['id']}/totaux")
    assert mine.status_code == 200, mine.text
    assert [s["financeur"] for s in mine.json()["cpo"]] == [d["cofinancements"][0]["financeur"]]


def test_a_signed_cpo_starts_with_its_first_year_and_ends_after_its_last(
    client: TestClient, demo, session: Session
) -> None:
    w = Walk(client)
    cpo = signed_cpo(w)
    last = cpo["annees"][-1]["annee"]
    assert cycle.advance(session, datetime.combine(datetime(last, 12, 31).date(), time(12), UTC)) == 0
    assert cycle.advance(session, datetime(last + 1, 1, 1, 8, tzinfo=UTC)) == 2  # the demo's CPO too
    session.rollback()
    assert w.admin.get(f"/api/v1/cpos/{cpo['id']}").json()["state"] == "echue"
    assert cycle.advance(session, datetime(last + 1, 1, 2, 8, tzinfo=UTC)) == 0


def test_a_dossier_closed_without_a_validated_bilan_still_holds_the_next_years_payment(
    client: TestClient, demo, session: Session
) -> None:
    """The guard asks the bilans domain (injected in `aap/wiring.py`), not the dossier's state: last
    year's dossier closed by hand (an import, a correction) without its bilan validated holds the money."""
    w = Walk(client)
    cpo = signed_cpo(w)
    cycle.run(session, _now())
    session.rollback()
    did = _yearly(session, cpo["id"])[0][0]
    d = _to_conventionne(w, did)
    code = d["cofinancements"][0]["financeur"]
    origin = session.get(Dossier, cpo["dossier_origine"])
    assert origin is not None
    origin.state = "cloture"  # closed, its bilan never validated
    session.commit()
    r = w.agents[code].post(
        f"/api/v1/dossiers/{did}/cofinancements/{code}/paiements",
        json={"kind": "avance", "date": datetime.now(UTC).date().isoformat(), "montant": "1000.00"},
    )
    assert r.status_code == 409, r.text
    assert r.json()["detail"]["code"] == "cpo_bilan_precedent_non_valide"


def test_the_cpo_domain_imports_nothing_of_bilans() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "aap" / "cpo"
    for path in root.glob("*.py"):
        assert "aap.bilans" not in path.read_text(encoding="utf-8"), path.name


def test_the_totals_compute_the_cpo_share_once(client: TestClient, demo, db_engine: Engine) -> None:
    """`/totaux` and the dashboard draw the CPO share from one computation: one query on the CPO's
    amounts per request, not one in the totals and another in the route."""
    w = Walk(client)
    campaign = open_campaign(w.admin)
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if "cpo_montants" in statement:
            seen.append(statement)

    event.listen(db_engine, "before_cursor_execute", count)
    try:
        r = w.instructeur.get(f"/api/v1/campaigns/{campaign['id']}/totaux")
    finally:
        event.remove(db_engine, "before_cursor_execute", count)
    assert r.status_code == 200, r.text
    assert r.json()["cpo"] and len(seen) == 1, seen


def test_a_cpo_ends_after_its_last_year_at_midnight_where_the_contract_is(
    client: TestClient, demo, session: Session
) -> None:
    """A contract in Papeete (UTC-10): 08:00 UTC on 1 January is still 31 December there."""
    w = Walk(client)
    cpo = signed_cpo(w)
    last = cpo["annees"][-1]["annee"]
    for territory in session.scalars(select(Territory)):
        territory.fuseau = "Pacific/Tahiti"
    session.commit()
    assert cycle.advance(session, datetime(last + 1, 1, 1, 8, tzinfo=UTC)) == 0
    assert cycle.advance(session, datetime(last + 1, 1, 1, 11, tzinfo=UTC)) == 2  # 01:00 in Papeete
    session.rollback()
    assert w.admin.get(f"/api/v1/cpos/{cpo['id']}").json()["state"] == "echue"
