"""CPOs over HTTP: parse, call the service, shape the answer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response
from sqlalchemy.orm import Session

from aap.clock import now
from aap.cpo import document, repository, service
from aap.cpo.schemas import AdvanceBody, CpoOut, CpoPage, CpoTransitionBody, NewCpo, event_out
from aap.deps import DB, Caller
from aap.dossiers.schemas import HistoryPage
from aap.models import Cpo, User
from aap.routes import API_PREFIX
from aap.schemas import PDF, file_of
from workflows import cpo as lifecycle

router = APIRouter(prefix=API_PREFIX, tags=["cpo"])


def answer(session: Session, user: User, cpo: Cpo) -> dict[str, Any]:
    return service.view(session, user, cpo, now())


@router.get("/cpos", response_model=CpoPage, summary="Les CPO que l'appelant peut voir")
def list_cpos(
    db: DB,
    user: Caller,
    organisation: int | None = None,
    financeur: str | None = None,
    state: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> dict[str, Any]:
    items, total = repository.find(
        db, user, organisation=organisation, financeur=financeur, state=state, limit=limit, offset=offset
    )
    return {"items": [answer(db, user, c) for c in items], "total": total}


@router.get(
    "/cpos/lifecycle.mmd",
    summary="Le cycle de vie d'une CPO (diagramme Mermaid)",
    response_class=Response,
    responses={200: file_of("text/plain", description="Le diagramme d'états, en Mermaid")},
)
def cpo_lifecycle() -> Response:
    return Response(lifecycle.mermaid(), media_type="text/plain; charset=utf-8")


@router.get("/cpos/{cpo_id}", response_model=CpoOut, summary="Une CPO, ses années et ses montants")
def get_cpo(cpo_id: int, db: DB, user: Caller) -> dict[str, Any]:
    return answer(db, user, service.get_cpo(db, user, cpo_id))


@router.get("/cpos/{cpo_id}/history", summary="L'historique d'une CPO", response_model=HistoryPage)
def cpo_history(cpo_id: int, db: DB, user: Caller) -> dict[str, Any]:
    items = [event_out(e) for e in service.history(db, user, cpo_id)]
    return {"items": items, "total": len(items)}


@router.get(
    "/cpos/{cpo_id}/convention.pdf",
    summary="La convention pluriannuelle (PDF)",
    response_class=Response,
    responses={200: file_of(PDF, description="La convention, en PDF")},
)
def cpo_convention(cpo_id: int, db: DB, user: Caller) -> Response:
    cpo = service.get_cpo(db, user, cpo_id)
    return Response(
        document.render(cpo, now()),
        media_type=PDF,
        headers={"Content-Disposition": f'attachment; filename="cpo-{cpo.id}.pdf"'},
    )


@router.post(
    "/dossiers/{dossier_id}/cpo",
    status_code=201,
    response_model=CpoOut,
    summary="Proposer une CPO à partir d'un dossier programmé ou conventionné",
)
def propose_cpo(dossier_id: int, body: NewCpo, db: DB, user: Caller) -> dict[str, Any]:
    cpo = service.propose(
        db,
        user,
        dossier_id,
        body.annees,
        body.financeurs,
        now(),
        objectifs=body.objectifs,
        indicateurs=body.indicateurs,
    )
    return answer(db, user, cpo)


@router.post(
    "/cpos/{cpo_id}/transitions/{name}",
    response_model=CpoOut,
    summary="Faire avancer une CPO (signer, resilier)",
)
def fire_cpo_transition(
    cpo_id: int,
    name: str,
    db: DB,
    user: Caller,
    body: Annotated[CpoTransitionBody | None, Body()] = None,
) -> dict[str, Any]:
    payload = (body or CpoTransitionBody()).model_dump(exclude_none=True)
    cpo = service.fire_transition(db, user, cpo_id, name, payload, now())
    return answer(db, user, cpo)


@router.post(
    "/cpos/{cpo_id}/annees/{annee}/avance-avant-bilan",
    response_model=CpoOut,
    summary="Enregistrer une avance votée avant le bilan de l'an passé (administrateur)",
)
def advance_before_bilan(cpo_id: int, annee: int, body: AdvanceBody, db: DB, user: Caller) -> dict[str, Any]:
    cpo = service.record_advance_before_bilan(
        db, user, cpo_id, annee, body.financeur, body.justification, now()
    )
    return answer(db, user, cpo)
