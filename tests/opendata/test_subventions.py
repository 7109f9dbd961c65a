"""The SCDL « subventions » export: valid against the published schema, adding up to the accorded
lines of conventioned dossiers, filtered, with each financer's publication rule, streamed."""

import itertools
import json
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from aap.models import Cofinancement, Dossier, Financeur, Organisation
from aap.opendata import service
from aap.opendata.repository import CONVENTIONED_STATES, Filters
from tests.opendata.helpers import scdl_csv, schema_errors


def _conventioned_total(session: Session) -> tuple[int, Decimal]:
    count, total = session.execute(
        select(func.count(Cofinancement.id), func.sum(Cofinancement.montant_accorde))
        .join(Dossier, Dossier.id == Cofinancement.dossier_id)
        .where(Cofinancement.decision == "accorde", Dossier.state.in_(CONVENTIONED_STATES))
    ).one()
    return count, total


def test_the_demo_csv_validates_against_the_scdl_schema_and_adds_up_to_the_conventioned_lines(
    client: TestClient, demo, session: Session, tmp_path: Path
) -> None:
    response = client.get("/opendata/subventions.csv")
    assert response.status_code == 200
    path = tmp_path / "subventions.csv"
    path.write_bytes(response.content)
    assert schema_errors(path) == []

    rows = scdl_csv(client)
    count, total = _conventioned_total(session)
    assert count > 0 and len(rows) == count
    assert sum(Decimal(r["montant"]) for r in rows) == total
    header = response.text.splitlines()[0].split(",")
    assert (
        header[:3] == ["nomAttribuant", "idAttribuant", "dateConvention"] and header[-1] == "dispositifAide"
    )
    line = rows[0]
    assert line["idAttribuant"].isdigit() and len(line["idAttribuant"]) == 14
    assert line["dispositifAide"].startswith("Appel à projets")  # the call that granted it
    assert line["nature"] == "aide en numéraire" and line["notificationUE"] == "non"


def test_the_json_export_carries_the_same_lines_and_validates_too(client: TestClient, demo) -> None:
    response = client.get("/opendata/subventions.json")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"  # reusable from any site
    body = response.json()
    fields = service.scdl_fields()
    assert body["total"] == len(body["items"]) == len(scdl_csv(client))
    assert schema_errors([fields] + [[item[f] for f in fields] for item in body["items"]]) == []


def test_filters_by_financer_year_and_territory(client: TestClient, demo, session: Session) -> None:
    year = session.scalar(select(func.max(Dossier.conventionne_at)))
    session.rollback()  # SQLite: a test's open transaction would hold the lock the app needs
    assert year is not None
    caf = scdl_csv(client, financeur="CAF")
    assert caf and {r["nomAttribuant"] for r in caf} == {"CAF des Alpes-de-Haute-Provence"}
    assert len(scdl_csv(client, territory="dlva", annee=str(year.year))) == len(scdl_csv(client))
    # the open call's dossiers are not conventioned yet: the year exists, its file is empty
    assert scdl_csv(client, annee=str(year.year + 1)) == []


@pytest.mark.parametrize(
    ("params", "code", "words"),
    [
        ({"territory": "atlantide"}, "territoire_inconnu", "Territoire inconnu : « atlantide »"),
        ({"annee": "1999"}, "annee_inconnue", "Année inconnue : « 1999 »"),
        ({"annee": "deux-mille"}, "annee_inconnue", "Année inconnue"),
        ({"financeur": "BANQUE"}, "financeur_inconnu", "Financeur inconnu : « BANQUE »"),
    ],
)
def test_an_unknown_filter_is_a_404_that_names_it_in_french(
    client: TestClient, demo, params: dict[str, str], code: str, words: str
) -> None:
    as_json = client.get("/opendata/subventions.json", params=params)
    assert as_json.status_code == 404
    assert as_json.json()["detail"]["code"] == code and words in as_json.json()["detail"]["message"]
    as_csv = client.get("/opendata/subventions.csv", params=params)
    assert as_csv.status_code == 404 and words in as_csv.text


def test_a_financer_publishes_from_its_threshold_per_organisation_and_year_unless_it_opts_in(
    client: TestClient, demo, session: Session
) -> None:
    def dlva_lines() -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for r in scdl_csv(client, financeur="DLVA"):
            out.setdefault(r["nomBeneficiaire"], []).append(r["montant"])
        return out

    published = dlva_lines()
    assert len(published) == 2  # the demo's DLVAgglo publishes the small amounts too
    yearly = {name: sum(Decimal(m) for m in amounts) for name, amounts in published.items()}
    above, below = max(yearly, key=yearly.__getitem__), min(yearly, key=yearly.__getitem__)
    assert yearly[above] > yearly[below]

    # the décret's rule: nothing below 23 000 € a year for one organisation
    session.execute(update(Financeur).where(Financeur.code == "DLVA").values(opendata_sous_seuil=False))
    session.commit()
    assert dlva_lines() == {}
    # a threshold between the two organisations' yearly totals: every line of the larger one, none of the other
    session.execute(update(Financeur).where(Financeur.code == "DLVA").values(opendata_seuil=yearly[above]))
    session.commit()
    assert dlva_lines() == {above: published[above]}
    # without a SIRET a financer cannot be named in the file: none of its lines
    session.execute(
        update(Financeur).where(Financeur.code == "DLVA").values(siret=None, opendata_sous_seuil=True)
    )
    session.commit()
    assert dlva_lines() == {}


def test_a_beneficiary_identifier_that_does_not_fit_the_schema_is_left_empty_not_published_wrong(
    client: TestClient, demo, session: Session, tmp_path: Path
) -> None:
    session.execute(update(Organisation).values(rna="W2A1234567"))  # a Corsican RNA: not ^W\d{9}$
    session.commit()
    response = client.get("/opendata/subventions.csv")
    path = tmp_path / "subventions.csv"
    path.write_bytes(response.content)
    assert schema_errors(path) == []
    assert {r["rnaBeneficiaire"] for r in scdl_csv(client)} == {""}


def test_the_csv_is_written_as_lines_come_never_gathered_first() -> None:
    """An endless supply of lines still gives the header and the first lines: nothing is collected."""
    record = dict.fromkeys(service.scdl_fields(), "x")
    endless = itertools.repeat(record)
    chunks = list(itertools.islice(service.csv_stream(endless), 3))
    assert chunks[0].startswith(b"nomAttribuant,") and len(chunks) == 3
    pieces = list(itertools.islice(service.json_stream(itertools.repeat(record)), 3))
    assert pieces[0].startswith(b'{"schema"') and json.loads(pieces[1])["objet"] == "x"


def test_the_export_reads_through_a_server_side_cursor_in_batches(db_engine: Engine, demo) -> None:
    stream = service.stream_records(db_engine, Filters(), batch=1)
    first = next(stream)
    assert first["nomAttribuant"]
    # a download in progress does not block a writer (SQLite: the stream holds no write lock)
    with Session(db_engine) as writer:
        writer.execute(update(Financeur).where(Financeur.code == "CAF").values(name="CAF 04"))
        writer.commit()
    rest = list(stream)
    assert len(rest) >= 1


def test_the_schema_kept_in_the_repository_is_served(client: TestClient) -> None:
    response = client.get("/opendata/schema/subventions.json")
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == "2.1.1"
    assert [f["name"] for f in body["fields"]] == service.scdl_fields()
    assert len(body["fields"]) == 16
