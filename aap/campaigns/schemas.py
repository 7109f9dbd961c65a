"""What the campaigns API answers."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from aap.schemas import Euros


class FormRef(BaseModel):
    code: str
    version: int


class TimelineStep(BaseModel):
    phase: str
    label: str
    start: str | None = Field(description="Date ISO 8601")
    end: str | None = Field(description="Date ISO 8601")
    status: str


class CampaignFinanceur(BaseModel):
    code: str
    name: str
    enveloppe: Euros | None


class CommuneAValider(BaseModel):
    insee: str
    name: str
    validation_date: str = Field(description="Date ISO 8601 de l'instance de la commune")
    en_retard: bool


class ValidationCommunes(BaseModel):
    """A `par_commune` campaign: the communes concerned still to validate, and whether the programme
    is whole."""

    mode: str
    communes_a_valider: list[CommuneAValider]
    communes_validees: list[str]
    programme_complet: bool


class CampaignOut(BaseModel):
    id: int
    code: str
    territory: str = Field(
        description="Le code du territoire (un code d'appel est unique dans son territoire)"
    )
    kind: str
    year: int
    title: str
    state: str = Field(description="La phase du calendrier aujourd'hui")
    state_label: str
    calendar: str
    dates: dict[str, str] = Field(description="Les dates nommées de l'appel (ISO 8601)")
    depot_ouvert: bool
    completion_apres_cloture: bool
    groupes_habitants: bool = Field(
        default=False, description="L'appel accepte les groupes d'habitants sans SIRET (FPH)"
    )
    validation: str = Field(description="globale ou par_commune")
    validation_communes: ValidationCommunes | None = Field(
        default=None, description="Pour un appel validé par commune : les communes qui restent à valider"
    )
    form: FormRef
    timeline: list[TimelineStep]
    financeurs: list[CampaignFinanceur]


class CampaignPage(BaseModel):
    items: list[CampaignOut]
    total: int


class FormJsonSchema(BaseModel):
    """The form as a bare JSON Schema 2020-12 document (its other keywords pass through)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, serialize_by_alias=True)

    schema_: str = Field(alias="$schema")
    title: str | None = None
    type: str
    properties: dict[str, Any]
