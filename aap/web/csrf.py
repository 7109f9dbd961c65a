"""CSRF protection for HTML forms: a per-session token, checked on every POST."""

import hmac
import secrets

from fastapi import Request

from aap.errors import Forbidden


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
CSRF_HEADER = "X-CSRF-Token"


def check_api_csrf(request: Request) -> None:
    """The API with the session cookie (links of the pages: downloads, exports) reads freely; a write
    needs the session's token in the `X-CSRF-Token` header (programs use bearer tokens)."""
    if request.method in SAFE_METHODS:
        return
    expected = request.session.get("csrf")
    submitted = request.headers.get(CSRF_HEADER)
    if not expected or not submitted or not hmac.compare_digest(expected, submitted):
        raise Forbidden(
            "Une écriture par l'API avec le cookie de session demande l'en-tête X-CSRF-Token de la "
            "session (ou un jeton Bearer) : requête refusée.",
            code="csrf_invalide",
        )


def check_csrf(request: Request, submitted: str | None) -> None:
    expected = request.session.get("csrf")
    if not expected or not submitted or not hmac.compare_digest(expected, submitted):
        raise Forbidden(
            "Le formulaire a expiré ou ne vient pas de cette application : rechargez la page et recommencez.",
            code="csrf_invalide",
        )
