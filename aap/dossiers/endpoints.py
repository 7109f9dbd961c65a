"""Dossiers over HTTP: parse, call the service, shape the answer."""

import re
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query, Response
from fastapi.responses import PlainTextResponse
from pydantic import TypeAdapter

from aap.clock import now
from aap.deps import DB, AppSettings, Caller, Staff
from aap.dossiers import queries, service
from aap.dossiers.access import sees_payments, sees_proposals
from aap.dossiers.schemas import (
    AnswersPatch,
    DossierOut,
    DossierPage,
    ExtensionBody,
    HistoryPage,
    NewDossier,
    ReconductBody,
    TransitionBody,
    dossier_out,
    event_out,
)
from aap.errors import AppError, Invalid
from aap.models import Dossier, User
from aap.routes import API_PREFIX
from workflows import dossier as lifecycle

router = APIRouter(prefix=API_PREFIX, tags=["dossiers"])

_VERSION = re.compile(r'^\s*(?:W/)?"?(\d+)"?\s*$')


def parse_if_match(value: str | None, *, required: bool) -> int | None:
    if value is None or not value.strip():
        if required:
            raise AppError(
                "En-tête If-Match manquant : indiquez la version du dossier que vous modifiez.",
                code="version_requise",
                status_code=428,
            )
        return None
    match = _VERSION.match(value)
    if match is None:
        raise Invalid(
            "En-tête If-Match invalide : un numéro de version entier est attendu.", code="version_invalide"
        )
    return int(match.group(1))


_DOSSIER_OUT = TypeAdapter(DossierOut)


def dossier_answer(dossier: Dossier, user: User, status_code: int = 200) -> Response:
    """The dossier as `user` may see it, its version as ETag. Checked against `DossierOut` and written
    to JSON here, in the thread that ran the service, as FastAPI would (`response_model` still documents
    it): FastAPI validates a plain dict returned by a sync endpoint in one more trip to the thread pool,
    and every read, autosave and transition answers with this."""
    data = dossier_out(
        dossier,
        service.transitions_for(user, dossier),
        proposals=sees_proposals(user, dossier),
        payments=lambda line: sees_payments(user, line),
    )
    return Response(
        _DOSSIER_OUT.dump_json(_DOSSIER_OUT.validate_python(data, from_attributes=True), by_alias=True),
        status_code=status_code,
        media_type="application/json",
        headers={"ETag": f'"{dossier.version}"'},
    )


@router.post(
    "/campaigns/{campaign_id}/dossiers",
    status_code=201,
    response_model=DossierOut,
    summary="Créer un brouillon",
)
def create_dossier(
    campaign_id: int,
    db: DB,
    user: Caller,
    body: Annotated[NewDossier | None, Body()] = None,
) -> Response:
    body = body or NewDossier()
    dossier = service.create_dossier(
        db, user, campaign_id, now(), organisation_id=body.organisation_id, answers=body.answers
    )
    return dossier_answer(dossier, user, status_code=201)


@router.post(
    "/dossiers/{dossier_id}/reconduire",
    status_code=201,
    response_model=DossierOut,
    summary="Reconduire un dossier dans un nouvel appel à projets",
)
def reconduct_dossier(dossier_id: int, body: ReconductBody, db: DB, user: Caller) -> Response:
    """A new brouillon from this dossier: descriptions kept, dates and amounts to give again."""
    dossier = service.reconduct_dossier(db, user, dossier_id, body.campaign_id, now())
    return dossier_answer(dossier, user, status_code=201)


