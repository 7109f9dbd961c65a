"""Cofinancement over HTTP: proposals, decisions (one or in bulk), enveloppes, payments, the programme
table, the dashboards' totals, and the conventions and notifications of each dossier."""

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from aap.clock import now
from aap.deps import DB, Admin, AppSettings, Caller, FinanceurAgent, Instructeur
from aap.dossiers.endpoints import dossier_answer
from aap.dossiers.schemas import DossierOut
from aap.errors import Invalid
from aap.financing import ajustement, documents, programmation, service, totaux
from aap.financing.schemas import BudgetAjusteBody, BudgetAjusteOut, DocumentPage, ProgrammeOut
from aap.financing.totaux_schemas import TotauxOut
from aap.models import Financeur, User
from aap.routes import API_PREFIX
from aap.schemas import FILE, Euros

router = APIRouter(prefix=API_PREFIX, tags=["cofinancement"])

EUROS_NOTE = (
    "Montants : chaînes décimales à deux décimales (« 1234.50 ») ; les requêtes acceptent aussi "
    "un nombre JSON ; jamais de flottant côté serveur (Decimal, stocké en centimes)."
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PropositionBody(Strict):
    montant: Euros


class DecisionBody(Strict):
    decision: Literal["accorde", "refuse", "ajourne"]
    montant: Euros | None = None
    motif: str | None = None


class EnveloppeBody(Strict):
    enveloppe: Euros
    comment: str | None = None


class EnveloppeOut(BaseModel):
    financeur: str
    financeur_name: str
    enveloppe: Euros
    propose: Euros
    accorde: Euros
    restant: Euros


class EnveloppesOut(BaseModel):
    items: list[EnveloppeOut]
    total: int


class EnveloppeChangeOut(BaseModel):
    at: str
    old: Euros | None = Field(description="Montant précédent (vide à la création).")
    new: Euros
    by: str | None = Field(description="Courriel de l'auteur (vide pour un chargement de fichier).")
    comment: str | None


class EnveloppeHistoryOut(BaseModel):
    items: list[EnveloppeChangeOut]
    total: int


class BulkItem(Strict):
    dossier_id: int
    decision: Literal["accorde", "refuse", "ajourne"]
    montant: Euros | None = None
    motif: str | None = None


class BulkBody(Strict):
    items: list[BulkItem] = Field(description="Les décisions du comité, au plus 1000 ; toutes ou aucune.")


class BulkResultItem(BaseModel):
    dossier_id: int
    number: str
    state: str
    financeur: str
    decision: str
    montant_accorde: Euros | None


class BulkEnveloppe(BaseModel):
    financeur: str
    enveloppe: Euros
    accorde: Euros
    restant: Euros


class BulkResult(BaseModel):
    items: list[BulkResultItem]
    total: int
    enveloppe: BulkEnveloppe


class PaiementBody(Strict):
    kind: Literal["avance", "solde"]
    date: dt.date
    montant: Euros


class PaiementOut(BaseModel):
    id: int
    kind: str
    date: str
    montant: Euros
    delai_depuis_decision_jours: int | None


class PaiementsOut(BaseModel):
    financeur: str
    montant_accorde: Euros | None
    paye: Euros
    reste_a_payer: Euros
    items: list[PaiementOut]
    total: int


# --- proposals and decisions ------------------------------------------------------------------------


@router.post(
    "/dossiers/{dossier_id}/cofinancements/{financeur}/proposition",
    response_model=DossierOut,
    summary="Proposer un montant (instructeur)",
    description=EUROS_NOTE,
)
def propose(dossier_id: int, financeur: str, body: PropositionBody, db: DB, user: Instructeur) -> Response:
    dossier = service.propose(db, user, dossier_id, financeur, body.montant, now())
    return dossier_answer(dossier, user)


@router.post(
    "/dossiers/{dossier_id}/cofinancements/{financeur}/decision",
    response_model=DossierOut,
    summary="Enregistrer la décision du financeur (ses agents seulement)",
    description="Accordé (avec un montant au plus égal à la demande et à ce qui reste de "
    "l'enveloppe), refusé ou ajourné (avec un motif). " + EUROS_NOTE,
)
def decide(dossier_id: int, financeur: str, body: DecisionBody, db: DB, user: FinanceurAgent) -> Response:
    dossier = service.decide(db, user, dossier_id, financeur, body.decision, body.montant, body.motif, now())
    return dossier_answer(dossier, user)


@router.post(
    "/campaigns/{campaign_id}/decisions",
    summary="Enregistrer les décisions du comité en une fois (agents d'un financeur)",
    description=(
        "Toutes les décisions du financeur de l'appelant, **toutes ou aucune** : au moindre refus, rien "
        "n'est enregistré et la réponse 422 liste chaque erreur avec son `index` dans la liste. "
        "Avec l'en-tête `Idempotency-Key`, une requête rejouée à l'identique renvoie la réponse déjà "
        "donnée (en-tête `Idempotent-Replayed: true`) sans décider deux fois ; la même clé avec "
        "d'autres décisions est refusée (422, code `idempotency_key_reused`). " + EUROS_NOTE
    ),
    response_model=BulkResult,
)
def decide_bulk(
    campaign_id: int,
    body: BulkBody,
    db: DB,
    user: FinanceurAgent,
    idempotency_key: Annotated[
        str | None,
        Header(
            max_length=200,
            description="Clé unique de la requête (par exemple un UUID), choisie par le client.",
        ),
    ] = None,
) -> JSONResponse:
    items = [service.BulkDecision(i.dossier_id, i.decision, i.montant, i.motif) for i in body.items]
    if idempotency_key is not None and not idempotency_key.strip():
        raise Invalid("En-tête Idempotency-Key vide.", code="idempotency_key_invalide")
    stored = service.decide_bulk(db, user, campaign_id, items, now(), idempotency_key)
    headers = {"Idempotent-Replayed": "true"} if stored.replayed else {}
    return JSONResponse(stored.body, status_code=stored.status_code, headers=headers)


# --- enveloppes ----------------------------------------------------------------------------------


@router.get(
    "/campaigns/{campaign_id}/enveloppes",
    summary="Les enveloppes par financeur",
    description="Par financeur : enveloppe, proposé, accordé et restant (= enveloppe − accordé). "
    + EUROS_NOTE,
)
def enveloppes(campaign_id: int, db: DB, user: Caller) -> EnveloppesOut:
    items = [EnveloppeOut(**row) for row in service.enveloppes(db, user, campaign_id)]
    return EnveloppesOut(items=items, total=len(items))


@router.put(
    "/campaigns/{campaign_id}/enveloppes/{financeur}",
    summary="Fixer une enveloppe (admin)",
    description="Jamais sous ce qui est déjà accordé (422). Chaque changement est historisé.",
)
def set_enveloppe(
    campaign_id: int, financeur: str, body: EnveloppeBody, db: DB, user: Admin
) -> EnveloppesOut:
    service.set_enveloppe(db, user, campaign_id, financeur, body.enveloppe, body.comment)
    return enveloppes(campaign_id, db, user)


@router.get(
    "/campaigns/{campaign_id}/enveloppes/{financeur}/history",
    summary="L'historique d'une enveloppe (partenaires)",
)
def enveloppe_history(campaign_id: int, financeur: str, db: DB, user: Caller) -> EnveloppeHistoryOut:
    items = [
        EnveloppeChangeOut(
            at=c["at"].isoformat(), old=c["old"], new=c["new"], by=c["by"], comment=c["comment"]
        )
        for c in service.enveloppe_history(db, user, campaign_id, financeur)
    ]
    return EnveloppeHistoryOut(items=items, total=len(items))


# --- payments --------------------------------------------------------------------------------------


def _paiements_out(line: Any, items: list[Any]) -> PaiementsOut:
    paye = sum((p.montant for p in items), service.ZERO)
    accorde = line.montant_accorde if line.decision == "accorde" else None
    return PaiementsOut(
        financeur=line.financeur.code,
        montant_accorde=accorde,
        paye=paye,
        reste_a_payer=(accorde or service.ZERO) - paye,
        items=[PaiementOut(**service.payment_out(p, line)) for p in items],
        total=len(items),
    )


@router.post(
    "/dossiers/{dossier_id}/cofinancements/{financeur}/paiements",
    status_code=201,
    summary="Enregistrer un versement : avance ou solde (agents du financeur, instruction, admin)",
    description="Jamais plus que le montant accordé au total ; rien après le solde. " + EUROS_NOTE,
)
def record_payment(dossier_id: int, financeur: str, body: PaiementBody, db: DB, user: Caller) -> PaiementsOut:
    service.record_payment(db, user, dossier_id, financeur, body.kind, body.date, body.montant, now())
    line, items = service.payments(db, user, dossier_id, financeur)
    return _paiements_out(line, items)


@router.get(
    "/dossiers/{dossier_id}/cofinancements/{financeur}/paiements", summary="Les versements d'une ligne"
)
def list_payments(dossier_id: int, financeur: str, db: DB, user: Caller) -> PaiementsOut:
    line, items = service.payments(db, user, dossier_id, financeur)
    return _paiements_out(line, items)


# --- the programme table and the totals ----------------------------------------------------------


def _streamed(
    request: Request,
    user_id: int,
    campaign_id: int,
    states: tuple[str, ...],
    commune: str | None,
    write: Callable[[Session, User, programmation.Table], Iterator[bytes]],
) -> Iterator[bytes]:
    """Its own session: the request's one is closed once the endpoint returns."""
    session = request.app.state.sessionmaker()
    try:
        user = session.get(User, user_id)
        table = programmation.open_table(session, user, campaign_id, states, commune)
        yield from write(session, user, table)
    finally:
        session.rollback()
        session.close()


@router.get(
    "/campaigns/{campaign_id}/programmation",
    summary="Le tableau de programmation (JSON, CSV, XLSX)",
    description=(
        "Une ligne par dossier : numéro, porteur, action, QPV, commune, orientation, budget total, avis du "
        "comité technique, état, puis pour chaque financeur demandé / proposé / accordé ; un sous-total par "
        "commune (un dossier sur deux communes compte dans chacune) puis le total général. `commune` "
        "(code INSEE) limite le tableau aux dossiers de cette commune. "
        "Par défaut les dossiers instruits et au-delà encore au programme (instruit, avise, programme, "
        "conventionne, bilan_depose, cloture) ; `state` en choisit d'autres (séparés par des virgules, "
        "ou `tous`). CSV : UTF-8 avec BOM, séparateur `;`, virgule décimale (Excel en français), "
        "produit au fil de l'eau. XLSX : montants en nombres au format euro, en-tête figé. "
        "JSON : montants en chaînes « 1234.50 »."
    ),
    response_model=None,
    responses={
        200: {
            "model": ProgrammeOut,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                    "schema": {"type": "string", "format": "binary"}
                },
            },
        }
    },
)
def programmation_table(
    campaign_id: int,
    request: Request,
    db: DB,
    user: Caller,
    format: Annotated[
        Literal["json", "csv", "xlsx"], Query(description="json (défaut), csv ou xlsx")
    ] = "json",
    state: Annotated[str | None, Query(description="État(s), séparés par des virgules, ou « tous »")] = None,
    commune: Annotated[str | None, Query(description="Code INSEE : les dossiers de cette commune")] = None,
) -> Any:
    states = programmation.parse_states(state)
    table = programmation.open_table(db, user, campaign_id, states, commune)  # 403/404/422 before streaming
    stem = f"programmation-{table.campaign.code}"
    if format == "csv":
        user_id = user.id
        db.rollback()  # the stream reads in its own session: hold no lock meanwhile (SQLite)
        return StreamingResponse(
            _streamed(request, user_id, campaign_id, states, commune, programmation.csv_stream),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{stem}.csv"'},
        )
    if format == "xlsx":
        file = programmation.xlsx_file(db, user, table)
        return StreamingResponse(
            programmation.stream_chunks(file),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{stem}.xlsx"'},
        )
    user_id = user.id
    db.rollback()  # the stream reads in its own session: hold no lock meanwhile (SQLite)
    return StreamingResponse(
        _streamed(request, user_id, campaign_id, states, commune, programmation.json_stream),
        media_type="application/json",
    )


