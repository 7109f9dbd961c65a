"""Steps the open data tests share: read the public exports as anyone would, without logging in."""

import csv
import io
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from frictionless import Resource, Schema

from aap.opendata.service import scdl_schema


def scdl_csv(client: TestClient, **params: str) -> list[dict[str, str]]:
    response = client.get("/opendata/subventions.csv", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


def schema_errors(data: Any) -> list[Any]:
    """Every error frictionless finds against the SCDL « subventions » schema kept in the repository
    (`data`: a CSV file path, or inline rows with a header row first)."""
    schema = Schema.from_descriptor(dict(scdl_schema()))
    if isinstance(data, Path):
        resource = Resource(path=data.name, basepath=str(data.parent), schema=schema, format="csv")
    else:
        resource = Resource(data=data, schema=schema)
    report = resource.validate()
    return report.flatten(["rowNumber", "fieldName", "type", "note"])
