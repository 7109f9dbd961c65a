"""Domain errors and their one mapping to HTTP: `{"detail": {"code", "message", "errors"?}}`.

`message` is French, for people; `code` is stable, for programs; `errors` lists every wrong field or
every failed condition, each with its `path` (or `field`), `code` and French `message`.
"""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException


class AppError(Exception):
    status_code = 400
    code = "erreur"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        status_code: int | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.errors = errors
        self.headers = headers
        if status_code is not None:
            self.status_code = status_code

    def detail(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.errors is not None:
            out["errors"] = self.errors
        return out


class NotFound(AppError):
    status_code = 404
    code = "introuvable"


class Unauthorized(AppError):
    status_code = 401
    code = "non_authentifie"


class Forbidden(AppError):
    status_code = 403
    code = "interdit"


class Conflict(AppError):
    status_code = 409
    code = "conflit"


class PreconditionFailed(AppError):
    status_code = 412
    code = "version_perimee"


class Invalid(AppError):
    status_code = 422
    code = "donnees_invalides"


class Busy(AppError):
    """The database or the server is saturated for a moment: nothing was written, try again shortly."""

    status_code = 503
    code = "serveur_occupe"


RETRY_AFTER_SECONDS = 2
# SQLite: busy, locked (and their extended codes); PostgreSQL: serialization failure, deadlock, lock timeout
_SQLITE_BUSY = {5, 6}
_PG_RETRYABLE = {"40001", "40P01", "55P03"}
# PostgreSQL refusing a new connection (max_connections, a role's or database's limit): no SQLSTATE
# reaches the client at connection time, only the server's message
_PG_FULL = ("too many clients", "too many connections", "remaining connection slots")


def busy_refusal(exc: BaseException) -> Busy | None:
    """A lock wait or a full connection pool that outlasted its bounded retry, as a French 503."""
    if isinstance(exc, PoolTimeout):
        reason = "toutes les connexions à la base de données sont occupées"
    else:
        orig = getattr(exc, "orig", None)
        sqlite_code = getattr(orig, "sqlite_errorcode", None)
        if sqlite_code is not None and sqlite_code & 0xFF in _SQLITE_BUSY:
            reason = "la base de données est occupée par d'autres enregistrements"
        elif getattr(orig, "sqlstate", None) in _PG_RETRYABLE:
            reason = "un autre enregistrement sur les mêmes données était en cours"
        elif type(orig).__name__ == "OperationalError" and any(m in str(orig) for m in _PG_FULL):
            reason = "la base de données n'accepte plus de nouvelle connexion"
        else:
            return None
    return Busy(
        f"Le serveur est très sollicité ({reason}) : rien n'a été enregistré. "
        f"Réessayez dans {RETRY_AFTER_SECONDS} secondes.",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


PYDANTIC_FR = {
    "missing": "champ obligatoire",
    "extra_forbidden": "champ inconnu",
    "string_type": "texte attendu",
    "int_type": "nombre entier attendu",
    "int_parsing": "nombre entier attendu",
    "decimal_parsing": "montant attendu (par exemple « 1234.50 »)",
    "decimal_type": "montant attendu (par exemple « 1234.50 »)",
    "float_parsing": "nombre attendu",
    "date_from_datetime_parsing": "date attendue au format AAAA-MM-JJ",
    "date_parsing": "date attendue au format AAAA-MM-JJ",
    "date_type": "date attendue au format AAAA-MM-JJ",
    "bool_parsing": "vrai ou faux attendu",
    "literal_error": "valeur non autorisée",
    "enum": "valeur non autorisée",
    "greater_than": "valeur trop petite",
    "greater_than_equal": "valeur trop petite",
    "less_than_equal": "valeur trop grande",
    "string_too_short": "texte trop court",
    "string_too_long": "texte trop long",
    "json_invalid": "JSON invalide",
    "model_attributes_type": "objet attendu",
    "dict_type": "objet attendu",
    "list_type": "liste attendue",
    "decimal_max_places": "deux décimales au plus",
}


def french_errors(errors: list[Any]) -> list[dict[str, Any]]:
    out = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body",)]
        kind = err.get("type", "invalide")
        if kind == "value_error" and "error" in err.get("ctx", {}):
            message = str(err["ctx"]["error"])  # our own validators speak French already
        else:
            message = PYDANTIC_FR.get(kind, err.get("msg", "valeur invalide"))
        if kind == "literal_error" and "expected" in err.get("ctx", {}):
            message += f" (attendu : {err['ctx']['expected']})"
        out.append({"path": ".".join(loc), "code": kind, "message": message})
    return out


STATUS_FR = {
    400: (
        "requete_illisible",
        "Le corps de la requête est illisible : envoyez du JSON valide ou le formulaire attendu.",
    ),
    401: ("non_authentifie", "Authentification requise."),
    403: ("interdit", "Action non autorisée."),
    404: ("introuvable", "Ressource introuvable."),
    405: ("methode_non_autorisee", "Méthode non autorisée sur cette adresse."),
    413: ("fichier_trop_volumineux", "Fichier trop volumineux."),
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_request: Request, exc: AppError) -> JSONResponse:
        return JSONResponse({"detail": exc.detail()}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = french_errors(list(exc.errors()))
        detail = {"code": "requete_invalide", "message": "La requête contient des erreurs.", "errors": errors}
        return JSONResponse({"detail": detail}, status_code=422)

    out_of_range = {
        "code": "nombre_hors_limites",
        "message": "Un nombre de la requête dépasse les limites acceptées.",
    }

    @app.exception_handler(OverflowError)
    async def _overflow(_request: Request, _exc: OverflowError) -> JSONResponse:
        """An identifier or amount beyond what SQLite can hold is bad input, not a server error."""
        return JSONResponse({"detail": out_of_range}, status_code=422)

    @app.exception_handler(StatementError)
    async def _out_of_range(request: Request, exc: StatementError) -> Response:
        """The same on PostgreSQL (numeric_value_out_of_range); a lock wait past its bound is a 503;
        any other database error stays a 500."""
        busy = busy_refusal(exc) if isinstance(exc, DBAPIError) else None
        if busy is not None:
            return await request.app.exception_handlers[AppError](request, busy)
        if getattr(exc.orig, "sqlstate", None) != "22003" and not isinstance(exc.orig, OverflowError):
            raise exc
        return JSONResponse({"detail": out_of_range}, status_code=422)

    @app.exception_handler(PoolTimeout)
    async def _pool_full(request: Request, exc: PoolTimeout) -> Response:
        busy = busy_refusal(exc)
        assert busy is not None
        return await request.app.exception_handlers[AppError](request, busy)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc.detail, dict):
            detail = exc.detail
        else:
            code, message = STATUS_FR.get(exc.status_code, ("erreur", str(exc.detail)))
            detail = {"code": code, "message": message}
        return JSONResponse(
            {"detail": detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None)
        )
