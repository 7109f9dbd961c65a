"""What the financing API answers beyond the dossier: its documents, the programme table."""

from typing import Any

from pydantic import BaseModel, Field

from aap.schemas import Euros


class DocumentOut(BaseModel):
    id: int
    kind: str = Field(description="convention ou notification")
    filename: str
    content_type: str
    size: int
    sha256: str
    financeur: str | None
    financeur_name: str | None
    created_at: str


class DocumentPage(BaseModel):
    items: list[DocumentOut]
    total: int


class CampaignRef(BaseModel):
    id: int
    code: str
    title: str


class FinanceurName(BaseModel):
    code: str
    name: str


class LineAmounts(BaseModel):
    demande: Euros | None
    propose: Euros | None
    accorde: Euros | None
    decision: str | None = None


class ProgrammeRow(BaseModel):
    dossier_id: int
    numero: str
    porteur: str
    action: str | None
    qpv: list[str]
    qpv_noms: list[str]
    orientation: str | None
    orientation_label: str | None
    budget_total: Euros | None
    avis: str | None
    state: str
    state_label: str
    financements: dict[str, LineAmounts] = Field(description="Par code de financeur")


class ProgrammeTotals(BaseModel):
    dossiers: int
    budget_total: Euros | None
    financements: dict[str, LineAmounts]
    demande: Euros | None
    propose: Euros | None
    accorde: Euros | None


class ProgrammeOut(BaseModel):
    campaign: CampaignRef
    states: list[str]
    financeurs: list[FinanceurName]
    items: list[ProgrammeRow]
    total: int
    totaux: ProgrammeTotals


# --- the budget adjusted after a partial grant ----------------------------------------------------


class BudgetAjusteBody(BaseModel):
    budget: dict[str, Any]


class BudgetAjusteOut(BaseModel):
    """Where the adjusted budget stands: asked for or not, open to filing, the one filed."""

    required: bool = Field(
        description="Les financeurs ont accordé moins que la demande : le budget est à ajuster."
    )
    open: bool = Field(description="Le porteur peut déposer le budget ajusté maintenant (dossier programmé).")
    budget: dict[str, Any] | None = Field(description="La section « budget » déposée, null tant qu'aucune.")
    budget_version: int
    subventions: dict[str, Euros] = Field(
        description="Par financeur, la subvention à inscrire : ce qu'il a accordé."
    )
    version: int = Field(description="La version du dossier, pour `If-Match`.")
