"""What every staff page shares: who may open it, form values, labels.

Routes stay thin: they parse the form, call a service, and render or redirect. A domain error raised
by a service becomes the site's French error page (`aap.web.errors`), and an anonymous visitor is
sent to the login page, then back.
"""

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from fastapi.responses import RedirectResponse

from aap.deps import MaybeCaller
from aap.errors import AppError, Forbidden, Unauthorized
from aap.models import User
from aap.web.rendering import templates
from forms.values import lenient_amount, parse_amount, parse_date
from workflows.dossier import HISTORY_LABELS
from workflows.labels import AVIS_LABELS, DECISION_LABELS, LINE_STATE_LABELS

EVENT_LABELS = HISTORY_LABELS


def page_user(*roles: str) -> Callable[..., User]:
    """A dependency: the logged-in caller if its role is one of `roles`; else the login page or a 403."""

    def dependency(user: MaybeCaller) -> User:
        if user is None:
            raise Unauthorized("Connectez-vous pour ouvrir cette page.", code="non_authentifie")
        if user.role not in roles:
            raise Forbidden("Cette page n'est pas ouverte à votre rôle.", code="role_interdit")
        return user

    return dependency


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def parse_money(text: str | None) -> Decimal | None:
    """What a person types ("1 234,50 €") as an exact amount, or None when it is not an amount."""
    if text is None or not text.strip():
        return None
    amount = parse_amount(lenient_amount(text.strip()))
    return amount.quantize(Decimal("0.01")) if amount is not None else None


def parse_day(text: str | None) -> date | None:
    return parse_date(text.strip()) if text else None


def error_list(exc: AppError, field_ids: dict[str, str] | None = None) -> list[dict[str, str | None]]:
    """The errors of a refused action for the error summary: message and the id of its field, if any."""
    field_ids = field_ids or {}
    out: list[dict[str, str | None]] = []
    for err in exc.errors or []:
        path = err.get("path") or err.get("field")
        out.append({"message": err.get("message", ""), "target": field_ids.get(path or "")})
    if not out:
        out.append({"message": exc.message, "target": None})
    return out


templates.env.filters["money_input"] = lambda v: "" if v is None else f"{v:.2f}"
templates.env.globals.update(
    AVIS_LABELS=AVIS_LABELS,
    DECISION_LABELS=DECISION_LABELS,
    LINE_STATE_LABELS=LINE_STATE_LABELS,
    EVENT_LABELS=EVENT_LABELS,
)


def page_links(page: int, pages: int, around: int = 3) -> list[int | None]:
    """The pages to link: the first, the last and a few around the current one (None: a gap)."""
    shown = sorted({1, pages, *range(max(1, page - around), min(pages, page + around) + 1)})
    out: list[int | None] = []
    for p in shown:
        if out and p - (out[-1] or 0) > 1:
            out.append(None)
        out.append(p)
    return out
