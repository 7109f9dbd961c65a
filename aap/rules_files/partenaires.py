"""The partners file: financers declared once (the State in a département, a département, a CAF…) that
territory files reference (`financeurs: [{code: ETAT, partenaire: ETAT_26}]`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field

from aap.rules_files.territory import FinanceurKind
from aap.rules_files.validation import CODE_UPPER, RulesModel, unique_codes, validate
from aap.rules_files.yaml_locations import LocatedDocument, LocatedError, from_data, read_document


class PartenaireSpec(RulesModel):
    code: str = Field(pattern=CODE_UPPER, max_length=32)
    name: str = Field(min_length=1, max_length=300)
    kind: FinanceurKind


class PartenairesFile(RulesModel):
    partenaires: list[PartenaireSpec] = Field(min_length=1)


def _cross_checks(doc: LocatedDocument) -> list[LocatedError]:
    return unique_codes(doc, "partenaires", "code", "code de partenaire")


def parse_partenaires_file(path: str | Path) -> PartenairesFile:
    return validate(PartenairesFile, read_document(path), _cross_checks)


def parse_partenaires(data: dict[str, Any], source: str = "<données>") -> PartenairesFile:
    return validate(PartenairesFile, from_data(data, source), _cross_checks)
