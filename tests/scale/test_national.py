"""The national data set (`aap bench generate --national`), scaled down to a few contracts: valid for the
app (its staff log in and open their pages), its kept totals equal to a fresh count, each contract's
pages showing its own calls only."""

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from aap.cli import app as cli
from aap.demo.national import NATIONAL, generate_national
from aap.demo.volume import GenerateRefused
from aap.financing import summary
from aap.models import Campaign, Cofinancement, Dossier, DossierTarget, Organisation, Qpv, Territory
from tests.settings_env import settings_from_env
from tests.web.staff_helpers import web_login

SMALL = replace(NATIONAL.scaled(3), years=2)


def test_the_national_set_scaled_down_keeps_its_proportions(db_engine: Engine, demo: date) -> None:
    report = generate_national(db_engine, SMALL, today=demo)
    assert (report.territories, report.campaigns) == (3, 6)
    with Session(db_engine) as s:
        contracts = s.scalars(select(Territory.id).where(Territory.code.like("cv%"))).all()
        assert len(contracts) == 3
        assert (
            s.scalar(select(func.count()).select_from(Qpv).where(Qpv.territory_id.in_(contracts)))
            == SMALL.qpv
        )
        assert (
            s.scalar(
                select(func.count()).select_from(Organisation).where(Organisation.territory_id.in_(contracts))
            )
            == SMALL.organisations
        )
        calls = s.scalars(select(Campaign).where(Campaign.territory_id.in_(contracts))).all()
        assert sorted(Counter(c.year for c in calls).values()) == [3, 3]  # one call a year per contract
        ids = [c.id for c in calls]
        dossiers = s.scalar(select(func.count()).select_from(Dossier).where(Dossier.campaign_id.in_(ids)))
        lines = s.scalar(
            select(func.count()).select_from(Cofinancement).join(Dossier).where(Dossier.campaign_id.in_(ids))
        )
        # each dossier targets its own contract's QPV, and solicits its four financers
        foreign = s.scalar(
            select(func.count())
            .select_from(DossierTarget)
            .join(Dossier)
            .join(Campaign)
            .where(
                Campaign.id.in_(ids),
                DossierTarget.kind == "qpv",
                ~DossierTarget.code.in_(select(Qpv.code).where(Qpv.territory_id == Campaign.territory_id)),
            )
        )
        newest = max(c.year for c in calls)
        states_now = Counter(
            s.scalars(
                select(Dossier.state).join(Campaign).where(Campaign.id.in_(ids), Campaign.year == newest)
            )
        )
        states_before = Counter(
            s.scalars(
                select(Dossier.state).join(Campaign).where(Campaign.id.in_(ids), Campaign.year < newest)
            )
        )
        for campaign_id in ids:  # the kept totals equal a fresh count
            delta = summary.check(s, campaign_id)
            assert not delta.sums and not delta.delays, campaign_id
    assert dossiers == report.dossiers >= 2 * SMALL.dossiers_per_year * 0.9
    assert lines == 4 * dossiers == report.lines
    assert foreign == 0
    assert {"depose", "en_instruction", "conventionne"} <= set(states_now)  # the newest call is under way
    assert set(states_before) <= {"cloture", "rejete", "conventionne", "bilan_depose"}
    assert states_before.most_common(1)[0][0] == "cloture"  # the older ones are closed
    with pytest.raises(GenerateRefused, match="déjà chargé"):
        generate_national(db_engine, SMALL, today=demo)


def test_a_contracts_staff_open_their_pages_on_the_national_set(
    client: TestClient, db_engine: Engine, demo: date
) -> None:
    report = generate_national(db_engine, SMALL, today=demo)
    with Session(db_engine) as s:
        campaign = s.get(Campaign, report.biggest_campaign_id)
        assert campaign is not None
        territory = s.get(Territory, campaign.territory_id)
        assert territory is not None and report.biggest_instructeur.endswith(
            f"@{territory.code}.national.aap.test"
        )
        qpv = s.scalars(select(Qpv.code).where(Qpv.territory_id == territory.id).order_by(Qpv.code)).first()
        dossier = s.scalars(
            select(Dossier).where(Dossier.campaign_id == campaign.id).order_by(Dossier.id)
        ).first()
        assert dossier is not None
        older = s.scalar(
            select(Campaign.id).where(Campaign.territory_id == territory.id, Campaign.year < campaign.year)
        )
        other = s.scalar(
            select(Campaign.id).where(
                Campaign.territory_id != territory.id,
                Campaign.code.like("cv%"),
                Campaign.year == campaign.year,
            )
        )
    c = campaign.id
    web_login(client, report.biggest_instructeur)
    listing = client.get("/instruction", params={"campagne": c})
    assert (
        listing.status_code == 200
        and dossier.number in client.get("/instruction", params={"campagne": c, "q": dossier.number}).text
    )
    filtered = client.get("/instruction", params={"campagne": c, "etat": "conventionne", "qpv": qpv})
    assert filtered.status_code == 200
    for path in (
        f"/tableau-de-bord?campagne={c}",
        f"/instruction/comite/{c}",
        f"/instruction/dossiers/{dossier.id}",
        f"/instruction?campagne={older}",
    ):
        page = client.get(path)
        assert page.status_code == 200, (path, page.text[:300])
    assert dossier.title and dossier.title in client.get(f"/instruction/dossiers/{dossier.id}").text
    token = client.post(
        "/api/v1/auth/token", data={"username": report.biggest_instructeur, "password": "demo"}
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    totals = client.get(f"/api/v1/campaigns/{c}/totaux", headers=headers)
    assert totals.status_code == 200, totals.text
    with Session(db_engine) as s:
        counted = s.scalar(
            select(func.count())
            .select_from(Dossier)
            .where(Dossier.campaign_id == c, Dossier.state.not_in(("brouillon", "non_depose", "abandonne")))
        )
    assert totals.json()["total"]["dossiers"] == counted
    # another contract's call is not this instructeur's
    assert client.get(f"/api/v1/campaigns/{other}/totaux", headers=headers).status_code in (403, 404)
    web_login(client, f"etat@{territory.code}.national.aap.test")
    assert client.get(f"/financeur?campagne={c}").status_code == 200


@pytest.fixture
def configured(db_engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[None]:  # type: ignore[no-untyped-def]
    with settings_from_env(
        monkeypatch,
        AAP_DATABASE_URL=db_engine.url.render_as_string(hide_password=False),
        AAP_DATA_DIR=str(tmp_path),
    ):
        yield


def test_the_command_builds_the_national_set_or_one_campaign_not_both(configured: None, demo: date) -> None:
    result = CliRunner().invoke(
        cli, ["bench", "generate", "--national", "--territoires", "2", "--years", "1"]
    )
    assert result.exit_code == 0, result.output
    assert "Jeu national : 2 contrats de ville" in result.output
    for args in ([], ["--national", "--dossiers", "5"]):
        refused = CliRunner().invoke(cli, ["bench", "generate", *args])
        assert refused.exit_code == 2 and "--dossiers N ou --national" in refused.output
