"""The retention file: how long the platform keeps what the RGPD asks it to let go (`aap retention run`).

```yaml
brouillons_abandonnes: {mois: 24, etats: [brouillon, non_depose, abandonne]}
versions_de_pieces: {mois: 12}
donnees_beneficiaires: {ans: 5}
journal_acces: {mois: 12}
lot: 500
```

Validated like the territory files: every mistake at once, with its line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from aap.rules_files.validation import RulesModel, validate
from aap.rules_files.yaml_locations import LocatedDocument, LocatedError, from_data, read_document

DEFAULT_FILE = Path(__file__).parent.parent / "rgpd" / "retention.yaml"

# never deposited: nothing of them went to a financer or to a comité
DraftState = Literal["brouillon", "non_depose", "abandonne"]


class InMonths(RulesModel):
    mois: int = Field(ge=1, le=1200, description="Au bout de combien de mois.")


class DraftsRule(InMonths):
    etats: list[DraftState] = Field(min_length=1)


class InYears(RulesModel):
    ans: int = Field(ge=1, le=100, description="Au bout de combien d'années.")


class RetentionFile(RulesModel):
    brouillons_abandonnes: DraftsRule
    versions_de_pieces: InMonths
    donnees_beneficiaires: InYears
    journal_acces: InMonths
    lot: int = Field(default=500, ge=1, le=100_000)


def _cross_checks(_doc: LocatedDocument) -> list[LocatedError]:
    return []


def parse_retention_file(path: str | Path = DEFAULT_FILE) -> RetentionFile:
    return validate(RetentionFile, read_document(path), _cross_checks)


def parse_retention(data: dict[str, Any], source: str = "<données>") -> RetentionFile:
    return validate(RetentionFile, from_data(data, source), _cross_checks)