@router.get(
    "/campaigns/{campaign_id}/totaux",
    summary="Les totaux pour les tableaux de bord",
    description=(
        "Demandé, proposé, accordé et payé par financeur, par orientation et par QPV (un dossier qui vise "
        "plusieurs QPV compte dans chacun), et les délais médians en jours : dépôt → décision, "
        "décision → convention, décision → premier paiement ; le déroulé par orientation de premier "
        "niveau ; pour l'agent d'un financeur, les mêmes chiffres sur ses seules lignes (`propre`) ; "
        "`cpo` : par financeur, la part accordée sous CPO (montants et actions) face à l'objectif de 50 %. "
        + EUROS_NOTE
    ),
    response_model=TotauxOut,
)
def campaign_totaux(campaign_id: int, db: DB, user: Caller) -> dict[str, Any]:
    return totaux.totaux(db, user, campaign_id)  # `cpo` included: one computation for API and dashboard


# --- conventions and notifications --------------------------------------------------------------


@router.get(
    "/dossiers/{dossier_id}/documents",
    summary="Conventions et notifications du dossier",
    description="Le porteur et l'équipe voient tous les documents ; un financeur, les siens.",
    response_model=DocumentPage,
)
def list_documents(dossier_id: int, db: DB, user: Caller) -> dict[str, Any]:
    docs = documents.list_documents(db, user, dossier_id)
    ids = {d.financeur_id for d in docs if d.financeur_id}
    financeurs = {f.id: f for f in db.scalars(select(Financeur).where(Financeur.id.in_(ids)))} if ids else {}
    items = [documents.document_out(d, financeurs) for d in docs]
    return {"items": items, "total": len(items)}


