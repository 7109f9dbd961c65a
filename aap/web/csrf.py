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


def check_csrf(request: Request, submitted: str | None) -> None:
    expected = request.session.get("csrf")
    if not expected or not submitted or not hmac.compare_digest(expected, submitted):
        raise Forbidden(
            "Le formulaire a expiré ou ne vient pas de cette application : rechargez la page et recommencez.",
            code="csrf_invalide",
        )
