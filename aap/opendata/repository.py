"""What the public may read, decided here once: the statements behind every public page and export.

A dossier is public once programmed (`PUBLIC_STATES`): drafts, dossiers under instruction, refused,
withdrawn or expired ones never are. A financer's line is published in open data once the dossier
is conventioned (the convention or the notification letter is sent: `CONVENTIONED_STATES`).

Where the QPV and the orientation sit in the answers is read from each form definition (as the
programme table does), then matched in SQL on the JSON text of that answer: ``"QN00401M"`` inside
``["QN00401M","QN00402M"]``. A dossier aimed at two QPV counts in full in each (as on the dashboard).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
)
from sqlalchemy.orm import Session

from aap.financing.programmation import paths_of
from aap.models import (
    Campaign,
    Cofinancement,
    Dossier,
    Financeur,
    Organisation,
    Orientation,
    Payment,
    Qpv,
    Territory,
)
from forms import load_form
from workflows.dossier import CONVENTIONED_STATES, PUBLIC_STATES


@dataclass(frozen=True)
class Filters:
    """Resolved filters (ids, not codes): None means every one."""

    territory_id: int | None = None
    financeur_code: str | None = None
    year: int | None = None
    qpv: str | None = None
    orientation: str | None = None


# --- where answers are, in SQL ---------------------------------------------------------------------


ANSWERS = ("qpv", "orientation", "summary")
"""The answers a public page may show, besides the title."""


@lru_cache(maxsize=32)
def _form_paths(form_code: str, form_version: int) -> dict[str, str | None]:
    definition = load_form(form_code, form_version).definition
    paths = paths_of(definition)
    return {"qpv": paths.qpv, "orientation": paths.orientation, "summary": definition.summary_field}


def _json_text(path: str) -> ColumnElement[str]:
    """The answer at `path` as JSON text (`"C.1"`, `["QN00401M", "QN00402M"]`) on both databases."""
    return cast(Dossier.answers[tuple(path.split("."))], String)


def forms_in_use(session: Session, territory_id: int | None) -> list[tuple[str, int]]:
    query = select(Campaign.form_code, Campaign.form_version).distinct()
    if territory_id is not None:
        query = query.where(Campaign.territory_id == territory_id)
    return [(code, version) for code, version in session.execute(query)]


def answer_text(forms: Iterable[tuple[str, int]], which: str) -> ColumnElement[Any]:
    """The JSON text of one of the `ANSWERS` (QPV, orientation, summary), whatever the dossier's form."""
    whens = []
    for code, version in forms:
        path = _form_paths(code, version)[which]
        if path:
            whens.append((and_(Dossier.form_code == code, Dossier.form_version == version), _json_text(path)))
    return case(*whens, else_=null()) if whens else null()


def _like_code(text: ColumnElement[Any], code: Any) -> ColumnElement[bool]:
    """`text` holds the JSON string `code` (alone or in a list). Codes are letters, digits and dots."""
    return text.like(literal('%"') + code + literal('"%'))


def _under_orientation(text: ColumnElement[Any], code: Any) -> ColumnElement[bool]:
    """The orientation answered is `code` or one of its children (`C`, `C.1`, `C.1.a`)."""
    return or_(text == literal('"') + code + literal('"'), text.like(literal('"') + code + literal(".%")))


# --- amounts accorded -----------------------------------------------------------------------------


def _accorded() -> Any:
    """What the financers accorded the dossier, as a correlated subquery (the line index is on
    `dossier_id`): no grouping of every line of the database."""
    return (
        select(func.sum(Cofinancement.montant_accorde))
        .where(Cofinancement.dossier_id == Dossier.id, Cofinancement.decision == "accorde")
        .correlate(Dossier)
        .scalar_subquery()
    )


def _funded() -> ColumnElement[bool]:
    return (
        select(Cofinancement.id)
        .where(
            Cofinancement.dossier_id == Dossier.id,
            Cofinancement.decision == "accorde",
            Cofinancement.montant_accorde > 0,
        )
        .correlate(Dossier)
        .exists()
    )


def _public_dossiers(
    filters: Filters, qpv_text: ColumnElement[Any], orientation_text: ColumnElement[Any]
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Dossier.state.in_(PUBLIC_STATES), _funded()]
    if filters.territory_id is not None:
        conditions.append(Campaign.territory_id == filters.territory_id)
    if filters.year is not None:
        conditions.append(Campaign.year == filters.year)
    if filters.qpv is not None:
        conditions.append(_like_code(qpv_text, literal(filters.qpv)))
    if filters.orientation is not None:
        conditions.append(_under_orientation(orientation_text, literal(filters.orientation)))
    return conditions


