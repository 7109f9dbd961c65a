"""`aap territory load` / `aap campaign load`: all or nothing, every error with its place."""

import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from aap.models import Campaign, Territory

ROOT = Path(__file__).resolve().parents[2]


def run_cli(engine: Engine, *args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        "AAP_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "AAP_DATA_DIR": str(tmp_path),
        "PATH": "/usr/bin:/bin",
    }
    return subprocess.run(
        [sys.executable, "-m", "aap.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


BAD_TERRITORY = """\
code: loriol
epci: CC Val de Drôme
communes:
  - {insee: "26166", name: Loriol-sur-Drôme}
qpv:
  - {code: QN02601M, name: Cœur de Loriol, commune: "26166", population: -5}
financeurs:
  - {code: ETAT, name: État, kind: etat, couleur: bleu}
orientations:
  - {code: A, label: Cohésion sociale}
"""


def test_a_territory_file_with_three_mistakes_is_refused_whole(db_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "loriol.yaml"
    path.write_text(BAD_TERRITORY, encoding="utf-8")
    result = run_cli(db_engine, "territory", "load", str(path), tmp_path=tmp_path)
    assert result.returncode == 1
    err = result.stderr
    assert "3 erreur(s)" in err
    assert "name" in err  # the missing name
    assert "loriol.yaml:6: qpv[0].population" in err  # negative population, with its line
    assert "loriol.yaml:8: financeurs[0].couleur" in err  # the unknown field, with its line
    with Session(db_engine) as s:
        assert s.scalar(select(func.count()).select_from(Territory)) == 0


def test_the_documented_examples_load(db_engine: Engine, tmp_path: Path) -> None:
    ok = run_cli(db_engine, "territory", "load", "docs/examples/territory.example.yaml", tmp_path=tmp_path)
    assert ok.returncode == 0, ok.stderr
    ok = run_cli(db_engine, "campaign", "load", "docs/examples/campaign.example.yaml", tmp_path=tmp_path)
    assert ok.returncode == 0, ok.stderr
    with Session(db_engine) as s:
        assert s.scalar(select(func.count()).select_from(Campaign)) == 1


def test_a_campaign_for_an_unknown_territory_and_form_is_refused(db_engine: Engine, tmp_path: Path) -> None:
    text = Path(ROOT / "docs/examples/campaign.example.yaml").read_text(encoding="utf-8")
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    result = run_cli(db_engine, "campaign", "load", str(path), tmp_path=tmp_path)
    assert result.returncode == 1
    assert "territoire" in result.stderr and "inconnu" in result.stderr
