"""A territory reload never strands a dossier on a code that is gone: refused, or `renames` moves it."""

import copy
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from aap.dossiers import service as dossiers
from aap.models import Dossier, DossierTarget, Qpv, User
from aap.rules_files import RulesFileError, parse_territory_file
from aap.territories.service import save_territory
from tests.territories.helpers import METROPOLE, load_metro, new_dossier


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "metro.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _reload(engine: Engine, path: Path) -> None:
    with Session(engine) as session:
        save_territory(session, parse_territory_file(path))
        session.commit()


def _official_codes(renames: dict[str, str] | None = None) -> dict[str, Any]:
    """The file with Cœur de Loriol's placeholder code replaced by the official one, objective 1.1
    renumbered 1.2."""
    data = copy.deepcopy(METROPOLE)
    data["qpv"][0]["code"] = "QN02610A"
    data["orientations"][0]["children"][0]["code"] = "1.2"
    if renames is not None:
        data["renames"] = renames
    return data


@pytest.fixture
def two_dossiers(db_engine: Engine, demo: date) -> tuple[int, int]:
    metro = load_metro(db_engine, demo)
    a = new_dossier(
        db_engine,
        metro.campaign_id,
        "porteur@metro.test",
        qpv=["QN02601X", "QN02602X"],
        orientation="1.1",
        financements={"ETAT": "3000.00"},
        title="Médiation entre Loriol et Pracomtal",
        state="depose",
    )
    b = new_dossier(
        db_engine,
        metro.campaign_id,
        "porteur@metro.test",
        qpv=["QN02601X"],
        orientation="2",
        financements={"LORIOL": "1500.00"},
        title="Jardin partagé du Cœur de Loriol",
    )
    return a.id, b.id


def test_a_reload_dropping_codes_in_use_is_refused_with_the_dossiers_concerned(
    db_engine: Engine, two_dossiers: tuple[int, int], tmp_path: Path
) -> None:
    path = _write(tmp_path, _official_codes())
    with pytest.raises(RulesFileError) as refused:
        _reload(db_engine, path)
    errors = {(e.path, e.code): e for e in refused.value.errors}
    assert set(errors) == {("qpv", "code_retire_utilise"), ("orientations", "code_retire_utilise")}
    with Session(db_engine) as s:
        numbers = {d.id: d.number for d in s.scalars(select(Dossier))}
        codes = set(s.scalars(select(Qpv.code)))
    qpv_error = errors[("qpv", "code_retire_utilise")]
    assert "QN02601X" in qpv_error.message and "2 dossier(s)" in qpv_error.message
    assert all(numbers[i] in qpv_error.message for i in two_dossiers)
    assert qpv_error.line is not None and qpv_error.file == str(path)
    assert numbers[two_dossiers[0]] in errors[("orientations", "code_retire_utilise")].message
    assert "QN02601X" in codes and "QN02610A" not in codes  # nothing written


def test_renames_move_every_reference_in_the_same_load(
    db_engine: Engine, two_dossiers: tuple[int, int], tmp_path: Path
) -> None:
    a, b = two_dossiers
    with Session(db_engine) as s:
        versions = {d.id: d.version for d in s.scalars(select(Dossier))}
    _reload(db_engine, _write(tmp_path, _official_codes({"QN02601X": "QN02610A", "1.1": "1.2"})))
    with Session(db_engine) as s:
        da, db_ = s.get(Dossier, a), s.get(Dossier, b)
        assert da is not None and db_ is not None
        assert da.answers["action"]["qpv"] == ["QN02610A", "QN02602X"]
        assert da.answers["action"]["orientation"] == "1.2"
        assert db_.answers["action"]["qpv"] == ["QN02610A"] and db_.answers["action"]["orientation"] == "2"
        assert da.version == versions[a] + 1 and db_.version == versions[b] + 1
        targets = set(
            s.execute(select(DossierTarget.kind, DossierTarget.code).where(DossierTarget.dossier_id == a))
        )
        assert targets == {("qpv", "QN02610A"), ("qpv", "QN02602X"), ("orientation", "1.2")}
        # the list column `orientation_code` (the list filters, the totals) moved too
        assert da.orientation_code == "1.2" and db_.orientation_code == "2"
        kept = set(
            s.scalars(
                select(DossierTarget.code).where(DossierTarget.dossier_id == b, DossierTarget.kind == "qpv")
            )
        )
        assert kept == {"QN02610A"}


def test_a_rename_must_name_a_loaded_code_and_a_declared_one(
    db_engine: Engine, two_dossiers: tuple[int, int], tmp_path: Path
) -> None:
    still_there = _official_codes({"QN02601X": "QN02610A", "1.1": "1.2", "2": "QN02699Z"})
    with pytest.raises(RulesFileError) as refused:
        parse_territory_file(_write(tmp_path, still_there))
    assert {(e.path, e.code) for e in refused.value.errors} == {
        ("renames.2", "rename_old_declared"),
        ("renames.2", "rename_unknown_target"),
    }
    unknown = _official_codes({"QN02601X": "QN02610A", "1.1": "1.2", "QN09999Z": "QN02602X"})
    with pytest.raises(RulesFileError) as refused:
        _reload(db_engine, _write(tmp_path, unknown))
    (error,) = refused.value.errors
    assert (error.path, error.code) == ("renames.QN09999Z", "rename_unknown_code")
    assert error.line is not None


def test_a_save_keeps_the_commune_codes_and_the_list_columns_alike(
    db_engine: Engine, two_dossiers: tuple[int, int]
) -> None:
    """`dossier_targets` (list filters, totals, commune access, subtotals, reload checks) and the
    orientation column are written at each save from the answers."""
    _a, b = two_dossiers
    with Session(db_engine) as s:
        porteur = s.scalar(select(User).where(User.email == "porteur@metro.test"))
        dossier = s.get(Dossier, b)
        assert porteur is not None and dossier is not None
        saved_at = datetime.combine(dossier.campaign.depot_ouverture, datetime.min.time(), tzinfo=UTC)
        dossiers.update_answers(
            s, porteur, b, {"action": {"qpv": ["QN02602X"], "orientation": "1.1"}}, dossier.version, saved_at
        )
    with Session(db_engine) as s:
        kept = set(
            s.execute(select(DossierTarget.kind, DossierTarget.code).where(DossierTarget.dossier_id == b))
        )
        assert kept == {("qpv", "QN02602X"), ("orientation", "1.1")}
        assert s.scalar(select(Dossier.orientation_code).where(Dossier.id == b)) == "1.1"