@router.get(
    "/dossiers/{dossier_id}/documents/{doc_id}",
    summary="Télécharger un document (PDF)",
    response_class=FileResponse,
    responses={200: FILE},
)
def download_document(
    dossier_id: int, doc_id: int, db: DB, user: Caller, settings: AppSettings
) -> FileResponse:
    doc, path = documents.get_document(db, user, dossier_id, doc_id, settings.data_dir)
    return FileResponse(path, media_type=doc.content_type, filename=doc.filename)


# --- the budget adjusted after a partial grant ----------------------------------------------------


@router.get(
    "/dossiers/{dossier_id}/budget-ajuste",
    summary="Le budget ajusté après une aide partielle",
    response_model=BudgetAjusteOut,
)
def get_adjusted_budget(dossier_id: int, db: DB, user: Caller) -> dict[str, Any]:
    from aap.dossiers.service import get_dossier

    return ajustement.state_of(get_dossier(db, user, dossier_id))


@router.put(
    "/dossiers/{dossier_id}/budget-ajuste",
    summary="Déposer le budget ajusté (porteur, dossier programmé avec une aide inférieure à la demande)",
    response_model=BudgetAjusteOut,
    description="La section « budget » du formulaire, complète et équilibrée, les subventions égales aux "
    "montants accordés ; `If-Match` : la version du dossier (412 si périmée). " + EUROS_NOTE,
)
def put_adjusted_budget(
    dossier_id: int,
    body: BudgetAjusteBody,
    db: DB,
    user: Caller,
    if_match: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    from aap.dossiers.endpoints import parse_if_match

    dossier = ajustement.file_adjusted_budget(
        db, user, dossier_id, body.budget, parse_if_match(if_match, required=True), now()
    )
    return ajustement.state_of(dossier)
