"""Steps the CPO tests share: a conventioned dossier of last year becomes a CPO over three years."""

from typing import Any

from tests.financing.helpers import Walk, open_campaign, previous_campaign

__all__ = [
    "Walk",
    "conventioned_with_two_financers",
    "open_campaign",
    "previous_campaign",
    "propose",
    "signed_cpo",
]


def conventioned_with_two_financers(w: Walk) -> dict[str, Any]:
    campaign = previous_campaign(w.admin)
    origins = {c["dossier_origine"] for c in w.admin.get("/api/v1/cpos").json()["items"]}
    items = w.instructeur.get(
        "/api/v1/dossiers", params={"campaign_id": campaign["id"], "state": "conventionne"}
    ).json()["items"]
    return next(
        d
        for d in items
        if len(d["cofinancements"]) >= 2
        and d["organisation"]["name"]
        and d["id"] not in origins
        and d["bilan_due"]  # its bilan still to file (not one sent back for corrections)
        and w.porteur.get(f"/api/v1/dossiers/{d['id']}").status_code == 200
    )


def propose(
    w: Walk, dossier: dict[str, Any], years: list[int] | None = None, amounts: dict[str, Any] | None = None
):  # type: ignore[no-untyped-def]
    first = previous_campaign(w.admin)["year"]
    years = years if years is not None else [first, first + 1, first + 2]
    codes = [c["financeur"] for c in dossier["cofinancements"]][:2]
    amounts = amounts if amounts is not None else {code: ["4000.00", "4000.00", "4000.00"] for code in codes}
    return w.instructeur.post(
        f"/api/v1/dossiers/{dossier['id']}/cpo",
        json={"annees": years, "financeurs": amounts, "objectifs": "Réussite scolaire : 60 élèves suivis."},
    )


def signed_cpo(w: Walk) -> dict[str, Any]:
    """A 3-year CPO from last year's dossier (last year, this year, next year), signed by two financers."""
    r = propose(w, conventioned_with_two_financers(w))
    assert r.status_code == 201, r.text
    cpo = r.json()
    for s in cpo["signataires"]:
        r = w.agents[s["financeur"]].post(f"/api/v1/cpos/{cpo['id']}/transitions/signer")
        assert r.status_code == 200, r.text
    return r.json()
