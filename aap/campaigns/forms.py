"""The form of a campaign and the context it is filled in (the territory's QPV, tree, financers)."""

from sqlalchemy import (
    CompoundSelect,
    Integer,
    String,
    bindparam,
    case,
    literal,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from aap.models import Campaign, CampaignFinanceur, Financeur, Orientation, Priority, Qpv
from forms import Form, FormContext, load_form
from workflows.labels import PLACE_KIND_LABELS


def _form_context_statement() -> CompoundSelect:
    """The territory's places, orientation tree and priorities and the campaign's financers, by kind
    (`t`): built once, its cache key with it, as an autosave runs it each time (building it and
    computing its key cost more than PostgreSQL's answer)."""
    tid, cid = bindparam("territory_id", type_=Integer), bindparam("campaign_id", type_=Integer)
    places = select(
        literal_column("'q'", String).label("t"),
        Qpv.code,
        Qpv.name.label("label"),
        Qpv.kind,
        case((Qpv.kind == "qpv", 0), else_=1).label("rank"),
        Qpv.id.label("pos"),
    ).where(Qpv.territory_id == tid)
    tree = select(
        literal_column("'o'", String),
        Orientation.code,
        Orientation.label,
        Orientation.code,
        literal(0),
        Orientation.position,
    ).where(Orientation.territory_id == tid)
    priorities = select(
        literal_column("'p'", String),
        Priority.code,
        Priority.label,
        Priority.code,
        literal(0),
        Priority.position,
    ).where(Priority.territory_id == tid)
    financeurs = (
        select(
            literal_column("'f'", String),
            Financeur.code,
            Financeur.name,
            Financeur.code,
            CampaignFinanceur.position,
            CampaignFinanceur.id,
        )
        .join(CampaignFinanceur, CampaignFinanceur.financeur_id == Financeur.id)
        .where(CampaignFinanceur.campaign_id == cid)
    )
    return union_all(places, tree, priorities, financeurs).order_by("t", "rank", "pos")


_FORM_CONTEXT = _form_context_statement()


def form_context(session: Session, campaign: Campaign) -> FormContext:
    """The territory's places (QPV first, then the places hors QPV labelled by their kind), orientation
    tree and priorities, and the campaign's financers, in one statement (an autosave asks for them each
    time)."""
    rows = session.execute(
        _FORM_CONTEXT, {"territory_id": campaign.territory_id, "campaign_id": campaign.id}
    ).all()
    return FormContext(
        year=campaign.year,
        financeurs=tuple((code, label) for t, code, label, *_ in rows if t == "f"),
        qpvs=tuple(
            (code, label if kind == "qpv" else f"{label} ({PLACE_KIND_LABELS.get(kind, kind)}, hors QPV)")
            for t, code, label, kind, _, _ in rows
            if t == "q"
        ),
        orientations=tuple((code, label) for t, code, label, *_ in rows if t == "o"),
        priorites=tuple((code, label) for t, code, label, *_ in rows if t == "p"),
    )


def campaign_form(campaign: Campaign) -> Form:
    return load_form(campaign.form_code, campaign.form_version)
