"""The registry lookup over HTTP: a SIRET in, the name and address to prefill out."""

from typing import Any

from fastapi import APIRouter

from aap.deps import AppSettings, Caller
from aap.registry import service
from aap.registry.schemas import SiretOut
from aap.routes import API_PREFIX

router = APIRouter(prefix=API_PREFIX, tags=["répertoire des entreprises"])


@router.get(
    "/registry/siret/{siret}",
    summary="Nom et adresse d'un SIRET (répertoire des entreprises)",
    response_model=SiretOut,
    response_model_exclude_unset=True,
)
def lookup_siret(siret: str, _user: Caller, settings: AppSettings) -> dict[str, Any]:
    """``{"siret", "siren", "name", "address_line", "postal_code", "city", "rna"?, "active"}``;
    422 for an invalid SIRET (no call made), 404 when unknown, 503 when the registry does not answer."""
    return service.lookup_siret(settings, siret)
