"""Request bodies and the dossier's public shape."""

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from aap.models import Cofinancement, Dossier, DossierEvent
from aap.schemas import euros
from workflows.dossier import STATE_LABELS
from workflows.labels import avis_label, decision_label


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AnswersPatch(Strict):
    answers: dict[str, Any] = Field(description="Réponses partielles, fusionnées section par section.")


class TransitionBody(Strict):
    comment: str | None = Field(
        None, description="Commentaire ou message (obligatoire pour demander des compléments)."
    )
    due_date: date | None = Field(None, description="Date limite (compléments).")
    avis: str | None = Field(
        None, description="Avis du comité technique : favorable, reserve, defavorable, ajourne."
    )
    date_comite: date | None = Field(
        None,
        description="Avis : le jour où le comité technique a siégé (par défaut, aujourd'hui) ; c'est la "
        "date de l'avis partout.",
    )
    pieces_demandees: list[str] | None = Field(
        None,
        description="Compléments : les documents que le porteur doit joindre (un intitulé chacun, "
        "10 au plus) ; il ne peut transmettre ses compléments qu'une fois chacun joint.",
    )


class ExtensionBody(Strict):
    until: date
    reason: str


class ReconductBody(Strict):
    campaign_id: int = Field(description="L'appel à projets ouvert où reconduire le dossier.")


class NewDossier(Strict):
    organisation_id: int | None = None
    answers: dict[str, Any] | None = None


def iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def dossier_out(
    dossier: Dossier,
    transitions: list[str],
    *,
    proposals: bool = True,
    payments: Callable[[Cofinancement], bool] = lambda _line: True,
) -> dict[str, Any]:
    """`proposals=False` hides the instruction's proposed amounts (a porteur before the decisions);
    `payments(line)` False hides that line's payments (`aap.dossiers.access.sees_payments`)."""
    return {
        "id": dossier.id,
        "number": dossier.number,
        "campaign_id": dossier.campaign_id,
        "organisation": {"id": dossier.organisation.id, "name": dossier.organisation.name},
        "title": dossier.title,
        "state": dossier.state,
        "state_label": STATE_LABELS.get(dossier.state, dossier.state),
        "version": dossier.version,
        "form": {"code": dossier.form_code, "version": dossier.form_version},
        "answers": dossier.answers,
        "cofinancements": [
            {
                "financeur": line.financeur.code,
                "financeur_name": line.financeur.name,
                "state": line.state,
                "montant_demande": euros(line.montant_demande),
                "montant_propose": euros(line.montant_propose) if proposals else None,
                "decision": line.decision,
                "decision_label": decision_label(line.decision),
                "montant_accorde": euros(line.montant_accorde),
                "motif": line.motif,
                "decided_at": iso(line.decided_at),
                "paiements": [
                    {"id": p.id, "kind": p.kind, "date": iso(p.paid_on), "montant": euros(p.montant)}
                    for p in line.payments
                ]
                if payments(line)
                else [],
                "montant_paye": euros(sum((p.montant for p in line.payments), Decimal("0.00")))
                if payments(line)
                else None,
            }
            for line in dossier.cofinancements
        ],
        "transitions": transitions,
        "avis": dossier.avis,
        "avis_label": avis_label(dossier.avis),
        "complements": (
            {
                "message": dossier.complements_message,
                "due_date": iso(dossier.complements_due),
                "pieces": dossier.complements_pieces or [],  # the documents to attach: kind, label
            }
            if dossier.complements_due
            else None
        ),
        "extension": (
            {"until": iso(dossier.extension_until), "reason": dossier.extension_reason}
            if dossier.extension_until
            else None
        ),
        "bilan_due": iso(dossier.bilan_due),
        "reconducted_from": dossier.reconducted_from_id,
        "cpo_id": dossier.cpo_id,
        "dates": {
            "created_at": iso(dossier.created_at),
            "updated_at": iso(dossier.updated_at),
            "deposited_at": iso(dossier.deposited_at),
            "instruction_started_at": iso(dossier.instruction_started_at),
            "instruit_at": iso(dossier.instruit_at),
            "avis_at": iso(dossier.avis_at),
            "decided_at": iso(dossier.decided_at),
            "conventionne_at": iso(dossier.conventionne_at),
            "bilan_deposited_at": iso(dossier.bilan_deposited_at),
            "closed_at": iso(dossier.closed_at),
        },
    }


