"""The campaign totals kept in the writing transaction (`aap.financing.summary`) always equal a fresh
count: after the demo, deposits, proposals, decisions, payments, an abandon and a statement-level
update; and the staff's `/totaux` (read from them) equals the grouped queries' answer."""

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from aap.financing import summary, totaux
from aap.models import Campaign, Dossier, User
from tests.financing.helpers import Walk, open_campaign, previous_campaign, to_avise


def _disagreements(engine: Engine) -> dict[int, summary.Share]:
    with Session(engine) as s:
        out = {}
        for campaign_id in s.scalars(select(Campaign.id)):
            delta = summary.check(s, campaign_id)
            if delta.sums or delta.delays:
                out[campaign_id] = delta
        return out


def _live(engine: Engine, campaign_id: int) -> dict:
    """The staff's totals computed by the grouped queries (as a financer's are)."""
    with Session(engine) as s:
        user = s.scalar(select(User).where(User.email == "instructeur@demo.aap.test"))
        assert user is not None
        covers, totaux._summary_covers = totaux._summary_covers, lambda _u, _c: False  # type: ignore[assignment]
        try:
            return totaux.totaux(s, user, campaign_id)
        finally:
            totaux._summary_covers = covers  # type: ignore[assignment]


def test_the_kept_totals_follow_every_write(client: TestClient, demo, db_engine: Engine) -> None:
    assert _disagreements(db_engine) == {}
    w = Walk(client)
    d = to_avise(w)
    line = d["cofinancements"][0]
    assert w.decide(d["id"], line["financeur"], "accorde", line["montant_demande"]).status_code == 200
    assert _disagreements(db_engine) == {}
    previous = previous_campaign(w.admin)
    paid = w.admin.get("/api/v1/dossiers", params={"campaign_id": previous["id"]}).json()["items"][0]
    code = paid["cofinancements"][0]["financeur"]
    r = w.agents[code].post(
        f"/api/v1/dossiers/{paid['id']}/cofinancements/{code}/paiements",
        json={"kind": "solde", "date": date.today().isoformat(), "montant": "10"},
    )
    assert r.status_code == 201, r.text
    assert w.porteur.fire(d["id"], "abandonner").status_code == 200  # leaves the counted dossiers
    with Session(db_engine) as s:  # a statement, not an object: its campaign is recounted
        s.execute(update(Dossier).where(Dossier.id == paid["id"]).values(orientation_code="Z.9"))
        s.commit()
    assert _disagreements(db_engine) == {}

    for campaign in (previous, open_campaign(w.admin)):
        shown = w.instructeur.get(f"/api/v1/campaigns/{campaign['id']}/totaux").json()
        expected = _live(db_engine, campaign["id"])
        assert shown["total"]["dossiers"] == expected["total"]["dossiers"]
        assert shown["total"]["accorde"] == f"{expected['total']['accorde']:.2f}"
        assert shown["total"]["paye"] == f"{expected['total']['paye']:.2f}"
        assert [o["orientation"] for o in shown["orientations"]] == [
            o["orientation"] for o in expected["orientations"]
        ]
        assert [(q["qpv"], q["dossiers"]) for q in shown["qpv"]] == [
            (q["qpv"], q["dossiers"]) for q in expected["qpv"]
        ]
        assert shown["delais"] == expected["delais"]
