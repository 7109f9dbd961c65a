"""Jinja2 environment of the web pages."""

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from aap.web.csrf import csrf_token

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

ROLE_LABELS = {
    "admin": "Équipe du contrat de ville",
    "instructeur": "Instructeur",
    "porteur": "Porteur de projet",
    "financeur": "Financeur",
}
templates.env.globals["ROLE_LABELS"] = ROLE_LABELS


def render(request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200) -> HTMLResponse:
    ctx = {"request": request, "csrf_token": csrf_token(request)}
    ctx.update(context or {})
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)
