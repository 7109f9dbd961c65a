"""The form of a campaign and the context it is filled in (the territory's QPV, tree, financers)."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from aap.models import Campaign, Orientation, Priority, Qpv
from forms import Form, FormContext, load_form
from workflows.labels import PLACE_KIND_LABELS


def form_context(session: Session, campaign: Campaign) -> FormContext:
    tid = campaign.territory_id
    # QPV first, then the places hors QPV the territory names, labelled by their kind
    places = session.execute(
        select(Qpv.code, Qpv.name, Qpv.kind)
        .where(Qpv.territory_id == tid)
        .order_by((Qpv.kind != "qpv"), Qpv.id)
    ).all()
    qpvs = [(c, n if k == "qpv" else f"{n} ({PLACE_KIND_LABELS.get(k, k)}, hors QPV)") for c, n, k in places]
    orientations = session.execute(
        select(Orientation.code, Orientation.label)
        .where(Orientation.territory_id == tid)
        .order_by(Orientation.position)
    ).all()
    priorities = session.execute(
        select(Priority.code, Priority.label).where(Priority.territory_id == tid).order_by(Priority.position)
    ).all()
    return FormContext(
        year=campaign.year,
        financeurs=tuple((line.financeur.code, line.financeur.name) for line in campaign.financeurs),
        qpvs=tuple((c, n) for c, n in qpvs),
        orientations=tuple((c, label) for c, label in orientations),
        priorites=tuple((c, label) for c, label in priorities),
    )


def campaign_form(campaign: Campaign) -> Form:
    return load_form(campaign.form_code, campaign.form_version)
