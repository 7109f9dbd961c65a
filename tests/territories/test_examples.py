"""Done when: two territories with the same campaign code, many communes and a par_commune campaign
load from files on a fresh instance (the documented examples, through the commands)."""

from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from aap.models import Campaign, CampaignCommune, Financeur, Qpv
from tests.db.test_rules_loading import ROOT, run_cli


def test_the_metropolitan_examples_load_beside_another_territory_with_the_same_campaign_code(
    db_engine: Engine, tmp_path: Path
) -> None:
    loriol_campaign = tmp_path / "loriol.yaml"
    text = (ROOT / "docs/examples/campaign.example.yaml").read_text(encoding="utf-8")
    loriol_campaign.write_text(
        text.replace("code: loriol-2022-fonctionnement", "code: appel-annuel-2027"), encoding="utf-8"
    )
    for command in (
        ("partenaire", "load", "docs/examples/partenaires.example.yaml"),
        ("territory", "load", "docs/examples/territory.metropole.example.yaml"),
        ("campaign", "load", "docs/examples/campaign.metropole.example.yaml"),
        ("territory", "load", "docs/examples/territory.example.yaml"),
        ("campaign", "load", str(loriol_campaign)),
    ):
        done = run_cli(db_engine, *command, tmp_path=tmp_path)
        assert done.returncode == 0, (command, done.stderr)
    with Session(db_engine) as s:
        same = list(
            s.scalars(select(Campaign).where(Campaign.code == "appel-annuel-2027").order_by(Campaign.id))
        )
        assert [c.title for c in same] == [
            "Appel à projets 2027 de la Métropole du Val",
            "Appel à projets 2022 du contrat de ville « cœur de Loriol »",
        ]
        metro = same[0]
        assert metro.validation == "par_commune"
        parts = dict(
            s.execute(
                select(CampaignCommune.commune_insee, CampaignCommune.validation_date).where(
                    CampaignCommune.campaign_id == metro.id
                )
            ).all()
        )
        assert {k: v.isoformat() for k, v in parts.items()} == {
            "26198": "2027-03-25",
            "26166": "2027-03-12",
            "26010": "2027-03-25",
        }
        kinds = dict(
            s.execute(select(Qpv.code, Qpv.kind).where(Qpv.territory_id == metro.territory_id)).all()
        )
        assert kinds["VEILLE01"] == "quartier_veille" and kinds["QN02602X"] == "qpv"
        etat = s.scalar(
            select(Financeur).where(Financeur.territory_id == metro.territory_id, Financeur.code == "ETAT")
        )
        assert etat is not None and etat.name == "État – préfecture de la Drôme (programme 147)"
