"""The campaign file: one appel à projets of a territory (calendar, form, financers and envelopes).

Date names and their order are checked later against the calendar type (``workflows``) by the
loader; here each date only has to be a real date. See ``docs/territory-files.md``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from aap.rules_files.validation import CODE_UPPER, DATE_NAME, INSEE, SLUG, RulesModel, unique_codes, validate
from aap.rules_files.yaml_locations import LocatedDocument, LocatedError, from_data, read_document

CampaignKind = Literal["fonctionnement", "investissement", "thematique", "fph", "budget_participatif"]
CAMPAIGN_KINDS: tuple[str, ...] = CampaignKind.__args__  # type: ignore[attr-defined]

DateName = Annotated[str, StringConstraints(pattern=DATE_NAME, max_length=64)]


class FormRef(RulesModel):
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)
    version: int = Field(ge=1)


class CampaignFinanceurSpec(RulesModel):
    code: str = Field(pattern=CODE_UPPER, max_length=32, description="code d'un financeur du territoire")
    enveloppe: Decimal = Field(ge=0, decimal_places=2, max_digits=14)


ValidationMode = Literal["globale", "par_commune"]
Insee = Annotated[str, StringConstraints(pattern=INSEE)]


class CampaignFile(RulesModel):
    territory: str = Field(pattern=SLUG, max_length=64)
    code: str = Field(pattern=SLUG, max_length=100)
    kind: CampaignKind
    year: int = Field(ge=2000, le=2100)
    title: str = Field(min_length=1, max_length=300)
    calendar: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)
    dates: dict[DateName, date] = Field(min_length=1)
    form: FormRef
    completion_apres_cloture: bool = False
    groupes_habitants: bool = False
    """Accepts requests of inhabitants' groups without SIRET, through a referent inhabitant (the FPH)."""
    financeurs: list[CampaignFinanceurSpec] = Field(min_length=1)
    validation: ValidationMode = "globale"
    """`par_commune`: each commune validates its part of the programme at its own instance."""
    validations_communes: dict[Insee, date] = Field(default_factory=dict)
    """`par_commune`: the date of each commune's instance (others: the campaign's `validation` date)."""

    def date_of(self, name: str) -> date | None:
        return self.dates.get(name)

    def iso_dates(self) -> dict[str, str]:
        """The dates as ISO strings, in file order (the shape stored on ``Campaign.dates``)."""
        return {name: value.isoformat() for name, value in self.dates.items()}


def _cross_checks(doc: LocatedDocument) -> list[LocatedError]:
    errors = unique_codes(doc, "financeurs", "code", "code de financeur")
    data = doc.value
    if data.get("validations_communes") and data.get("validation") != "par_commune":
        errors.append(
            doc.error(
                ("validations_communes",),
                "des dates de validation par commune demandent « validation: par_commune »",
                "validation_mode",
            )
        )
    return errors


def parse_campaign_file(path: str | Path) -> CampaignFile:
    """Read and validate a campaign file; raise RulesFileError with every error and its line."""
    return validate(CampaignFile, read_document(path), _cross_checks)


def parse_campaign(data: dict[str, Any], source: str = "<données>") -> CampaignFile:
    """Validate already-parsed campaign data (errors carry ``source`` and no line)."""
    return validate(CampaignFile, from_data(data, source), _cross_checks)
