"""A financer's SIRET and its open data settings come from the territory file, checked like the rest."""

import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from aap.models import Financeur
from aap.rules_files import RulesFileError, parse_territory_file
from aap.territories.service import save_territory

ROOT = Path(__file__).resolve().parents[2]
DEMO_TERRITORY = ROOT / "aap" / "demo" / "territory_dlva.yaml"

TERRITORY = """
code: essai
name: Contrat de ville d'essai
communes: [{insee: "04112", name: Manosque}]
qpv: [{code: QN00401M, name: Quartier Ouest, commune: "04112", population: 2600}]
orientations: [{code: A, label: Emploi}]
financeurs:
{financeurs}
"""


def write(tmp_path: Path, financeurs: str) -> Path:
    path = tmp_path / "territory.yaml"
    text = (
        textwrap.dedent(TERRITORY)
        .lstrip("\n")
        .replace("{financeurs}", textwrap.dedent(financeurs).strip("\n"))
    )
    path.write_text(text, encoding="utf-8")
    return path


def test_siret_and_threshold_are_optional_with_the_decree_default(tmp_path: Path) -> None:
    territory = parse_territory_file(
        write(
            tmp_path,
            """
            - {code: ETAT, name: État, kind: etat}
            - {code: VILLE, name: Ville, kind: commune, siret: "21040112000014",
               opendata: {seuil: "5000.00", publier_sous_seuil: true}}
            """,
        )
    )
    etat, ville = territory.financeurs
    assert (
        etat.siret is None
        and etat.opendata.seuil == Decimal("23000.00")
        and not etat.opendata.publier_sous_seuil
    )
    assert ville.siret == "21040112000014" and ville.opendata.seuil == Decimal("5000.00")
    assert ville.opendata.publier_sous_seuil


def test_a_wrong_siret_is_refused_with_its_line_and_a_french_reason(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        - {code: ETAT, name: État, kind: etat, siret: "17040001400017"}
        - {code: VILLE, name: Ville, kind: commune, siret: "2104011200"}
        - {code: CAF, name: CAF, kind: caf, opendata: {seuil: "-1", publier: oui}}
        """,
    )
    with pytest.raises(RulesFileError) as info:
        parse_territory_file(path)
    errors = {e.path: e for e in info.value.errors}
    assert errors["financeurs[0].siret"].code == "siret_invalide"
    assert "clé de contrôle" in errors["financeurs[0].siret"].message
    assert errors["financeurs[0].siret"].line == 7
    assert "14 chiffres" in errors["financeurs[1].siret"].message and errors["financeurs[1].siret"].line == 8
    assert "financeurs[2].opendata.seuil" in errors and "financeurs[2].opendata.publier" in errors


def test_the_demo_financers_have_a_siret_and_publish_small_amounts(session: Session) -> None:
    territory = parse_territory_file(DEMO_TERRITORY)
    save_territory(session, territory)
    session.commit()
    rows = list(session.scalars(select(Financeur).order_by(Financeur.code)))
    assert [f.code for f in rows] == ["CAF", "DLVA", "ETAT", "MANOSQUE"]
    assert all(f.siret and len(f.siret) == 14 for f in rows)
    assert all(f.opendata_sous_seuil and f.opendata_seuil == Decimal("23000.00") for f in rows)
