"""Public routes, no login: the SCDL export, the directory of funded actions, the calls and their feed.

Thin: parse, ask `service`, render. Unknown territory, year, financer, quartier… answer 404 with a
French message (HTML for pages, JSON for the `.json` export).
"""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse

from aap.clock import now, territory_today
from aap.deps import DB, AppSettings, MaybeCaller
from aap.errors import NotFound
from aap.opendata import feeds, service
from aap.web.rendering import render

router = APIRouter(tags=["données ouvertes"])
pages = APIRouter(include_in_schema=False)

Territoire = Annotated[str | None, Query(description="code du territoire (ex. « dlva »)")]
Annee = Annotated[str | None, Query(description="année de l'appel à projets (ex. 2026)")]
FinanceurCode = Annotated[str | None, Query(description="code du financeur (ex. « ETAT »)")]

OPEN = {"Access-Control-Allow-Origin": "*"}
"""Open data: any site may read it from a browser (no cookie is ever involved)."""

EXPORT_DESCRIPTION = (
    "Les subventions accordées, au format SCDL « subventions » 2.1.1 d'OpenDataFrance (décret "
    "n° 2017-779) : une ligne par ligne de financement accordée d'un dossier conventionné (convention "
    "ou notification envoyée), pour les financeurs qui ont un SIRET et dont le seuil de publication est "
    "atteint (23 000 € par an et par organisme, sauf choix de publier les montants plus petits). "
    "Filtres : `territory`, `financeur`, `annee`. Produit au fil de l'eau."
)


@router.get(
    "/opendata/subventions.csv", summary="Subventions accordées (SCDL, CSV)", description=EXPORT_DESCRIPTION
)
def subventions_csv(
    request: Request,
    db: DB,
    territory: Territoire = None,
    financeur: FinanceurCode = None,
    annee: Annee = None,
) -> StreamingResponse:
    filters = service.subvention_filters(db, territory, financeur, annee)  # 404 before anything streams
    db.rollback()
    return StreamingResponse(
        service.csv_stream(service.stream_records(request.app.state.engine, filters)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'inline; filename="subventions.csv"', **OPEN},
    )


@router.get(
    "/opendata/subventions.json", summary="Subventions accordées (SCDL, JSON)", description=EXPORT_DESCRIPTION
)
def subventions_json(
    request: Request,
    db: DB,
    territory: Territoire = None,
    financeur: FinanceurCode = None,
    annee: Annee = None,
) -> Response:
    try:
        filters = service.subvention_filters(db, territory, financeur, annee)
    except NotFound as exc:
        return JSONResponse({"detail": exc.detail()}, status_code=404)
    db.rollback()
    return StreamingResponse(
        service.json_stream(service.stream_records(request.app.state.engine, filters)),
        media_type="application/json",
        headers=OPEN,
    )


@router.get("/opendata/schema/subventions.json", summary="Le schéma SCDL « subventions » (Table Schema)")
def subventions_schema() -> FileResponse:
    return FileResponse(service.SCHEMA_PATH, media_type="application/json", headers=OPEN)


@pages.get("/actions", response_class=HTMLResponse)
def actions(
    request: Request,
    db: DB,
    user: MaybeCaller,
    territory: Territoire = None,
    quartier: str | None = None,
    orientation: str | None = None,
    annee: Annee = None,
    page: str | None = None,
) -> HTMLResponse:
    query = service.directory_query(db, territory, quartier, orientation, annee, page)
    context: dict[str, Any] = {
        "user": user,
        "query": query,
        "selected": {
            "territory": territory or "",
            "quartier": quartier or "",
            "orientation": orientation or "",
            "annee": annee or "",
        },
        **service.directory(db, query),
        **service.filter_options(db, query.territory),
    }
    return render(request, "public/actions.html", context)


@pages.get("/actions/quartiers", response_class=HTMLResponse)
def actions_par_quartier(
    request: Request, db: DB, user: MaybeCaller, territory: Territoire = None, annee: Annee = None
) -> HTMLResponse:
    return render(request, "public/quartiers.html", {"user": user, **service.quartiers(db, territory, annee)})


@pages.get("/territoires/{code}/appels", response_class=HTMLResponse)
def calls(request: Request, code: str, db: DB, user: MaybeCaller) -> HTMLResponse:
    territory, items = service.public_calls(db, code, now())
    return render(request, "public/appels.html", {"user": user, "territory": territory, "calls": items})


@router.get("/territoires/{code}/appels.atom", summary="Flux Atom des appels à projets d'un territoire")
def calls_atom(code: str, db: DB, settings: AppSettings) -> Response:
    moment = now()
    territory, items = service.public_calls(db, code, moment)
    body = feeds.calls_feed(territory, items, settings.base_url, territory_today(territory, moment))
    return Response(body, media_type="application/atom+xml; charset=utf-8", headers=OPEN)


@pages.get("/territoires/{code}/appels/{campaign_code}", response_class=HTMLResponse)
def call(request: Request, code: str, campaign_code: str, db: DB, user: MaybeCaller) -> HTMLResponse:
    return render(
        request, "public/appel.html", {"user": user, **service.call_page(db, code, campaign_code, now())}
    )
