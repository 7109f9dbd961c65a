"""What the RGPD routes answer: the access log, a person's export, an erasure."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AccessLogEntry(BaseModel):
    id: int
    at: str = Field(description="Date et heure (ISO 8601, UTC).")
    user_id: int | None
    email: str | None = Field(description="L'adresse du compte (« compte-efface-… » s'il a été effacé).")
    role: str | None
    action: str = Field(description="`read` (lecture d'une donnée sensible) ou `write` (écriture).")
    kind: str = Field(description="La nature de l'objet (sa table) : `attachments`, `dossiers`, `bilans`…")
    object_id: str | None = Field(description="L'identifiant de l'objet (absent pour une écriture groupée).")
    route: str = Field(description="La méthode et le chemin de la requête.")
    ip: str | None = Field(description="L'adresse du client.")


class AccessLogPage(BaseModel):
    items: list[AccessLogEntry]
    total: int
    limit: int
    offset: int


class ExportCompte(BaseModel):
    id: int
    email: str
    nom: str
    role: str
    cree_le: str | None
    adresse_confirmee_le: str | None
    territoire: str | None
    financeur: str | None


class PersonalDataExport(BaseModel):
    """Tout ce que la plateforme garde sur le compte (RGPD, droit d'accès et portabilité)."""

    model_config = ConfigDict(extra="forbid")
    compte: ExportCompte
    organisations: list[dict[str, Any]]
    dossiers_crees: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    pieces_deposees: list[dict[str, Any]]
    messages_recus: list[dict[str, Any]]
    demandes_adhesion: list[dict[str, Any]]
    journal_total: int
    journal: list[dict[str, Any]] = Field(
        description="Les accès et écritures du compte, les plus récents d'abord."
    )


class ErasureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(max_length=320, description="L'adresse du compte, recopiée pour confirmer.")


class ErasureOut(BaseModel):
    id: int
    email: str
    erased_at: str
