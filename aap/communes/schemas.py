"""What the validation-by-commune API answers."""

from pydantic import BaseModel, Field

from aap.schemas import Euros


class CommunePart(BaseModel):
    """One commune of the territory: the state of its validation, its dossiers and their amounts."""

    insee: str
    name: str
    state: str | None = Field(
        description="validee, a_valider, en_retard, sans_dossier ; null quand l'appel est validé en une fois"
    )
    validation_date: str | None = Field(description="Date ISO 8601 de l'instance de la commune")
    validated_at: str | None = Field(description="Date et heure ISO 8601 de la validation")
    validated_by: str | None = Field(description="Adresse de qui a validé")
    dossiers: int
    dossiers_non_avises: int = Field(description="Dossiers pas encore passés en comité technique")
    demande: Euros
    propose: Euros
    accorde: Euros


class CommuneParts(BaseModel):
    validation: str = Field(description="globale ou par_commune")
    items: list[CommunePart]
    total: int
