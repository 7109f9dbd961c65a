"""The FastAPI application: API under /api/v1, web pages at the root."""

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.middleware.sessions import SessionMiddleware

from aap import access_log
from aap.accounts.account_endpoints import router as account_self_service_router
from aap.accounts.endpoints import router as accounts_router
from aap.accounts.login import LoginLimiter
from aap.attachments.endpoints import router as attachments_router
from aap.avis.endpoints import router as avis_router
from aap.bilans.endpoints import router as bilans_router
from aap.campaigns.endpoints import router as campaigns_router
from aap.communes.endpoints import router as communes_router
from aap.cpo.endpoints import router as cpo_router
from aap.db import get_engine, request_sessionmaker
from aap.dossiers.comite_endpoints import router as comite_router
from aap.dossiers.endpoints import router as dossiers_router
from aap.errors import install_error_handlers
from aap.financing.endpoints import router as financing_router
from aap.messages.endpoints import router as messages_router
from aap.opendata.endpoints import pages as opendata_pages
from aap.opendata.endpoints import router as opendata_router
from aap.registry.endpoints import router as registry_router
from aap.rgpd.endpoints import router as rgpd_router
from aap.routes import API_PREFIX, add_routes
from aap.rules_files.data_files import use_data_files
from aap.schemas import Health
from aap.security.body_limit import BodyLimit
from aap.security.docs import install_docs
from aap.security.headers import SecurityHeaders
from aap.serving import ConcurrencyLimit, lifespan
from aap.settings import Settings, get_settings
from aap.web.account import router as account_pages_router
from aap.web.avis import router as web_avis_router
from aap.web.bilans import router as bilans_web_router
from aap.web.budget_ajuste import router as web_budget_ajuste_router
from aap.web.cpo import router as cpo_pages_router
from aap.web.errors import install_web_error_handlers
from aap.web.messages import router as web_messages_router
from aap.web.pages import router as web_router
from aap.web.password import router as password_router
from aap.web.porteur import router as porteur_router
from aap.web.staff.admin import router as staff_admin_router
from aap.web.staff.admin_journal import router as staff_admin_journal_router
from aap.web.staff.comite_seance import router as staff_comite_seance_router
from aap.web.staff.dashboard import router as staff_dashboard_router
from aap.web.staff.financeur import router as staff_financeur_router
from aap.web.staff.instruction import router as staff_instruction_router
from aap.web.staff.paiements import router as staff_paiements_router
from aap.wiring import wire
from notifications.endpoints import router as notifications_router

STATIC_DIR = Path(__file__).parent / "web" / "static"

API_DESCRIPTION = """
API du guichet unique des appels à projets des contrats de ville.

* **Authentification** : `POST /api/v1/auth/token` (OAuth2, mot de passe), puis `Authorization: Bearer …`.
* **Montants** : euros en chaînes décimales à deux décimales (`"1234.50"`) dans toutes les réponses ;
  les requêtes acceptent ces chaînes ou des nombres JSON. Jamais de flottants côté serveur.
* **Erreurs** : `{"detail": {"code": …, "message": …, "errors": […]}}` ; `message` en français,
  `code` stable pour les programmes ; `errors` liste chaque champ ou condition en défaut.
* **Listes** : `{"items": […], "total": n}`.
"""


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = engine or get_engine()
    wire()
    app = FastAPI(
        title="aap",
        version="1",
        description=API_DESCRIPTION,
        openapi_url="/api/openapi.json",
        docs_url=None,  # aap.security.docs: Swagger UI from the package, no CDN
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    use_data_files(settings.data_dir)  # the calendars and forms territories loaded
    app.state.sessionmaker = request_sessionmaker(engine)
    access_log.install(app.state.sessionmaker)  # every write of a request, logged in its transaction
    app.state.login_limiter = LoginLimiter(settings.login_limits_storage, engine)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="aap_session",
        same_site="lax",
        https_only=settings.base_url.startswith("https://"),
        max_age=settings.token_ttl_minutes * 60,
    )
    install_error_handlers(app)
    install_web_error_handlers(app)

    health_route = APIRouter(prefix=API_PREFIX)

    @health_route.get("/health", tags=["exploitation"], summary="L'application répond", response_model=Health)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    add_routes(  # one flat list, tested in this order (`aap.routes`)
        app,
        # the API, in the order of its documentation
        health_route,
        accounts_router,
        account_self_service_router,
        campaigns_router,
        communes_router,
        dossiers_router,
        bilans_router,
        comite_router,
        financing_router,
        cpo_router,
        attachments_router,
        messages_router,
        avis_router,
        registry_router,
        rgpd_router,
        notifications_router,
        # the pages
        web_avis_router,
        web_messages_router,  # before the porteur's /dossiers/{id}/{step}
        web_budget_ajuste_router,  # idem
        web_router,
        password_router,
        account_pages_router,
        staff_instruction_router,
        staff_comite_seance_router,
        staff_financeur_router,
        staff_admin_router,
        staff_admin_journal_router,
        staff_dashboard_router,
        staff_paiements_router,
        bilans_web_router,
        porteur_router,
        opendata_router,
        opendata_pages,
        cpo_pages_router,
    )
    install_docs(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders, https=settings.base_url.startswith("https://"))
    app.add_middleware(ConcurrencyLimit, limit=settings.limit_concurrency)
    return app
