"""The CPO's public shape (contract: `id`, `state`, `organisation`, `dossier_origine`, `annees`,
`transitions`) and the request bodies."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from aap.models import Cpo, CpoEvent
from aap.schemas import Euros
from workflows import cpo as lifecycle

ZERO = Decimal("0.00")
TOTALS = ("prevu", "accorde", "paye")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewCpo(Strict):
    annees: list[Any] = Field(
        description="Les années de la CPO, consécutives, de 2 à 4 (ex. [2027, 2028, 2029])."
    )
    financeurs: dict[str, list[Any]] = Field(
        description='Par financeur signataire, un montant prévu par année (ex. {"ETAT": ["5000.00", …]}).'
    )
    objectifs: str | None = Field(None, max_length=4000)
    indicateurs: str | None = Field(None, max_length=4000)


class CpoTransitionBody(Strict):
    financeur: str | None = Field(None, description="signer : le financeur qui signe (le vôtre).")
    montants: list[Any] | None = Field(
        None, description="signer : les montants annuels signés (ceux de la CPO)."
    )
    motif: str | None = Field(None, description="resilier : le motif de la résiliation.")
    comment: str | None = None


class AdvanceBody(Strict):
    financeur: str
    justification: str = Field(description="Le vote ou la délibération qui autorise l'avance avant le bilan.")


class CpoYearFinanceur(BaseModel):
    financeur: str
    prevu: Euros
    accorde: Euros
    paye: Euros


class CpoTotals(BaseModel):
    prevu: Euros = Field(description="Le total prévu, toutes années et tous financeurs.")
    accorde: Euros = Field(description="Le total accordé par les dossiers annuels.")
    paye: Euros = Field(description="Le total versé.")


class CpoYear(BaseModel):
    annee: int
    dossier_id: int | None
    financeurs: list[CpoYearFinanceur]


class CpoOut(BaseModel):
    id: int
    state: str
    state_label: str
    organisation: dict[str, Any]
    dossier_origine: int
    action: str
    objectifs: str | None
    indicateurs: str | None
    signataires: list[dict[str, Any]]
    annees: list[CpoYear]
    totaux: CpoTotals
    fin: str
    a_renouveler: bool = Field(description="La CPO se termine dans moins de 6 mois : la renouveler ou non.")
    motif_resiliation: str | None
    version: int
    transitions: list[str]


class CpoPage(BaseModel):
    items: list[CpoOut]
    total: int


def cpo_out(
    cpo: Cpo,
    transitions: list[str],
    figures: dict[tuple[int, int], tuple[Decimal, Decimal]],
    today: date,
) -> dict[str, Any]:
    years = [a.annee for a in cpo.annees]
    annees: list[dict[str, Any]] = [
        {
            "annee": a.annee,
            "dossier_id": a.dossier_id,
            "financeurs": [
                {
                    "financeur": m.financeur.code,
                    "prevu": m.prevu,
                    "accorde": figures.get((a.annee, m.financeur_id), (ZERO, ZERO))[0],
                    "paye": figures.get((a.annee, m.financeur_id), (ZERO, ZERO))[1],
                }
                for m in a.montants
            ],
        }
        for a in cpo.annees
    ]
    return {
        "id": cpo.id,
        "state": cpo.state,
        "state_label": lifecycle.STATE_LABELS.get(cpo.state, cpo.state),
        "organisation": {"id": cpo.organisation.id, "name": cpo.organisation.name},
        "dossier_origine": cpo.dossier_origine_id,
        "action": cpo.action,
        "objectifs": cpo.objectifs,
        "indicateurs": cpo.indicateurs,
        "signataires": [
            {
                "financeur": s.financeur.code,
                "financeur_name": s.financeur.name,
                "signe_le": s.signed_at.isoformat() if s.signed_at else None,
            }
            for s in cpo.signataires
        ],
        "annees": annees,
        "totaux": {key: sum((f[key] for a in annees for f in a["financeurs"]), ZERO) for key in TOTALS},
        "fin": lifecycle.end_of(years).isoformat() if years else "",
        "a_renouveler": lifecycle.renewal_due(cpo.state, years, today),
        "motif_resiliation": cpo.motif_resiliation,
        "version": cpo.version,
        "transitions": transitions,
    }


def event_out(event: CpoEvent) -> dict[str, Any]:
    at: datetime = event.at
    return {
        "transition": event.transition,
        "from": event.from_state,
        "to": event.to_state,
        "by": event.email,
        "role": event.role,
        "at": at.isoformat() if at else None,
        "comment": event.comment,
        "data": event.data or {},
    }