@router.get("/dossiers", response_model=DossierPage, summary="Les dossiers visibles par l'appelant")
def list_dossiers(
    db: DB,
    user: Caller,
    campaign_id: int | None = None,
    state: Annotated[str | None, Query(description="État du dossier")] = None,
    qpv: Annotated[str | None, Query(description="Code d'un QPV visé par l'action")] = None,
    orientation: Annotated[
        str | None, Query(description="Code d'une orientation : elle et ses objectifs (A, A.1…)")
    ] = None,
    financeur: Annotated[str | None, Query(description="Code d'un financeur sollicité")] = None,
    overdue: Annotated[
        bool,
        Query(description="En retard : compléments attendus échus, ou déposé sans prise en instruction"),
    ] = False,
    q: Annotated[
        str | None, Query(max_length=200, description="Texte cherché dans le numéro, l'intitulé, le porteur")
    ] = None,
    sort: Annotated[
        str, Query(description="Tri : " + ", ".join(queries.SORTS) + " (« - » : décroissant)")
    ] = queries.DEFAULT_SORT,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    if state is not None and state not in lifecycle.STATES:
        raise Invalid(
            f"État « {state} » inconnu.",
            code="etat_inconnu",
            errors=[{"path": "state", "code": "enum", "message": "valeurs : " + ", ".join(lifecycle.STATES)}],
        )
    if sort not in queries.SORTS:
        raise Invalid(
            f"Tri « {sort} » inconnu.",
            code="tri_inconnu",
            errors=[{"path": "sort", "code": "enum", "message": "valeurs : " + ", ".join(queries.SORTS)}],
        )
    filters = queries.DossierFilters(
        campaign_id=campaign_id,
        state=state,
        qpv=qpv or None,
        orientation=orientation or None,
        financeur=financeur or None,
        overdue=overdue,
        text=q,
    )
    found = queries.page(
        db,
        user,
        filters,
        now(),
        limit=limit,
        offset=offset,
        sort=sort,
        options=queries.list_options(payments=True),
    )
    return {
        "items": [
            dossier_out(
                d,
                service.transitions_for(user, d),
                proposals=sees_proposals(user, d),
                payments=lambda line: sees_payments(user, line),
            )
            for d in found.items
        ],
        "total": found.total,
    }


@router.get("/dossiers/{dossier_id}", response_model=DossierOut, summary="Un dossier")
def get_dossier(dossier_id: int, db: DB, user: Caller) -> Response:
    return dossier_answer(service.get_dossier(db, user, dossier_id), user)


@router.patch(
    "/dossiers/{dossier_id}", response_model=DossierOut, summary="Enregistrer des réponses (brouillon)"
)
def patch_dossier(
    dossier_id: int,
    body: AnswersPatch,
    db: DB,
    user: Caller,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    version = parse_if_match(if_match, required=True)
    dossier = service.update_answers(db, user, dossier_id, body.answers, version, now())
    return dossier_answer(dossier, user)


@router.post(
    "/dossiers/{dossier_id}/transitions/{name}", response_model=DossierOut, summary="Faire avancer le dossier"
)
def fire_transition(
    dossier_id: int,
    name: str,
    db: DB,
    user: Caller,
    settings: AppSettings,
    body: Annotated[TransitionBody | None, Body()] = None,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    payload = (body or TransitionBody()).model_dump(exclude_none=True)
    dossier = service.fire_transition(
        db,
        user,
        dossier_id,
        name,
        payload,
        now(),
        if_match=parse_if_match(if_match, required=False),
        data_dir=settings.data_dir,
    )
    return dossier_answer(dossier, user)


@router.post(
    "/dossiers/{dossier_id}/extension",
    response_model=DossierOut,
    summary="Accorder un délai de dépôt (instructeur)",
)
def grant_extension(dossier_id: int, body: ExtensionBody, db: DB, user: Staff) -> Response:
    dossier = service.grant_extension(db, user, dossier_id, body.until, body.reason, now())
    return dossier_answer(dossier, user)


@router.get("/dossiers/{dossier_id}/history", response_model=HistoryPage, summary="L'historique du dossier")
def dossier_history(dossier_id: int, db: DB, user: Caller) -> dict[str, Any]:
    items = [event_out(e) for e in service.history(db, user, dossier_id)]
    return {"items": items, "total": len(items)}


@router.get("/lifecycle.mmd", response_class=PlainTextResponse, summary="Le cycle de vie (Mermaid)")
def lifecycle_diagram(current: str | None = None) -> str:
    return lifecycle.mermaid(current if current in lifecycle.STATES else None)
