"""What the attachments API answers."""

from pydantic import BaseModel, Field


class AttachmentOut(BaseModel):
    id: int
    kind: str
    scope: str = Field(description="organisation ou dossier")
    organisation_id: int | None
    dossier_id: int | None
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: str | None
    replaced_at: str | None
    current: bool
    url: str


class PieceCheck(BaseModel):
    """One pièce the form asks for, and the file in place (null when there is none)."""

    kind: str
    label: str
    scope: str
    required: bool
    attachment: AttachmentOut | None


class DossierAttachments(BaseModel):
    items: list[AttachmentOut]
    total: int
    pieces: list[PieceCheck]


class PieceKind(BaseModel):
    kind: str
    label: str
    required: bool


class OrganisationPieces(BaseModel):
    items: list[AttachmentOut]
    total: int
    kinds: list[PieceKind]