def actions_query(session: Session, filters: Filters) -> Select[Any]:
    """The funded actions, newest year first: only public columns (no answers beyond QPV,
    orientation and summary, no amounts asked, no people)."""
    forms = forms_in_use(session, filters.territory_id)
    qpv_text, orientation_text = answer_text(forms, "qpv"), answer_text(forms, "orientation")
    return (
        select(
            Dossier.id,
            Dossier.title,
            answer_text(forms, "summary").label("summary_json"),
            Organisation.name.label("association"),
            Campaign.year,
            Campaign.title.label("appel"),
            Territory.id.label("territory_id"),
            Territory.code.label("territory_code"),
            Territory.name.label("territory_name"),
            qpv_text.label("qpv_json"),
            orientation_text.label("orientation_json"),
            _accorded().label("accorde"),
        )
        .join(Campaign, Campaign.id == Dossier.campaign_id)
        .join(Territory, Territory.id == Campaign.territory_id)
        .join(Organisation, Organisation.id == Dossier.organisation_id)
        .where(*_public_dossiers(filters, qpv_text, orientation_text))
    )


def count_actions(session: Session, filters: Filters) -> int:
    query = actions_query(session, filters).with_only_columns(func.count(Dossier.id))
    return int(session.scalar(query) or 0)


def page_of_actions(session: Session, filters: Filters, limit: int, offset: int) -> list[Any]:
    query = actions_query(session, filters).order_by(Campaign.year.desc(), Dossier.title, Dossier.id)
    return list(session.execute(query.limit(limit).offset(offset)))


def qpv_orientation_totals(session: Session, territory_id: int, year: int) -> list[Any]:
    """Per QPV and top-level orientation: public actions and money accorded (one grouped query).

    A dossier counts in each of its QPV; under its orientation's root (`C` for `C.1`), or under no
    orientation (NULL) when its form has none."""
    forms = forms_in_use(session, territory_id)
    qpv_text, orientation_text = answer_text(forms, "qpv"), answer_text(forms, "orientation")
    # each public dossier's answers read once (MATERIALIZED), then matched against the QPV and roots
    public = (
        select(
            Dossier.id.label("id"),
            qpv_text.label("qpv_json"),
            orientation_text.label("orientation_json"),
            _accorded().label("accorde"),
        )
        .join(Campaign, Campaign.id == Dossier.campaign_id)
        .where(*_public_dossiers(Filters(territory_id, year=year), qpv_text, orientation_text))
        .cte("public_dossiers")
        .prefix_with("MATERIALIZED")
    )
    root = Orientation.__table__.alias("root")
    return list(
        session.execute(
            select(
                Qpv.code.label("qpv"),
                root.c.code.label("orientation"),
                func.count(public.c.id).label("actions"),
                func.sum(public.c.accorde).label("accorde"),
            )
            .select_from(public)
            .join(Qpv, and_(Qpv.territory_id == territory_id, _like_code(public.c.qpv_json, Qpv.code)))
            .outerjoin(
                root,
                and_(
                    root.c.territory_id == territory_id,
                    root.c.depth == 0,
                    _under_orientation(public.c.orientation_json, root.c.code),
                ),
            )
            .group_by(Qpv.code, root.c.code)
            .order_by(Qpv.code, root.c.code)
        )
    )


def years_with_actions(session: Session, territory_id: int | None) -> list[int]:
    query = select(Campaign.year).distinct().join(Dossier, Dossier.campaign_id == Campaign.id)
    query = query.where(Dossier.state.in_(PUBLIC_STATES))
    if territory_id is not None:
        query = query.where(Campaign.territory_id == territory_id)
    return sorted(session.scalars(query), reverse=True)


# --- the SCDL lines -------------------------------------------------------------------------------


