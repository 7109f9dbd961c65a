"""Calendars and forms as territory data: `aap calendar load` / `aap form load` check (every error
located) and store them; a campaign then names them; no file of the package is edited."""

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from aap.campaigns.service import save_campaign
from aap.rules_files import RulesFileError, parse_campaign, parse_territory
from aap.rules_files.data_files import load_calendar_file, load_form_file
from aap.territories.service import save_territory
from forms import load_form
from tests.territories.helpers import METROPOLE, metro_campaign_data

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_FORM = ROOT / "forms/definitions/fph.v1.yaml"

SUMMER = """\
code: quartiers_ete
label: Quartiers d'été
dates:
  lancement: {label: "Lancement", required: true}
  depot_ouverture: {label: "Ouverture du dépôt", required: true}
  depot_cloture: {label: "Clôture du dépôt", required: true}
  validation: {label: "Comité de sélection", required: true}
  bilan_limite: {label: "Bilans", required: true}
order:
  - [lancement, depot_ouverture, depot_cloture, validation, bilan_limite]
phases:
  - {code: preparation, label: "Préparation"}
  - {code: depot, label: "Dépôt", starts_at: [depot_ouverture]}
  - {code: selection, label: "Sélection", starts_at: [depot_cloture + 1]}
  - {code: ete, label: "L'été dans les quartiers", starts_at: [validation + 1]}
"""


def _summer_campaign(today: date, **extra: object) -> dict:  # type: ignore[type-arg]
    year = today.year + 1
    data = metro_campaign_data(today)
    data.update(
        code=f"metro-{year}-ete",
        kind="thematique",
        year=year,
        calendar="quartiers_ete",
        dates={
            "lancement": f"{year}-03-01",
            "depot_ouverture": f"{year}-03-15",
            "depot_cloture": f"{year}-04-30",
            "validation": f"{year}-05-20",
            "bilan_limite": f"{year}-12-15",
        },
    )
    data.update(extra)
    return data


