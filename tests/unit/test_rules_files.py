"""The territory and campaign files: valid files load, wrong ones are refused with every error,
each at its line, in French."""

from __future__ import annotations

import textwrap
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from aap.demo.campaigns import demo_campaigns
from aap.rules_files import (
    LocatedError,
    RulesFileError,
    parse_campaign,
    parse_campaign_file,
    parse_territory,
    parse_territory_file,
)

ROOT = Path(__file__).resolve().parents[2]
DEMO_TERRITORY = ROOT / "aap" / "demo" / "territory_dlva.yaml"
EXAMPLES = ROOT / "docs" / "examples"


def write(tmp_path: Path, text: str, name: str = "territory.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def refused(parse, *args) -> list[LocatedError]:
    with pytest.raises(RulesFileError) as info:
        parse(*args)
    return info.value.errors


def by_path(errors: list[LocatedError]) -> dict[str, LocatedError]:
    return {e.path: e for e in errors}


MINIMAL_TERRITORY = """
code: essai
name: Contrat de ville d'essai
communes:
  - insee: "04112"
    name: Manosque
qpv:
  - code: QN00401M
    name: Quartier Ouest
    commune: "04112"
    population: 2600
orientations:
  - code: A
    label: Emploi
financeurs:
  - {code: ETAT, name: État, kind: etat}
"""

VALID_CAMPAIGN = {
    "territory": "dlva",
    "code": "dlva-2027-fonctionnement",
    "kind": "fonctionnement",
    "year": 2027,
    "title": "Appel à projets 2027",
    "calendar": "annuel",
    "dates": {"lancement": "2026-11-05", "depot_ouverture": "2026-11-20", "depot_cloture": "2027-01-31"},
    "form": {"code": "guichet_unique", "version": 1},
    "financeurs": [{"code": "ETAT", "enveloppe": "150000.00"}, {"code": "CAF", "enveloppe": 20000}],
}


# --- valid files -----------------------------------------------------------------------------------


def test_the_demo_territory_holds_manosque_its_two_qpv_and_orientations_a_to_d():
    territory = parse_territory_file(DEMO_TERRITORY)

    assert territory.code == "dlva"
    assert [(c.insee, c.name) for c in territory.communes] == [("04112", "Manosque")]
    assert [(q.code, q.name, q.population) for q in territory.qpv] == [
        ("QN00401M", "Quartier Ouest", 2600),
        ("QN00402M", "Quartier Est", 1800),
    ]
    flat = territory.flat_orientations()
    assert [o.code for o in flat if o.depth == 0] == ["A", "B", "C", "D"]
    assert [o.code for o in flat if o.parent_code == "C"] == ["C.1", "C.2", "C.3", "C.4"]
    assert {o.code for o in flat} >= {"A.1", "A.2", "A.3", "B.1", "B.2", "D.1", "D.2"}
    assert [p.code for p in territory.priorites] == [
        "jeunesse",
        "egalite_femmes_hommes",
        "lutte_discriminations",
        "citoyennete",
    ]
    assert [(f.code, f.kind) for f in territory.financeurs] == [
        ("ETAT", "etat"),
        ("DLVA", "epci"),
        ("MANOSQUE", "commune"),
        ("CAF", "caf"),
    ]
    assert territory.financeur("ETAT").name == "État (programme 147)"


def test_flat_orientations_lists_parents_before_children_with_depth_and_file_order(tmp_path):
    path = write(
        tmp_path,
        MINIMAL_TERRITORY.replace(
            "  - code: A\n    label: Emploi\n",
            """  - code: A
    label: Emploi
    children:
      - code: A.1
        label: Lever les freins
        children:
          - {code: A.1.a, label: Mobilité}
      - {code: A.2, label: Entreprises}
  - {code: B, label: Cadre de vie}
""",
        ),
    )
    flat = parse_territory_file(path).flat_orientations()
    assert [tuple(o) for o in flat] == [
        ("A", "Emploi", None, 0, 0),
        ("A.1", "Lever les freins", "A", 1, 1),
        ("A.1.a", "Mobilité", "A.1", 2, 2),
        ("A.2", "Entreprises", "A", 1, 3),
        ("B", "Cadre de vie", None, 0, 4),
    ]


def test_the_documented_examples_load_a_second_territory_with_no_code():
    territory = parse_territory_file(EXAMPLES / "territory.example.yaml")
    campaign = parse_campaign_file(EXAMPLES / "campaign.example.yaml")

    assert territory.code == campaign.territory == "loriol"
    assert max(o.depth for o in territory.flat_orientations()) == 2
    assert {f.code for f in campaign.financeurs} <= {f.code for f in territory.financeurs}


def test_an_unquoted_insee_code_with_a_leading_zero_stays_a_code(tmp_path):
    path = write(tmp_path, MINIMAL_TERRITORY.replace('"04112"', "04112"))
    territory = parse_territory_file(path)
    assert territory.communes[0].insee == "04112"
    assert territory.qpv[0].commune == "04112"


# --- refused files ---------------------------------------------------------------------------------


def test_a_file_with_three_mistakes_is_refused_with_the_three_errors_located_in_french(tmp_path):
    path = write(
        tmp_path,
        """
        code: essai
        communes:
          - insee: "04112"
            name: Manosque
        qpv:
          - code: QN00401M
            name: Quartier Ouest
            commune: "04112"
            population: 2600
          - code: QN00402M
            name: Quartier Est
            commune: "04112"
            population: -1800
        orientations:
          - code: A
            label: Emploi
            couleur: rouge
        financeurs:
          - {code: ETAT, name: État, kind: etat}
        """,
    )
    errors = refused(parse_territory_file, path)

    assert len(errors) == 3
    found = by_path(errors)
    assert found["name"].line == 1
    assert found["name"].message == "champ obligatoire"
    assert found["name"].code == "missing"
    assert found["qpv[1].population"].line == 13
    assert found["qpv[1].population"].message == "-1800 : doit être supérieur à 0"
    assert found["orientations[0].couleur"].line == 17
    assert found["orientations[0].couleur"].code == "extra_forbidden"
    assert "champ inconnu" in found["orientations[0].couleur"].message
    assert str(found["qpv[1].population"]) == f"{path}:13: qpv[1].population: -1800 : doit être supérieur à 0"
    assert [e.line for e in errors] == [1, 13, 17]  # in file order


def test_the_exception_message_lists_every_error(tmp_path):
    path = write(tmp_path, MINIMAL_TERRITORY.replace("name: Contrat de ville d'essai\n", "nom: x\n"))
    with pytest.raises(RulesFileError) as info:
        parse_territory_file(path)
    text = str(info.value)
    assert text.startswith("2 erreurs")
    assert f"{path}:2: nom: champ inconnu « nom »" in text
    assert f"{path}:1: name: champ obligatoire" in text


def test_a_misspelt_field_gets_a_suggestion(tmp_path):
    path = write(tmp_path, MINIMAL_TERRITORY.replace("    population: 2600", "    populaton: 2600"))
    found = by_path(refused(parse_territory_file, path))
    assert "vouliez-vous dire « population »" in found["qpv[0].populaton"].message
    assert found["qpv[0].population"].message == "champ obligatoire"
    assert found["qpv[0].population"].line == 7  # the QPV's first line


def test_a_yaml_syntax_error_is_reported_with_its_line(tmp_path):
    path = write(tmp_path, MINIMAL_TERRITORY.replace("name: Quartier Ouest", "name: Quartier: Ouest"))
    (error,) = refused(parse_territory_file, path)
    assert (error.line, error.code) == (8, "yaml_syntax")
    assert error.message.startswith("erreur de syntaxe YAML")


def test_an_unclosed_quote_is_reported_where_it_opens(tmp_path):
    path = write(tmp_path, 'code: essai\nname: "Contrat\nepci: x\n')
    (error,) = refused(parse_territory_file, path)
    assert error.line == 2
    assert "guillemet" in error.message


def test_duplicate_codes_are_refused_with_both_places(tmp_path):
    path = write(
        tmp_path,
        MINIMAL_TERRITORY.replace(
            "  - code: A\n    label: Emploi\n",
            "  - code: A\n    label: Emploi\n    children:\n      - {code: A.1, label: x}\n      - {code: A.1, label: y}\n"
            "  - {code: A, label: Encore}\n",
        ).replace(
            "  - {code: ETAT, name: État, kind: etat}",
            "  - {code: ETAT, name: État, kind: etat}\n  - {code: ETAT, name: Préfecture, kind: etat}",
        ),
    )
    found = by_path(refused(parse_territory_file, path))
    assert set(found) == {"orientations[0].children[1].code", "orientations[1].code", "financeurs[1].code"}
    assert all(e.code == "duplicate_code" for e in found.values())
    assert "déjà utilisé en financeurs[0].code, ligne 19" in found["financeurs[1].code"].message
    assert found["financeurs[1].code"].line == 20


def test_a_child_orientation_code_must_extend_its_parent_code(tmp_path):
    path = write(
        tmp_path,
        MINIMAL_TERRITORY.replace(
            "  - code: A\n    label: Emploi\n",
            "  - code: A\n    label: Emploi\n    children:\n      - {code: B.1, label: x}\n",
        ),
    )
    (error,) = refused(parse_territory_file, path)
    assert (error.path, error.code, error.line) == (
        "orientations[0].children[0].code",
        "orientation_code_prefix",
        15,
    )


def test_a_qpv_must_lie_in_a_declared_commune(tmp_path):
    path = write(tmp_path, MINIMAL_TERRITORY.replace('    commune: "04112"', '    commune: "04209"'))
    (error,) = refused(parse_territory_file, path)
    assert (error.path, error.code, error.line) == ("qpv[0].commune", "unknown_commune", 9)
    assert "04209" in error.message


def test_a_wrong_financer_kind_lists_the_admitted_kinds(tmp_path):
    path = write(tmp_path, MINIMAL_TERRITORY.replace("kind: etat", "kind: prefecture"))
    (error,) = refused(parse_territory_file, path)
    assert error.path == "financeurs[0].kind"
    assert "etat, epci, commune, departement, region, caf, bailleur, autre" in error.message


def test_a_key_written_twice_is_refused(tmp_path):
    path = write(tmp_path, "code: essai\n" + MINIMAL_TERRITORY.lstrip("\n"))
    errors = refused(parse_territory_file, path)
    assert [(e.path, e.line, e.code) for e in errors] == [("code", 2, "duplicate_key")]


def test_a_missing_file_and_an_empty_file_are_reported(tmp_path):
    (missing,) = refused(parse_territory_file, tmp_path / "absent.yaml")
    assert missing.code == "file_not_found"
    (empty,) = refused(parse_territory_file, write(tmp_path, "# rien\n"))
    assert empty.message == "fichier vide"


def test_parsed_data_is_validated_too_with_its_source_name():
    errors = refused(parse_territory, {"code": "Pas Un Slug"}, "demo")
    found = by_path(errors)
    assert found["code"].line is None
    assert str(found["communes"]) == "demo: communes: champ obligatoire"
    assert {"name", "communes", "qpv", "orientations", "financeurs"} <= set(found)


# --- campaigns -------------------------------------------------------------------------------------


def test_a_campaign_parses_with_its_dates_and_envelopes():
    campaign = parse_campaign(VALID_CAMPAIGN)
    assert campaign.dates["depot_cloture"] == date(2027, 1, 31)
    assert campaign.financeurs[1].enveloppe == Decimal("20000")
    assert campaign.completion_apres_cloture is False
    assert list(campaign.iso_dates()) == ["lancement", "depot_ouverture", "depot_cloture"]


def test_a_wrong_campaign_file_gets_every_error_at_its_line(tmp_path):
    path = write(
        tmp_path,
        """
        territory: dlva
        code: dlva-2027-fonctionnement
        kind: fonctionement
        year: 2027
        title: Appel à projets 2027
        calendar: annuel
        dates:
          lancement: 2026-11-05
          depot_cloture: 2027-02-30
        form: {code: guichet_unique, version: 1}
        financeurs:
          - {code: ETAT, enveloppe: "150000.555"}
          - {code: ETAT, enveloppe: -5}
        """,
        "campaign.yaml",
    )
    found = by_path(refused(parse_campaign_file, path))
    assert set(found) == {
        "kind",
        "dates.depot_cloture",
        "financeurs[0].enveloppe",
        "financeurs[1].code",
        "financeurs[1].enveloppe",
    }
    assert found["kind"].line == 3
    assert "fonctionnement, investissement" in found["kind"].message
    assert found["dates.depot_cloture"].line == 9
    assert "date impossible" in found["dates.depot_cloture"].message
    assert found["financeurs[0].enveloppe"].message.endswith("au plus 2 décimales")
    assert found["financeurs[1].enveloppe"].line == 13
    assert found["financeurs[1].code"].code == "duplicate_code"


# --- the demo campaigns ----------------------------------------------------------------------------

SOME_DAYS = [
    date(2026, 1, 2),
    date(2026, 3, 15),
    date(2026, 6, 30),
    date(2026, 9, 25),
    date(2026, 12, 31),
    date(2028, 2, 29),
]


@pytest.mark.parametrize("today", SOME_DAYS, ids=str)
def test_the_demo_campaigns_parse_and_the_open_one_takes_deposits_today(today):
    open_call, previous = (parse_campaign(c, "demo") for c in demo_campaigns(today))

    assert open_call.dates["depot_ouverture"] <= today <= open_call.dates["depot_cloture"]
    assert open_call.year == open_call.dates["validation"].year
    assert open_call.code == f"dlva-{open_call.year}-fonctionnement"
    assert open_call.dates["bilan_limite"] == date(open_call.year + 1, 6, 30)
    assert previous.year == open_call.year - 1
    assert previous.code == f"dlva-{previous.year}-fonctionnement"
    assert previous.dates["validation"] < today < previous.dates["bilan_limite"]
    assert (previous.dates["bilan_limite"] - today).days == 14
    demo_financers = {f.code for f in parse_territory_file(DEMO_TERRITORY).financeurs}
    for call in (open_call, previous):
        assert call.territory == "dlva"
        assert {f.code for f in call.financeurs} == demo_financers
        assert all(f.enveloppe > 0 for f in call.financeurs)


@pytest.mark.parametrize("today", SOME_DAYS, ids=str)
def test_the_demo_campaign_dates_follow_the_annual_calendar(today):
    calendar_module = pytest.importorskip("workflows.calendar")
    calendar = calendar_module.load_calendar("annuel")
    for campaign in demo_campaigns(today):
        parsed = parse_campaign(campaign)
        assert calendar.validate_dates(parsed.dates) == []


def test_a_parsed_file_tells_the_line_of_a_path_for_the_loaders_own_checks(tmp_path):
    path = write(
        tmp_path,
        """
        territory: dlva
        code: dlva-2027-fonctionnement
        kind: fonctionnement
        year: 2027
        title: Appel à projets 2027
        calendar: annuel
        dates:
          lancement: 2026-11-05
        form: {code: guichet_unique, version: 1}
        financeurs:
          - {code: ETAT, enveloppe: "150000.00"}
          - {code: INCONNU, enveloppe: "1000.00"}
        """,
        "campaign.yaml",
    )
    campaign = parse_campaign_file(path)
    assert campaign.source == str(path)
    assert campaign.line_of("financeurs[1].code") == 12
    assert campaign.line_of("dates.lancement") == 8
    assert campaign.line_of("dates.bilan_limite") == 7  # absent: the line of « dates: »
    assert parse_campaign(VALID_CAMPAIGN).line_of("financeurs[0].code") is None
