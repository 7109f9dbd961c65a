"""The dashboard: amounts accorded by financer, orientation and QPV, the délais, the share under CPO.

Staff read the campaign's totals (`aap.financing.totaux`, the same figures as the API); a financer
sees its own money only. Every chart is server-rendered SVG with its figures in a table beside it.
"""

from collections import defaultdict
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from aap.campaigns import service as campaigns
from aap.cpo import totaux as cpo_totaux
from aap.deps import DB
from aap.financing import service as financing
from aap.financing import totaux
from aap.models import Campaign, Cofinancement, Dossier, User
from aap.web.rendering import render
from aap.web.staff import queries
from aap.web.staff.charts import Bar, bar_chart
from aap.web.staff.common import page_user
from workflows.cofinancement import format_euros

router = APIRouter(include_in_schema=False)
Viewer = Annotated[User, Depends(page_user("admin", "instructeur", "financeur"))]

ZERO = Decimal("0.00")
CPO_TARGET = Decimal("50")
DELAY_LABELS = {
    "depot_decision": "Dépôt → décision des financeurs",
    "decision_convention": "Décision → convention ou notification",
    "decision_premier_paiement": "Décision → premier paiement",
}


def _money(value: Any) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else ZERO


def _root_of(session: Session, territory_id: int) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Each orientation code's top-level orientation, and the top-level ones (code, label) in order."""
    tree = queries.orientations(session, territory_id)
    parent = {o.code: o.parent_code for o in tree}
    root: dict[str, str] = {}
    for o in tree:
        code, hops = o.code, 0
        while parent.get(code) is not None and hops < 20:
            code, hops = parent[code] or code, hops + 1
        root[o.code] = code
    return root, [(o.code, o.label) for o in tree if o.parent_code is None]


def _by_root(
    pairs: list[tuple[str | None, Decimal]], root: dict[str, str], roots: list[tuple[str, str]]
) -> list[tuple[str, Decimal]]:
    sums: dict[str | None, Decimal] = defaultdict(lambda: ZERO)
    for code, amount in pairs:
        sums[root.get(code or "")] += amount
    out = [(f"{code}. {label}", sums[code]) for code, label in roots]
    if sums.get(None):
        out.append(("Orientation non renseignée", sums[None]))
    return out


def _own_lines(session: Session, user: User, campaign: Campaign) -> list[tuple[Dossier, Cofinancement]]:
    return [
        (d, line)
        for d, line in queries.financer_lines(session, user, campaign.id)
        if line.decision == "accorde" and line.montant_accorde is not None and d.state != "abandonne"
    ]


def _figures(session: Session, user: User, campaign: Campaign) -> dict[str, Any]:
    """The amounts of each chart, as (label, amount) lists, for the caller's role."""
    t = totaux.totaux(session, user, campaign.id)
    root, roots = _root_of(session, campaign.territory_id)
    qpv_names = queries.qpv_options(session, campaign.territory_id)
    if user.role == "financeur":
        lines = _own_lines(session, user, campaign)
        by_financeur = [
            (f["financeur_name"], _money(f["accorde"]))
            for f in t["financeurs"]
            if user.financeur and f["financeur"] == user.financeur.code
        ]
        by_orientation = _by_root(
            [(queries.orientation_of(d), line.montant_accorde or ZERO) for d, line in lines], root, roots
        )
        per_qpv: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for d, line in lines:
            for code in queries.qpvs_of(d):
                per_qpv[code] += line.montant_accorde or ZERO
    else:
        by_financeur = [(f["financeur_name"], _money(f["accorde"])) for f in t["financeurs"]]
        by_orientation = _by_root(
            [(o["orientation"], _money(o["accorde"])) for o in t["orientations"]], root, roots
        )
        per_qpv = {q["qpv"]: _money(q["accorde"]) for q in t["qpv"]}
    by_qpv = [(name, per_qpv.get(code, ZERO)) for code, name in qpv_names]
    return {
        "by_financeur": by_financeur,
        "by_orientation": by_orientation,
        "by_qpv": by_qpv,
        "delais": t["delais"],
        "total": t["total"],
    }


def _cpo_shares(
    session: Session, user: User, campaign: Campaign
) -> list[tuple[str, Decimal, Decimal, Decimal]]:
    """Per financer (and for the whole contract): accorded, accorded under a CPO, and the share in %,
    from the same figures as `GET /api/v1/campaigns/{id}/totaux` (its `cpo` key)."""
    shares = cpo_totaux.cpo_shares(session, user, campaign)
    rows = [(s["financeur_name"], _money(s["montant_total"]), _money(s["montant_cpo"])) for s in shares]
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
    cpo = _cpo_shares(db, user, campaign)
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
