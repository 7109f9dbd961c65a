"""The share of each financer's money under CPO in a campaign, against the 50 % target of the circulaire
of 31 August 2023, in amounts and in actions: one grouped query.

Counted: the accorded lines of the campaign's dossiers the caller may see (abandoned dossiers aside).
A line is under CPO when its dossier is a year's dossier of a signed CPO that this financer signs for
that year.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from aap.cpo.repository import BOUND_STATES
from aap.dossiers.access import visible_dossiers
from aap.models import (
    Campaign,
    CampaignFinanceur,
    Cofinancement,
    Cpo,
    CpoAnnee,
    CpoMontant,
    Dossier,
    Financeur,
    User,
)

CIBLE = Decimal("0.50")
ZERO = Decimal("0.00")


def _part(under: Decimal, total: Decimal) -> str:
    return f"{(under / total).quantize(Decimal('0.0001'), rounding=ROUND_HALF_UP) if total else Decimal('0'):.4f}"


def cpo_shares(
    session: Session,
    user: User,
    campaign: Campaign,
    accorded: dict[int, tuple[Decimal, int]] | None = None,
) -> list[dict[str, Any]]:
    """Per financer of the campaign: `montant_cpo`, `montant_total`, `part`, `actions_cpo`,
    `actions_total`, `cible`. `accorded`: each financer's accorded money and lines (abandoned dossiers
    aside) when the caller already knows them for every dossier of the campaign (the staff's kept
    totals): then only the part under CPO is read."""
    # the (dossier, financer) pairs of this campaign under a signed CPO: a few rows per CPO
    pairs = (
        select(CpoAnnee.dossier_id.label("dossier_id"), CpoMontant.financeur_id.label("financeur_id"))
        .join(Cpo, Cpo.id == CpoAnnee.cpo_id)
        .join(CpoMontant, CpoMontant.cpo_annee_id == CpoAnnee.id)
        .join(Dossier, Dossier.id == CpoAnnee.dossier_id)
        .where(Cpo.state.in_(BOUND_STATES), Dossier.campaign_id == campaign.id)
        .distinct()
        .subquery()
    )
    visible = visible_dossiers(user).whereclause
    counted = and_(
        Dossier.campaign_id == campaign.id,
        *([visible] if visible is not None else []),
        Dossier.state != "abandonne",
        Cofinancement.decision == "accorde",
    )
    accorde = func.coalesce(Cofinancement.montant_accorde, 0)
    # every accorded line (one line per dossier and financer, so the lines are the actions): kept by
    # the caller, else one pass over the campaign's lines
    totals = (
        [(fid, t, n) for fid, (t, n) in accorded.items()]
        if accorded is not None
        else session.execute(
            select(Cofinancement.financeur_id, func.sum(accorde), func.count())
            .join(Dossier, Dossier.id == Cofinancement.dossier_id)
            .where(counted)
            .group_by(Cofinancement.financeur_id)
        )
    )
    # the pairs first (a few per signed CPO), then only their dossiers' lines: never every line
    signed = {(d, f) for d, f in session.execute(select(pairs.c.dossier_id, pairs.c.financeur_id))}
    cpo_part: dict[int, tuple[Decimal, int]] = {}
    if signed:
        under = session.execute(
            select(Cofinancement.dossier_id, Cofinancement.financeur_id, accorde)
            .join(Dossier, Dossier.id == Cofinancement.dossier_id)
            .where(counted, Cofinancement.dossier_id.in_(sorted({d for d, _ in signed})))
        )
        for dossier_id, fid, amount in under:
            if (dossier_id, fid) in signed:
                c, n = cpo_part.get(fid, (ZERO, 0))
                cpo_part[fid] = (c + Decimal(amount or 0), n + 1)
    sums: dict[int, tuple[Decimal, Decimal, int, int]] = {}
    for fid, t, n_t in totals:
        c, n_c = cpo_part.get(fid, (ZERO, 0))
        sums[fid] = (c, Decimal(t or 0), n_c, n_t)
    financeurs = session.execute(
        select(Financeur.id, Financeur.code, Financeur.name)
        .join(CampaignFinanceur, CampaignFinanceur.financeur_id == Financeur.id)
        .where(CampaignFinanceur.campaign_id == campaign.id)
        .order_by(CampaignFinanceur.position, CampaignFinanceur.id)
    ).all()
    out = []
    for fid, code, name in financeurs:
        if user.role == "financeur" and fid != user.financeur_id:
            continue
        montant_cpo, montant_total, actions_cpo, actions_total = sums.get(fid, (ZERO, ZERO, 0, 0))
        out.append(
            {
                "financeur": code,
                "financeur_name": name,
                "montant_cpo": f"{montant_cpo:.2f}",
                "montant_total": f"{montant_total:.2f}",
                "part": _part(montant_cpo, montant_total),
                "actions_cpo": actions_cpo,
                "actions_total": actions_total,
                "cible": f"{CIBLE:.2f}",
            }
        )
    return out