def subvention_lines(filters: Filters) -> Select[*tuple[Any, ...]]:
    """One row per financer's accorded line of a conventioned dossier that the financer publishes:
    it has a SIRET, and what it accorded this organisation over the year reaches its threshold, or
    it publishes smaller amounts too."""
    year_totals = (
        select(
            Dossier.organisation_id,
            Cofinancement.financeur_id,
            Campaign.year,
            func.sum(Cofinancement.montant_accorde).label("total"),
        )
        .join(Dossier, Dossier.id == Cofinancement.dossier_id)
        .join(Campaign, Campaign.id == Dossier.campaign_id)
        .where(Cofinancement.decision == "accorde", Dossier.state != "abandonne")
        .group_by(Dossier.organisation_id, Cofinancement.financeur_id, Campaign.year)
        .subquery("year_totals")
    )
    paid = (
        select(
            Payment.cofinancement_id,
            func.count(Payment.id).label("count"),
            func.min(Payment.paid_on).label("first"),
            func.max(Payment.paid_on).label("last"),
            func.max(case((Payment.kind == "avance", 1), else_=0)).label("avance"),
        )
        .group_by(Payment.cofinancement_id)
        .subquery("paid")
    )
    conditions: list[ColumnElement[bool]] = [
        Cofinancement.decision == "accorde",
        Cofinancement.montant_accorde > 0,
        Dossier.state.in_(CONVENTIONED_STATES),
        Dossier.conventionne_at.is_not(None),
        Financeur.siret.is_not(None),
        or_(Financeur.opendata_sous_seuil == True, year_totals.c.total >= Financeur.opendata_seuil),  # noqa: E712
    ]
    if filters.territory_id is not None:
        conditions.append(Campaign.territory_id == filters.territory_id)
    if filters.year is not None:
        conditions.append(Campaign.year == filters.year)
    if filters.financeur_code is not None:
        conditions.append(Financeur.code == filters.financeur_code)
    return (
        select(
            Financeur.name.label("financeur_name"),
            Financeur.siret.label("financeur_siret"),
            Financeur.code.label("financeur_code"),
            Dossier.conventionne_at,
            Dossier.number,
            Dossier.title,
            Organisation.name.label("organisation_name"),
            Organisation.siret.label("organisation_siret"),
            Organisation.rna.label("organisation_rna"),
            Cofinancement.montant_accorde,
            Campaign.year,
            Campaign.title.label("campaign_title"),
            Campaign.dates.label("campaign_dates"),
            Campaign.fuseau.label("fuseau"),
            paid.c.count.label("payments"),
            paid.c.first.label("first_payment"),
            paid.c.last.label("last_payment"),
            paid.c.avance.label("has_avance"),
        )
        .select_from(Cofinancement)
        .join(Dossier, Dossier.id == Cofinancement.dossier_id)
        .join(Campaign, Campaign.id == Dossier.campaign_id)
        .join(Financeur, Financeur.id == Cofinancement.financeur_id)
        .join(Organisation, Organisation.id == Dossier.organisation_id)
        .join(
            year_totals,
            and_(
                year_totals.c.organisation_id == Dossier.organisation_id,
                year_totals.c.financeur_id == Cofinancement.financeur_id,
                year_totals.c.year == Campaign.year,
            ),
        )
        .outerjoin(paid, paid.c.cofinancement_id == Cofinancement.id)
        .where(*conditions)
        .order_by(Campaign.year, Dossier.number, Financeur.code, Cofinancement.id)
    )


# --- calls ----------------------------------------------------------------------------------------


def territory_by_code(session: Session, code: str) -> Territory | None:
    return session.scalar(select(Territory).where(Territory.code == code))


def financeur_exists(session: Session, code: str, territory_id: int | None) -> bool:
    query = select(Financeur.id).where(Financeur.code == code)
    if territory_id is not None:
        query = query.where(Financeur.territory_id == territory_id)
    return session.scalar(query.limit(1)) is not None


def year_exists(session: Session, year: int, territory_id: int | None) -> bool:
    query = select(Campaign.id).where(Campaign.year == year)
    if territory_id is not None:
        query = query.where(Campaign.territory_id == territory_id)
    return session.scalar(query.limit(1)) is not None


def campaigns_of(session: Session, territory_id: int) -> list[Campaign]:
    query = select(Campaign).where(Campaign.territory_id == territory_id)
    return list(session.scalars(query.order_by(Campaign.depot_ouverture.desc(), Campaign.id.desc())))


def campaign_by_code(session: Session, territory_id: int, code: str) -> Campaign | None:
    return session.scalar(
        select(Campaign).where(Campaign.territory_id == territory_id, Campaign.code == code)
    )
