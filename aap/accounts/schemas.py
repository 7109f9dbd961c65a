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
