"""What the accounts API answers: a token, and who the caller is."""

from pydantic import BaseModel, Field


class TokenOut(BaseModel):
    access_token: str
    token_type: str = Field(description="Toujours « bearer ».")


class OrganisationOut(BaseModel):
    id: int
    name: str
    siret: str | None


class FinanceurRef(BaseModel):
    id: int
    code: str
    name: str


class TerritoryRef(BaseModel):
    id: int
    code: str
    name: str


class TerritoireDuCompte(BaseModel):
    code: str
    role: str
    financeur: str | None = None


class MeOut(BaseModel):
    """The caller; `organisation(s)` for a porteur, `financeur` for a financer's agent, `territory` for
    the staff of a territory."""

    id: int
    email: str
    name: str | None
    role: str = Field(description="porteur, instructeur, admin ou financeur")
    organisation: OrganisationOut | None = None
    organisations: list[OrganisationOut] | None = None
    financeur: FinanceurRef | None = None
    territory: TerritoryRef | None = None
    territoires: list["TerritoireDuCompte"] = Field(
        default_factory=list,
        description="Les contrats où le compte travaille (le sien d'abord) ; en-tête X-Aap-Territoire pour agir dans un autre",
    )


# --- accounts people run themselves (aap.accounts.account_endpoints) --------------------------------


class MessageOut(BaseModel):
    message: str = Field(
        description="Ce qui a été fait, en français (la même réponse quelle que soit l'adresse)."
    )


class VerifiedOut(TokenOut):
    outcome: str = Field(description="organisation_creee, adhesion_demandee ou deja_membre")
    organisation: OrganisationOut | None


class AcceptedOut(MeOut):
    access_token: str


class MemberOut(BaseModel):
    id: int
    email: str
    name: str


class PendingInvitationOut(BaseModel):
    email: str
    expires_at: str


class JoinRequestOut(BaseModel):
    id: int
    user: MemberOut
    created_at: str


class MembersOut(BaseModel):
    items: list[MemberOut]
    total: int
    invitations: list[PendingInvitationOut]
    join_requests: list[JoinRequestOut]


class JoinDecisionOut(BaseModel):
    id: int
    state: str = Field(description="acceptee ou refusee")


class StaffInvitationOut(BaseModel):
    id: int = Field(description="Le compte créé (sans mot de passe utilisable avant le lien).")
    email: str
    role: str
    message: str


class AccountActiveOut(BaseModel):
    id: int
    email: str
    active: bool
