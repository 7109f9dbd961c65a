"""The public registry of companies and associations (API « Recherche d'entreprises »): SIRET → name,
address, RNA, to prefill the identification of an organisation.

``GET {registry_base_url}/search?q={siret}`` answers ``{"results": [{"siren", "nom_complet",
"siege": {"siret", "adresse", "code_postal", "libelle_commune", …}, "matching_etablissements": […],
"complements": {"identifiant_association", …}}]}``. The lookup is a convenience: a short timeout,
and when the registry cannot be reached the caller gets a 503 in French while the form works as
before (the porteur types the fields).
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from aap.errors import AppError, Invalid, NotFound
from aap.settings import Settings
from forms import rna_valid, siret_valid


class RegistryUnavailable(AppError):
    status_code = 503
    code = "registre_indisponible"


def _unavailable() -> RegistryUnavailable:
    return RegistryUnavailable(
        "Le répertoire des entreprises ne répond pas pour le moment : saisissez le nom et l'adresse "
        "vous-même, ou réessayez plus tard.",
    )


def normalise_siret(value: str) -> str:
    siret = re.sub(r"[\s.\-]", "", value)
    if not siret_valid(siret):
        raise Invalid(
            "SIRET invalide : 14 chiffres attendus, avec une clé de contrôle exacte.",
            code="siret_invalide",
            errors=[
                {
                    "path": "siret",
                    "code": "siret",
                    "message": "SIRET : 14 chiffres attendus, clé de contrôle exacte",
                }
            ],
        )
    return siret


def lookup_siret(settings: Settings, value: str) -> dict[str, Any]:
    """The organisation behind a SIRET, in the keys of ``Organisation.profile()`` (which the forms'
    ``prefill`` keys read): name, siret, rna, address_line, postal_code, city."""
    siret = normalise_siret(value)
    url = settings.registry_base_url.rstrip("/") + "/search"
    try:
        with httpx.Client(timeout=settings.registry_timeout_seconds, follow_redirects=True) as client:
            response = client.get(url, params={"q": siret}, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise _unavailable() from exc
    if response.status_code != 200:  # a 404 here is a wrong base URL, not an unknown SIRET
        raise _unavailable()
    try:
        payload = response.json()
    except ValueError as exc:
        raise _unavailable() from exc
    results = payload.get("results") if isinstance(payload, dict) else None
    if not isinstance(results, list):
        raise _unavailable()
    for company in results:
        if isinstance(company, dict):
            found = _match(company, siret)
            if found is not None:
                return found
    raise _not_found(siret)


def _not_found(siret: str) -> NotFound:
    return NotFound(
        f"Aucun établissement ne porte le SIRET {siret} au répertoire des entreprises.",
        code="siret_introuvable",
    )


def _match(company: dict[str, Any], siret: str) -> dict[str, Any] | None:
    """The établissement of ``company`` with this SIRET (the siège or one of the matching ones)."""
    candidates = [company.get("siege")] + list(company.get("matching_etablissements") or [])
    place = next((c for c in candidates if isinstance(c, dict) and c.get("siret") == siret), None)
    if place is None:
        return None
    postal_code = _text(place.get("code_postal"))
    city = _text(place.get("libelle_commune"))
    out: dict[str, Any] = {
        "siret": siret,
        "siren": _text(company.get("siren")) or siret[:9],
        "name": _text(company.get("nom_complet")) or _text(company.get("nom_raison_sociale")),
        "address_line": _street(place, postal_code, city),
        "postal_code": postal_code,
        "city": city,
        "active": (place.get("etat_administratif") or company.get("etat_administratif") or "A") == "A",
        "source": "recherche-entreprises",
    }
    raw_complements = company.get("complements")
    complements = raw_complements if isinstance(raw_complements, dict) else {}
    rna = _text(complements.get("identifiant_association"))
    if rna and rna_valid(rna.upper()):
        out["rna"] = rna.upper()
    return out


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _street(place: dict[str, Any], postal_code: str | None, city: str | None) -> str | None:
    """The street part of the address: the full address without its postal code and commune."""
    full = _text(place.get("adresse"))
    if full is None:
        parts = [place.get(k) for k in ("numero_voie", "indice_repetition", "type_voie", "libelle_voie")]
        return " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip()) or None
    if postal_code and postal_code in full:
        full = full[: full.index(postal_code)].rstrip(" ,")
    elif city and full.upper().endswith(city.upper()):
        full = full[: -len(city)].rstrip(" ,")
    return full or None
