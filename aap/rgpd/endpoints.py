"""RGPD over the API: the access log (the territory's admin), a person's export, an account's erasure.

Thin: parse, call the service (the same ones the pages call), answer.
"""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from aap.clock import now
from aap.deps import DB, Account, Admin
from aap.rgpd import journal, personal_data
from aap.rgpd.schemas import AccessLogPage, ErasureIn, ErasureOut, PersonalDataExport
from aap.routes import API_PREFIX

router = APIRouter(prefix=API_PREFIX, tags=["RGPD"])


@router.get(
    "/access-log",
    summary="Le journal des accès et des écritures (équipe du contrat de ville)",
    response_model=AccessLogPage,
)
def access_log(
    db: DB,
    user: Admin,
    user_id: int | None = None,
    kind: Annotated[str | None, Query(max_length=64)] = None,
    object_id: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(pattern="^(read|write)$")] = None,
    since: date | None = None,
    until: date | None = None,
    limit: Annotated[int, Query(ge=1, le=journal.MAX_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    """Les accès des comptes du territoire, du plus récent au plus ancien ; filtres : compte (`user_id`),
    objet (`kind`, `object_id`), `action`, période (`since`, `until`, dates incluses)."""
    filters = journal.Filters(user_id, kind, object_id, action, since, until)
    rows, total = journal.entries(db, user, filters, limit=limit, offset=offset)
    return {
        "items": [journal.entry_out(r, email) for r, email in rows],
        "total": total,
        "limit": limit,
        "offset": offset,
    }


@router.get(
    "/account/export",
    summary="Télécharger toutes mes données (RGPD)",
    response_model=PersonalDataExport,
)
def export_my_data(db: DB, user: Account) -> dict[str, Any]:
    return personal_data.export(db, user)


@router.post(
    "/users/{user_id}/erase",
    summary="Effacer les données personnelles d'un compte (équipe du contrat de ville)",
    response_model=ErasureOut,
)
def erase_account(user_id: int, body: ErasureIn, db: DB, user: Admin) -> dict[str, Any]:
    """Anonymise le compte : nom et adresse remplacés, sessions et jetons coupés ; les dossiers restent
    (argent public) sans son nom ni son adresse. 409 quand la loi impose de garder le contact."""
    target = personal_data.erase(db, user, user_id, body.email, now())
    return {
        "id": target.id,
        "email": target.email,
        "erased_at": target.erased_at.isoformat() if target.erased_at else "",
    }