def event_out(event: DossierEvent) -> dict[str, Any]:
    return {
        "transition": event.transition,
        "from": event.from_state,
        "to": event.to_state,
        "by": event.email,
        "role": event.role,
        "at": iso(event.at),
        "comment": event.comment,
        "data": event.data or {},
    }


def lean_date(value: date | None) -> str | None:
    return iso(value)


# --- the published shapes (OpenAPI): what financers' information systems can rely on -------------

EurosStr = Annotated[
    str,
    Field(pattern=r"^-?\d+\.\d{2}$", examples=["1234.50"], description="Euros, deux décimales, en chaîne."),
]
Instant = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
Day = Annotated[str, Field(json_schema_extra={"format": "date"})]


class OrganisationRef(BaseModel):
    id: int
    name: str


class FormRef(BaseModel):
    code: str
    version: int


class PaiementOut(BaseModel):
    id: int
    kind: str = Field(description="avance ou solde")
    date: Day | None
    montant: EurosStr | None


class CofinancementOut(BaseModel):
    financeur: str = Field(description="Code du financeur")
    financeur_name: str
    state: str = Field(description="sollicite, propose, accorde, refuse, ajourne")
    montant_demande: EurosStr | None
    montant_propose: EurosStr | None
    decision: str | None = Field(description="accorde, refuse, ajourne, ou null tant qu'il n'a pas décidé")
    decision_label: str | None = Field(None, description="La décision en français (Accordé…)")
    montant_accorde: EurosStr | None
    motif: str | None
    decided_at: Instant | None
    paiements: list[PaiementOut] = Field(
        description="Les versements de la ligne ; vide pour l'agent d'un autre financeur (il ne voit que les siens)"
    )
    montant_paye: EurosStr | None


class RequestedPiece(BaseModel):
    kind: str = Field(description="Le type à donner au fichier joint (`kind` du téléversement).")
    label: str


class ComplementsOut(BaseModel):
    message: str | None
    due_date: Day | None
    pieces: list[RequestedPiece] = Field(default_factory=list, description="Les documents demandés.")


class ExtensionOut(BaseModel):
    until: Day | None
    reason: str | None


class DossierDates(BaseModel):
    created_at: Instant | None
    updated_at: Instant | None
    deposited_at: Instant | None
    instruction_started_at: Instant | None
    instruit_at: Instant | None
    avis_at: Instant | None
    decided_at: Instant | None
    conventionne_at: Instant | None
    bilan_deposited_at: Instant | None
    closed_at: Instant | None


class DossierOut(BaseModel):
    """A dossier as the API answers it; `version` goes back in `If-Match`."""

    id: int
    number: str
    campaign_id: int
    organisation: OrganisationRef
    title: str | None
    state: str
    state_label: str
    version: int
    form: FormRef
    answers: dict[str, Any] = Field(
        description="Les réponses au formulaire de l'appel (voir /campaigns/{id}/form)."
    )
    cofinancements: list[CofinancementOut]
    transitions: list[str] = Field(description="Les transitions que l'appelant peut déclencher maintenant.")
    avis: str | None
    avis_label: str | None = Field(None, description="L'avis du comité technique en français")
    complements: ComplementsOut | None
    extension: ExtensionOut | None
    bilan_due: Day | None
    reconducted_from: int | None
    cpo_id: int | None = Field(None, description="La CPO dont c'est le dossier annuel, sinon null.")
    dates: DossierDates


class DossierPage(BaseModel):
    items: list[DossierOut]
    total: int


class HistoryItem(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    transition: str
    from_: str | None = Field(alias="from")
    to: str
    by: str | None = Field(description="Adresse de la personne ; null pour une étape automatique.")
    role: str
    at: Instant | None
    comment: str | None
    data: dict[str, Any]


class HistoryPage(BaseModel):
    items: list[HistoryItem]
    total: int
