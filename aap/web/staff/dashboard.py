"""The dashboard: amounts accorded by financer, orientation and QPV, the délais, the share under CPO.

Staff read the campaign's totals (`aap.financing.totaux`, the same figures as the API); a financer
sees its own money only. Every chart is server-rendered SVG with its figures in a table beside it.
"""

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from aap.campaigns import service as campaigns
from aap.deps import DB
from aap.financing import service as financing
from aap.financing import totaux
from aap.models import Campaign, User
from aap.web.rendering import render
from aap.web.staff import queries
from aap.web.staff.charts import Bar, bar_chart
from aap.web.staff.common import page_user
from workflows.cofinancement import format_euros
from workflows.labels import TOTAUX_DELAY_LABELS

router = APIRouter(include_in_schema=False)
Viewer = Annotated[User, Depends(page_user("admin", "instructeur", "financeur"))]

ZERO = Decimal("0.00")
CPO_TARGET = totaux.CPO_TARGET * 100
DELAY_LABELS = TOTAUX_DELAY_LABELS


def _label(o: dict[str, Any]) -> str:
    return f"{o['orientation']}. {o['label']}" if o["orientation"] else "Orientation non renseignée"


def _figures(session: Session, user: User, campaign: Campaign) -> dict[str, Any]:
    """The amounts of each chart, as (label, amount) lists, for the caller's role: a financer sees
    its own lines only (`propre`), the staff every line."""
    t = totaux.totaux(session, user, campaign.id)
    scope = t["propre"] if user.role == "financeur" and t["propre"] else t
    if user.role == "financeur":
        code = user.financeur.code if user.financeur else None
        by_financeur = [
            (f["financeur_name"], f["accorde"]) for f in t["financeurs"] if f["financeur"] == code
        ]
    else:
        by_financeur = [(f["financeur_name"], f["accorde"]) for f in t["financeurs"]]
    per_qpv = {q["qpv"]: q["accorde"] for q in scope["qpv"]}
    qpv_names = queries.qpv_options(session, campaign.territory_id)
    return {
        "by_financeur": by_financeur,
        "by_orientation": [(_label(o), o["accorde"]) for o in scope["orientations_racines"]],
        "by_qpv": [(name, per_qpv.get(code, ZERO)) for code, name in qpv_names],
        "delais": t["delais"],
        "total": scope["total"],
        "cpo": t["cpo"],
    }


def _cpo_shares(
    user: User, campaign: Campaign, cpo: list[dict[str, Any]]
) -> list[tuple[str, Decimal, Decimal, Decimal]]:
    """Per financer (and for the whole contract): accorded, accorded under a CPO, and the share in %."""
    names = {cf.financeur.code: cf.financeur.name for cf in campaign.financeurs}
    mine = user.financeur.code if user.role == "financeur" and user.financeur else None
    rows = [
        (names.get(c["financeur"], c["financeur"]), c["montant_total"], c["montant_cpo"])
        for c in cpo
        if user.role != "financeur" or c["financeur"] == mine
    ]
    if user.role != "financeur":
        rows.append(("Ensemble du contrat", sum((r[1] for r in rows), ZERO), sum((r[2] for r in rows), ZERO)))
    return [(label, t, c, (c / t * 100).quantize(Decimal("0.1")) if t else ZERO) for label, t, c in rows]


def _days(value: Any) -> str:
    if value is None:
        return "pas encore mesuré"
    n = Decimal(str(value)).quantize(Decimal("0.1"))
    n_text = f"{n:.1f}".replace(".", ",").removesuffix(",0")
    return f"{n_text} jour{'s' if n >= 2 else ''}"


@router.get("/tableau-de-bord", response_class=HTMLResponse)
def dashboard(
    request: Request, db: DB, user: Viewer, campagne: Annotated[str | None, Query()] = None
) -> HTMLResponse:
    items = campaigns.list_campaigns(db, user)
    if campagne and campagne.isdigit():
        campaign: Campaign | None = campaigns.get_campaign(db, user, int(campagne))
    else:
        campaign = queries.default_campaign(db, items)
    context: dict[str, Any] = {"user": user, "campaigns": items, "campaign": campaign}
    if campaign is None:
        return render(request, "staff/dashboard.html", context)
    figures = _figures(db, user, campaign)
    cpo = _cpo_shares(user, campaign, figures["cpo"])
    delays = [
        {
            "code": code,
            "label": label,
            "median": figures["delais"].get(code, {}).get("median_jours"),
            "count": figures["delais"].get(code, {}).get("dossiers", 0),
        }
        for code, label in DELAY_LABELS.items()
    ]

    def money_chart(chart_id: str, title: str, pairs: list[tuple[str, Decimal]]) -> Any:
        return bar_chart(
            chart_id, title, [Bar(label, amount, format_euros(amount)) for label, amount in pairs]
        )

    charts = {
        "financeur": money_chart(
            "graphique-financeurs", "Montants accordés par financeur", figures["by_financeur"]
        ),
        "orientation": money_chart(
            "graphique-orientations",
            "Montants accordés par orientation du contrat de ville",
            figures["by_orientation"],
        ),
        "qpv": money_chart("graphique-qpv", "Montants accordés par quartier prioritaire", figures["by_qpv"]),
        "delais": bar_chart(
            "graphique-delais",
            "Délais médians, en jours",
            [
                Bar(d["label"], Decimal(str(d["median"])), _days(d["median"]))
                for d in delays
                if d["median"] is not None
            ],
            empty="Aucun délai mesuré : pas encore de décision dans cet appel à projets.",
        ),
        "cpo": bar_chart(
            "graphique-cpo",
            "Part des financements accordés sous CPO, face à l'objectif de 50 %",
            [Bar(label, share, f"{share:.1f} %".replace(".", ",")) for label, _t, _c, share in cpo],
            maximum=100,
            target=(CPO_TARGET, "Objectif : 50 %"),
        ),
    }
    envelope = None
    if user.role == "financeur" and user.financeur:
        envelope = next(
            (e for e in financing.enveloppes(db, user, campaign.id) if e["financeur"] == user.financeur.code),
            None,
        )
    context.update(
        {
            "figures": figures,
            "charts": charts,
            "delays": delays,
            "cpo": cpo,
            "envelope": envelope,
            "cpo_tracked": any(c for _l, _t, c, _s in cpo),
        }
    )
    return render(request, "staff/dashboard.html", context)