def test_a_calendar_loaded_from_a_file_serves_a_campaign(db_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "ete.yaml"
    path.write_text(SUMMER, encoding="utf-8")
    env = {
        "AAP_DATABASE_URL": db_engine.url.render_as_string(hide_password=False),
        "AAP_DATA_DIR": str(tmp_path / "data"),
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [sys.executable, "-m", "aap.cli", "calendar", "load", str(path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "data" / "calendriers" / "quartiers_ete.yaml").is_file()
    with Session(db_engine) as session:
        load_calendar_file(session, path, tmp_path / "data")  # this process too looks there now
        save_territory(session, parse_territory(METROPOLE, "metro"))
        today = date(2026, 12, 1)
        campaign = save_campaign(session, parse_campaign(_summer_campaign(today), "ete"))
        assert campaign.calendar == "quartiers_ete"
        wrong = _summer_campaign(
            today, dates={**_summer_campaign(today)["dates"], "comite_technique": "2027-05-01"}
        )
        with pytest.raises(RulesFileError) as refused:
            save_campaign(session, parse_campaign(wrong, "ete"))
        (error,) = refused.value.errors
        assert error.path == "dates.comite_technique"
        assert (
            "dates possibles : lancement, depot_ouverture, depot_cloture, validation, bilan_limite"
            in error.message
        )


def test_a_wrong_or_shipped_calendar_is_refused_at_its_line(db_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "ete.yaml"
    path.write_text(SUMMER.replace("[validation + 1]", "[jury + 1]"), encoding="utf-8")
    with Session(db_engine) as session:
        with pytest.raises(RulesFileError) as refused:
            load_calendar_file(session, path, tmp_path / "data")
        (error,) = refused.value.errors
        assert error.path == "phases[3].starts_at[0]" and error.line == 15 and "jury" in error.message
        assert "dates possibles : bilan_limite, depot_cloture, depot_ouverture, lancement, validation" in (
            error.message
        )
        path.write_text(SUMMER.replace("code: quartiers_ete", "code: annuel"), encoding="utf-8")
        with pytest.raises(RulesFileError) as refused:
            load_calendar_file(session, path, tmp_path / "data")
        assert [(e.code, e.line) for e in refused.value.errors] == [("calendrier_livre", 1)]
    assert not (tmp_path / "data" / "calendriers").exists()


def test_a_form_loaded_from_a_file_is_a_new_form_and_its_versions_do_not_change(tmp_path: Path) -> None:
    text = SHIPPED_FORM.read_text(encoding="utf-8").replace("code: fph", "code: budget_participatif_metro")
    path = tmp_path / "bp.yaml"
    path.write_text(text, encoding="utf-8")
    assert load_form_file(path, tmp_path / "data") == ("budget_participatif_metro", 1)
    assert load_form("budget_participatif_metro", 1).title.startswith("Fonds de participation")
    assert load_form_file(path, tmp_path / "data") == ("budget_participatif_metro", 1)  # the same: fine
    path.write_text(text.replace("jusqu'à 1 500 €", "jusqu'à 3 000 €"), encoding="utf-8")
    with pytest.raises(RulesFileError) as refused:
        load_form_file(path, tmp_path / "data")
    assert [e.code for e in refused.value.errors] == ["version_existante"]
    path.write_text(SHIPPED_FORM.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(RulesFileError) as refused:
        load_form_file(path, tmp_path / "data")
    assert [e.code for e in refused.value.errors] == ["formulaire_livre"]
    path.write_text(
        text.replace("type: integer", "type: entier").replace("version: 1", "version: 2"), encoding="utf-8"
    )
    with pytest.raises(RulesFileError) as refused:
        load_form_file(path, tmp_path / "data")
    assert refused.value.errors and all(
        e.line is not None and e.path.startswith("sections") for e in refused.value.errors
    )


BROKEN_CALENDAR = """\
code: Quartiers Ete
label: Essai
dates:
  depot_ouverture: {label: "Ouverture", required: true}
  depot_cloture: {label: "Clôture", required: true}
order:
  - [depot_ouverture, jury]
phases:
  - {code: preparation, label: "Préparation"}
  - {code: depot, label: "Dépôt", starts_at: [ouverture]}
  - {label: "Sans code", starts_at: [depot_cloture + 1]}
  - {code: fin, label: "Fin"}
  - {code: depot, label: "Encore", starts_at: [depot_cloture + 2]}
"""


def test_a_calendar_file_is_refused_with_every_error_at_its_line(db_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "cal.yaml"
    path.write_text(BROKEN_CALENDAR, encoding="utf-8")
    with Session(db_engine) as session, pytest.raises(RulesFileError) as refused:
        load_calendar_file(session, path, tmp_path / "data")
    found = [(e.line, e.path) for e in refused.value.errors]
    assert found == [
        (1, "code"),
        (7, "order[0][1]"),
        (10, "phases[1].starts_at[0]"),
        (11, "phases[2]"),
        (12, "phases[3]"),
        (13, "phases[4].code"),
    ]
    messages = {e.path: e.message for e in refused.value.errors}
    assert (
        "« jury »" in messages["order[0][1]"] and "depot_cloture, depot_ouverture" in messages["order[0][1]"]
    )
    assert "« ouverture »" in messages["phases[1].starts_at[0]"]
    assert "en double « depot »" in messages["phases[4].code"]
    assert not (tmp_path / "data" / "calendriers").exists()


ENGLISH = ("Input should", "Extra inputs", "Value error", "Field required", "valid integer", "greater than")


def test_a_form_file_is_refused_in_french_with_every_error_at_its_line(tmp_path: Path) -> None:
    text = (
        SHIPPED_FORM.read_text(encoding="utf-8")
        .replace("code: fph", "code: essai_metro")
        .replace("version: 1", "version: 0")
        .replace("prefill: name}", "prefill: name, couleur: rouge}", 1)
        .replace("        options_from: qpvs\n", "", 1)
        .replace("type: integer", "type: entier", 1)
        .replace("max_length: 2000", "max_length: beaucoup")
    )
    path = tmp_path / "form.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RulesFileError) as refused:
        load_form_file(path, tmp_path / "data")
    errors = {e.path: e for e in refused.value.errors}
    assert set(errors) == {
        "version",
        "sections[0].fields[0].couleur",
        "sections[0].fields[1]",
        "sections[0].fields[2].type",
        "sections[1].fields[1].max_length",
    }
    assert all(e.line is not None for e in errors.values())
    assert not [e.message for e in errors.values() if any(word in e.message for word in ENGLISH)]
    assert "champ inconnu « couleur »" in errors["sections[0].fields[0].couleur"].message
    assert "« entier » : valeur non admise" in errors["sections[0].fields[2].type"].message
    assert "integer" in errors["sections[0].fields[2].type"].message  # the accepted types listed
    assert "un choix demande" in errors["sections[0].fields[1]"].message
    assert errors["version"].line == 4
    assert not (tmp_path / "data" / "formulaires").exists()
