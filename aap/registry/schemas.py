"""What the registry lookup answers: the keys of `Organisation.profile()` the forms prefill from."""

from pydantic import BaseModel


class SiretOut(BaseModel):
    siret: str
    siren: str
    name: str | None
    address_line: str | None
    postal_code: str | None
    city: str | None
    active: bool
    source: str
    rna: str | None = None
