"""Errors on web pages answer HTML in French (the API keeps its JSON): 404, 403, 409, 412, 422…

A visitor who is not logged in is sent to the login page, and comes back where they were going.
"""

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from aap.errors import STATUS_FR, AppError

TITLES = {
    400: "Requête incorrecte",
    401: "Connexion requise",
    403: "Accès refusé",
    404: "Page introuvable",
    405: "Action impossible",
    409: "Action impossible dans l'état actuel",
    410: "Lien expiré ou déjà utilisé",
    412: "Le dossier a changé entre-temps",
    413: "Fichier trop volumineux",
    422: "Informations à corriger",
}
HINTS = {
    403: "Votre compte ne permet pas d'ouvrir cette page. Si vous pensez que c'est une erreur, "
    "contactez l'équipe du contrat de ville.",
    404: "L'adresse est peut-être mal saisie, ou la page n'existe plus, ou vous n'y avez pas accès.",
    410: "Les liens envoyés par e-mail fonctionnent une fois et pour un temps limité : "
    "« Mot de passe oublié ? » sur la page de connexion en envoie un nouveau.",
    409: "Le dossier n'est plus dans un état qui permet cette action : rechargez-le pour voir où il en est.",
}


def is_web(request: Request) -> bool:
    path = request.url.path
    return not (path.startswith("/api/") or path.startswith("/static/"))


def error_page(request: Request, status: int, message: str) -> Response:
    from aap.web.rendering import render

    user = _session_user(request)
    context = {
        "user": user,
        "status": status,
        "title": TITLES.get(status, "Erreur"),
        "message": message,
        "hint": HINTS.get(status, ""),
    }
    return render(request, "error.html", context, status_code=status)


def _session_user(request: Request):  # type: ignore[no-untyped-def]
    """The logged-in person, so the error page keeps its header (None if unknown)."""
    from aap.accounts.sessions import user_of_session

    if "session" not in request.scope or not isinstance(request.session.get("uid"), int):
        return None
    session = request.app.state.sessionmaker()
    try:
        user = user_of_session(session, request.session)
        if user is not None:
            session.expunge(user)
        return user
    finally:
        session.close()


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/connexion?suivant={quote(target)}", status_code=303)


def install_web_error_handlers(app: FastAPI) -> None:
    """Wrap the JSON handlers: API paths keep them, web pages get a French HTML page."""
    json_app_error = app.exception_handlers[AppError]
    json_http = app.exception_handlers[StarletteHTTPException]
    json_validation = app.exception_handlers[RequestValidationError]

    async def app_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, AppError)
        if not is_web(request):
            return await json_app_error(request, exc)
        if exc.status_code == 401:
            return login_redirect(request)
        page = error_page(request, exc.status_code, exc.message)
        page.headers.update(exc.headers or {})  # Retry-After of a 429 or a 503
        return page

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if not is_web(request):
            return await json_http(request, exc)
        if exc.status_code == 401:
            return login_redirect(request)
        _code, message = STATUS_FR.get(exc.status_code, ("erreur", "Une erreur est survenue."))
        return error_page(request, exc.status_code, message)

    async def validation_error(request: Request, exc: Exception) -> Response:
        if not is_web(request):
            return await json_validation(request, exc)
        # A malformed address (/dossiers/abc) is a page that does not exist.
        return error_page(request, 404, STATUS_FR[404][1])

    app.add_exception_handler(AppError, app_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
