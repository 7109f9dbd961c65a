"""Jinja2 environment of the web pages: filters for French dates and amounts, the role-aware nav."""

from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm.exc import DetachedInstanceError

from aap.attachments.files import french_size
from aap.clock import zone
from aap.models import User
from aap.settings import get_settings
from aap.web.csrf import csrf_token
from workflows.dossier import STATE_LABELS
from workflows.labels import ROLE_LABELS
from workflows.money import format_euros

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

# the zone the page being rendered reads its times in (`render`): its dossier's contract's, else its
# reader's; found when a time is first shown (a page showing none reads nothing for it)
PAGE_ZONE: ContextVar[Callable[[], str | None] | None] = ContextVar("page_zone", default=None)
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)

LANDING = {
    "porteur": "/mes-dossiers",
    "instructeur": "/instruction",
    "financeur": "/financeur",
    "admin": "/tableau-de-bord",
    "partenaire": "/avis",
}
"""The page about each role's work, where logging in lands."""

NAV: dict[str, list[tuple[str, str]]] = {
    "porteur": [("/mes-dossiers", "Mes dossiers"), ("/focus", "Focus bénéficiaires"), ("/cpo", "Mes CPO")],
    "instructeur": [
        ("/instruction", "Instruction"),
        ("/tableau-de-bord", "Tableau de bord"),
        ("/focus", "Focus bénéficiaires"),
        ("/cpo", "CPO"),
    ],
    "financeur": [
        ("/financeur", "Dossiers à décider"),
        ("/tableau-de-bord", "Tableau de bord"),
        ("/cpo", "CPO"),
    ],
    "partenaire": [("/avis", "Avis demandés")],
    "admin": [
        ("/tableau-de-bord", "Tableau de bord"),
        ("/instruction", "Instruction"),
        ("/focus", "Focus bénéficiaires"),
        ("/cpo", "CPO"),
        ("/admin", "Administration"),
    ],
}


def local(value: datetime) -> datetime:
    """A stored (UTC) time as read where the page's contract is (`PAGE_ZONE`), else on the app's clock
    (`AAP_TIMEZONE`)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    of_page = PAGE_ZONE.get()
    return value.astimezone(zone((of_page() if of_page else None) or get_settings().timezone))


def date_long(value: date | datetime | str | None) -> str:
    """« 15 janvier 2026 »."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = local(value).date()
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {MONTHS[value.month - 1]} {value.year}"


def time_short(value: datetime | None) -> str:
    """« 14 h 32 »."""
    if value is None:
        return ""
    t = local(value)
    return f"{t.hour} h {t.minute:02d}"


def datetime_long(value: datetime | None) -> str:
    """« 15 janvier 2026 à 14 h 32 » (heure du contrat de la page, `local`)."""
    return "" if value is None else f"{date_long(value)} à {time_short(value)}"


def euros(value: Decimal | str | None) -> str:
    if value is None or value == "":
        return "—"
    return format_euros(Decimal(str(value)))


def nav_for(request: Request, user: Any) -> list[dict[str, Any]]:
    """The nav links of the caller's role, the current one marked."""
    if user is None:
        return []
    path = request.url.path
    return [
        {"href": href, "label": label, "current": path == href or path.startswith(href + "/")}
        for href, label in NAV.get(user.role, [])
    ]


templates.env.globals.update(ROLE_LABELS=ROLE_LABELS, STATE_LABELS=STATE_LABELS, nav_for=nav_for)
templates.env.filters.update(
    date_long=date_long,
    datetime_long=datetime_long,
    time_short=time_short,
    euros=euros,
    file_size=french_size,
)


def flash(request: Request, message: str, kind: str = "success") -> None:
    """A message shown once on the next page (after a redirect): « Brouillon enregistré »."""
    request.session["flash"] = [*request.session.get("flash", []), {"message": message, "kind": kind}]


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    ctx = {
        "request": request,
        "csrf_token": csrf_token(request),
        "flashes": request.session.pop("flash", []),
        # a person of several contracts: the header's selector (`aap.deps`, `aap.territories.memberships`)
        "territoires": getattr(request.state, "territoires", []),
    }
    ctx.update(context or {})
    token = PAGE_ZONE.set(_zone_of_page(ctx))  # the template is rendered here, at the response's making
    try:
        return templates.TemplateResponse(request, name, ctx, status_code=status_code)
    finally:
        PAGE_ZONE.reset(token)


def _zone_of_page(ctx: dict[str, Any]) -> Callable[[], str | None]:
    """The zone of the contract a page is about: its dossier's, its call's or its CPO's (`fuseau`), so a
    dossier deposited at 22:00 in Cayenne reads « 22 h 00 » there, not the next day in Paris. A page
    about no one contract (a list, the journal) reads its times where its reader works."""
    for key in ("dossier", "campaign", "cpo"):
        found = ctx.get(key)
        for holder in (found, getattr(found, "campaign", None)):
            fuseau = getattr(holder, "fuseau", None)
            if isinstance(fuseau, str):
                return lambda: fuseau
    return cache(lambda: _reader_zone(ctx.get("user")))


def _reader_zone(user: Any) -> str | None:
    """The zone of the contract the reader works in (the one it acts in, for a person of several);
    None for a reader of no one contract (a porteur, a financer), who reads the app's clock."""
    if not isinstance(user, User):
        return None
    try:
        territory = user.territory  # read now for an account at home; given for one acting elsewhere
    except DetachedInstanceError:  # pragma: no cover - a page's reader is read in its request
        return None
    return territory.fuseau if territory is not None else None
