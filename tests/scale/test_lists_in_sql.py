"""Lists, counts and totals computed in SQL: the same answers as reading every dossier, at a cost that
does not grow with the campaign (statements counted with SQLAlchemy's event hooks)."""

import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from aap.demo.volume import GenerateRefused, generate
from aap.dossiers.queries import overdue_depose_days
from aap.models import Cofinancement, Dossier, DossierEvent, DossierTarget
from tests.conftest import login
from tests.web.staff_helpers import INSTRUCTEUR, web_login

DEPOSITED_AND_BEYOND = {
    "depose",
    "en_instruction",
    "complements_demandes",
    "instruit",
    "avise",
    "programme",
    "rejete",
    "conventionne",
    "bilan_depose",
    "cloture",
}


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _all(client: TestClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    """Every item of a filtered list, page after page."""
    items: list[dict[str, Any]] = []
    while True:
        page = client.get(
            "/api/v1/dossiers", headers=headers, params={**params, "limit": 7, "offset": len(items)}
        )
        assert page.status_code == 200, page.text
        body = page.json()
        items += body["items"]
        if len(items) >= body["total"] or not body["items"]:
            assert len(items) == body["total"]
            return items


def test_generate_adds_a_campaign_of_deposited_dossiers_in_realistic_states(
    db_engine: Engine, demo: date
) -> None:
    campaign = generate(db_engine, 80, 2, today=demo)
    with Session(db_engine) as s:
        states = Counter(s.scalars(select(Dossier.state).where(Dossier.campaign_id == campaign.id)))
        lines = s.execute(
            select(func.count(), func.count(func.distinct(Cofinancement.financeur_id)))
            .join(Dossier, Dossier.id == Cofinancement.dossier_id)
            .where(Dossier.campaign_id == campaign.id)
        ).one()
        qpv_rows = s.scalar(
            select(func.count())
            .select_from(DossierTarget)
            .join(Dossier)
            .where(Dossier.campaign_id == campaign.id, DossierTarget.kind == "qpv")
        )
        history = s.scalar(
            select(func.count())
            .select_from(DossierEvent)
            .join(Dossier)
            .where(Dossier.campaign_id == campaign.id)
        )
        numbers = s.scalars(select(Dossier.number).where(Dossier.campaign_id == campaign.id)).all()
    assert sum(states.values()) == 80
    assert set(states) <= DEPOSITED_AND_BEYOND and len(states) >= 6, states
    assert lines == (160, 2)  # two financer lines on each dossier
    assert qpv_rows >= 80  # every dossier targets one QPV or more
    assert history >= 2 * 80  # at least the draft and its dépôt
    assert all(n.startswith(f"{campaign.year}-") for n in numbers)
    with pytest.raises(GenerateRefused, match="entre 1 et 4"):
        generate(db_engine, 5, 9, today=demo)


def _reference(item: dict[str, Any], now: datetime) -> dict[str, Any]:
    """What a reader of the whole dossier would say: the rules the SQL filters must agree with."""
    action = item["answers"].get("action", {})
    overdue = False
    if item["state"] == "complements_demandes":
        overdue = date.fromisoformat(item["complements"]["due_date"]) < now.date()
    if item["state"] == "depose":  # nobody took it up within the instructeurs' reminder delay
        overdue = datetime.fromisoformat(item["dates"]["deposited_at"]) < now - timedelta(
            days=overdue_depose_days()
        )
    return {
        "qpv": set(action.get("qpv") or []),
        "orientation": action.get("orientation") or "",
        "financeurs": {c["financeur"] for c in item["cofinancements"]},
        "overdue": overdue,
    }


def test_the_api_filters_in_sql_agree_with_reading_every_dossier(
    client: TestClient, db_engine: Engine, demo: date
) -> None:
    campaign = generate(db_engine, 60, 3, today=demo)
    h = login(client, INSTRUCTEUR)
    everything = _all(client, h, campaign_id=campaign.id)
    assert len(everything) == 60
    now = datetime.now(UTC)
    ref = {d["id"]: _reference(d, now) for d in everything}

    def ids(**params: Any) -> set[int]:
        return {d["id"] for d in _all(client, h, campaign_id=campaign.id, **params)}

    assert ids(qpv="QN00401M") == {i for i, r in ref.items() if "QN00401M" in r["qpv"]} != set()
    expected_c = {i for i, r in ref.items() if r["orientation"] == "C" or r["orientation"].startswith("C.")}
    assert ids(orientation="C") == expected_c != set()
    assert ids(financeur="DLVA") == {i for i, r in ref.items() if "DLVA" in r["financeurs"]} != set()
    assert ids(financeur="CAF") == set()  # the first three financers only
    assert ids(overdue="true") == {i for i, r in ref.items() if r["overdue"]}
    by_state = Counter(d["state"] for d in everything)
    for state, n in by_state.items():
        assert len(ids(state=state)) == n
    one = everything[17]
    assert ids(q=one["number"]) == {one["id"]}
    assert one["id"] in ids(q=one["organisation"]["name"].upper())
    combined = ids(qpv="QN00402M", orientation="A", state="conventionne")
    assert combined == {
        i
        for i, r in ref.items()
        if "QN00402M" in r["qpv"]
        and (r["orientation"] == "A" or r["orientation"].startswith("A."))
        and next(d for d in everything if d["id"] == i)["state"] == "conventionne"
    }
    newest_first = client.get(
        "/api/v1/dossiers", headers=h, params={"campaign_id": campaign.id, "sort": "-numero", "limit": 3}
    ).json()["items"]
    assert [d["id"] for d in newest_first] == sorted(ref, reverse=True)[:3]
    wrong = client.get("/api/v1/dossiers", headers=h, params={"sort": "au_hasard"})
    assert wrong.status_code == 422 and wrong.json()["detail"]["code"] == "tri_inconnu"


def test_a_saved_answer_moves_the_dossier_between_filters(
    client: TestClient, db_engine: Engine, demo: date
) -> None:
    porteur = login(client, "porteur@demo.aap.test")
    staff = login(client, INSTRUCTEUR)
    draft = next(
        d
        for d in client.get("/api/v1/dossiers", headers=porteur, params={"state": "brouillon"}).json()[
            "items"
        ]
        if d["answers"].get("action", {}).get("orientation")
    )
    cid = draft["campaign_id"]
    r = client.patch(
        f"/api/v1/dossiers/{draft['id']}",
        headers={**porteur, "If-Match": str(draft["version"])},
        json={"answers": {"action": {"qpv": ["QN00402M"], "orientation": "D.2"}}},
    )
    assert r.status_code == 200, r.text
    found = {d["id"] for d in _all(client, staff, campaign_id=cid, qpv="QN00402M", orientation="D")}
    assert draft["id"] in found
    assert draft["id"] not in {d["id"] for d in _all(client, staff, campaign_id=cid, qpv="QN00401M")}
    assert draft["id"] not in {d["id"] for d in _all(client, staff, campaign_id=cid, orientation="C")}


def _instruction_page(client: TestClient, campaign_id: int, **params: Any) -> str:
    r = client.get("/instruction", params={"campagne": campaign_id, **params})
    assert r.status_code == 200, r.text
    return r.text


@pytest.mark.parametrize("size", [12, 90])
def test_a_staff_page_costs_the_same_statements_whatever_the_campaign_size(
    client: TestClient, db_engine: Engine, demo: date, size: int
) -> None:
    small = generate(db_engine, 12, 4, today=demo)
    big = generate(db_engine, size, 4, today=demo)
    web_login(client, INSTRUCTEUR)
    pages = {
        "liste": lambda c: _instruction_page(client, c),
        "liste filtrée": lambda c: _instruction_page(client, c, qpv="QN00401M", orientation="C", retard="1"),
        "comité": lambda c: client.get(f"/instruction/comite/{c}?etats=tous").text,
        "tableau de bord": lambda c: client.get(f"/tableau-de-bord?campagne={c}").text,
    }
    for name, open_page in pages.items():
        open_page(small.id)  # warm caches (forms, templates)
        with statements(db_engine) as on_small:
            open_page(small.id)
        with statements(db_engine) as on_big:
            html = open_page(big.id)
        assert len(on_big) == len(on_small), (
            f"{name} : {len(on_small)} requêtes pour 12, {len(on_big)} pour {size}"
        )
        assert len(on_big) < 40, name
        assert "Erreur" not in html[:500]
    listing = _instruction_page(client, big.id)
    total = re.search(r"(\d+) dossiers?(?: · page 1 sur (\d+))?</caption>", listing)
    assert total and int(total.group(1)) == size
    if size > 50:
        assert total.group(2) == str((size + 49) // 50)
        assert "Page 2" in listing


def test_the_api_list_and_a_financer_page_cost_the_same_statements_whatever_the_size(
    client: TestClient, db_engine: Engine, demo: date
) -> None:
    small = generate(db_engine, 10, 4, today=demo)
    big = generate(db_engine, 70, 4, today=demo)
    h = login(client, INSTRUCTEUR)
    web_login(client, "etat@demo.aap.test")
    for open_page in (
        lambda c: client.get("/api/v1/dossiers", headers=h, params={"campaign_id": c, "limit": 200}),
        lambda c: client.get("/financeur", params={"campagne": c}),
    ):
        open_page(small.id)
        with statements(db_engine) as on_small:
            assert open_page(small.id).status_code == 200
        with statements(db_engine) as on_big:
            assert open_page(big.id).status_code == 200
        assert len(on_big) == len(on_small)


def test_totaux_in_sql_agree_with_the_lines(client: TestClient, db_engine: Engine, demo: date) -> None:
    campaign = generate(db_engine, 50, 4, today=demo)
    h = login(client, INSTRUCTEUR)
    counted = [d for d in _all(client, h, campaign_id=campaign.id) if d["state"] != "abandonne"]
    t = client.get(f"/api/v1/campaigns/{campaign.id}/totaux", headers=h).json()
    per: dict[str, Decimal] = Counter()
    paid: dict[str, Decimal] = Counter()
    by_qpv: dict[str, Decimal] = Counter()
    by_root: dict[str, Decimal] = Counter()
    for d in counted:
        accorde = sum(
            (Decimal(c["montant_accorde"] or 0) for c in d["cofinancements"] if c["decision"] == "accorde"),
            Decimal(0),
        )
        for c in d["cofinancements"]:
            per[c["financeur"]] += Decimal(c["montant_accorde"] or 0) if c["decision"] == "accorde" else 0
            paid[c["financeur"]] += Decimal(c["montant_paye"])
        for q in d["answers"]["action"]["qpv"]:
            by_qpv[q] += accorde
        by_root[d["answers"]["action"]["orientation"].split(".")[0]] += accorde
    assert t["total"]["dossiers"] == len(counted)
    assert {f["financeur"]: Decimal(f["accorde"]) for f in t["financeurs"]} == {k: per[k] for k in per}
    assert {f["financeur"]: Decimal(f["paye"]) for f in t["financeurs"]} == {k: paid[k] for k in paid}
    assert {q["qpv"]: Decimal(q["accorde"]) for q in t["qpv"]} == dict(by_qpv)
    assert {
        o["orientation"]: Decimal(o["accorde"])
        for o in t["orientations_racines"]
        if by_root.get(o["orientation"])
    } == {k: v for k, v in by_root.items() if v}
    assert t["propre"] is None and len(t["cpo"]) == 4
    assert t["delais"]["depot_decision"]["dossiers"] == sum(
        1 for d in counted if d["state"] in ("programme", "rejete", "conventionne", "bilan_depose", "cloture")
    )
    agent = login(client, "caf@demo.aap.test")
    mine = client.get(f"/api/v1/campaigns/{campaign.id}/totaux", headers=agent).json()["propre"]
    assert mine["financeur"] == "CAF"
    assert Decimal(mine["total"]["accorde"]) == per["CAF"]
    assert mine["total"]["dossiers"] == sum(
        1 for d in counted if any(c["financeur"] == "CAF" for c in d["cofinancements"])
    )
