"""The form of a campaign and the context it is filled in (the territory's QPV, tree, financers)."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from aap.models import Campaign, Orientation, Priority, Qpv
from forms import Form, FormContext, load_form


def form_context(session: Session, campaign: Campaign) -> FormContext:
    tid = campaign.territory_id
    qpvs = session.execute(select(Qpv.code, Qpv.name).where(Qpv.territory_id == tid).order_by(Qpv.id)).all()
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
