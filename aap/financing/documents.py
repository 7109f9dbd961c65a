"""What each financer sends: a convention or a notification letter once a dossier is conventionné, a
refusal letter (with the voies de recours) when it refuses.

They are generated after the transition has committed (an after-commit effect of the transitions
table), never while the dossier's row is locked; `repair_missing`, run by the cron pass, generates any
document a dead process left out. Dates are printed in the territory's time zone, in a Unicode font
(DejaVu Sans, bundled in `aap/fonts`).

For each line accorded, `conventionner` renders a Jinja2 template (French, with the legal mentions)
to a tagged PDF (PDF/UA-1, `aap.pdf`) and stores it by content hash under ``data_dir`` as an `Attachment` of the dossier and
the financer. The choice between the two follows ``workflows.cofinancement.document_kind``: a
convention once what this financer accorded this organisation for the year (every campaign of that
year, this line included) reaches 23 000 €, or under a CPO; a notification letter otherwise.
"""

import logging
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aap import access_log, pdf
from aap.cpo import repository as cpo_repository
from aap.dossiers.effects import AfterCommitContext, EffectsTable
from aap.dossiers.repository import get_dossier
from aap.errors import NotFound
from aap.models import Attachment, Campaign, Cofinancement, Dossier, Financeur, Organisation, User
from aap.settings import get_settings
from workflows.cofinancement import document_kind, format_euros, payment_schedule
from workflows.labels import AVIS_IN_A_SENTENCE, DOCUMENT_TITLES
from workflows.reasons import fr_date

GRANT_KINDS = ("convention", "notification")
DOCUMENT_KINDS = (*GRANT_KINDS, "refus")
TITLES = DOCUMENT_TITLES
CONVENTIONED_STATES = ("conventionne", "bilan_depose", "cloture")
log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"


def under_cpo(session: Session, organisation: Organisation, financeur: Financeur, year: int) -> bool:
    """Whether a signed convention pluriannuelle d'objectifs binds them this year."""
    return cpo_repository.under_cpo(session, organisation.id, financeur.id, year)


def accorded_in_year(session: Session, organisation_id: int, financeur_id: int, year: int) -> Decimal:
    """What this financer accorded this organisation over every campaign of `year` (abandoned aside)."""
    total = session.scalar(
        select(func.sum(Cofinancement.montant_accorde))
        .join(Dossier, Dossier.id == Cofinancement.dossier_id)
        .join(Campaign, Campaign.id == Dossier.campaign_id)
        .where(
            Dossier.organisation_id == organisation_id,
            Cofinancement.financeur_id == financeur_id,
            Cofinancement.decision == "accorde",
            Campaign.year == year,
            Dossier.state != "abandonne",
        )
    )
    return total if total is not None else Decimal("0.00")


def store(session: Session, data_dir: Path, content: bytes) -> str:
    """Stores `content` once under its sha256 when `session` commits (`aap.attachments.files`)."""
    from aap.attachments import files

    return files.store_bytes(session, data_dir, content)[0]


def stored_path(data_dir: Path, digest: str) -> Path:
    return Path(data_dir) / "files" / digest[:2] / digest


def _budget_total(dossier: Dossier) -> Decimal | None:
    from aap.financing.programmation import budget_total

    return budget_total(dossier)


def local_date(moment: datetime | None, fuseau: str) -> date | None:
    """The calendar day of `moment` where the territory is (stored times are UTC)."""
    if moment is None:
        return None
    from datetime import UTC

    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(ZoneInfo(fuseau)).date()


def _representant(dossier: Dossier, org: Organisation) -> str | None:
    """The legal representative the dossier names (its answers), else the organisation's record."""
    answers = dossier.answers if isinstance(dossier.answers, dict) else {}
    block = (
        (answers.get("organisation") or {}).get("representant")
        if isinstance(answers.get("organisation"), dict)
        else None
    )
    if isinstance(block, dict) and (block.get("nom") or block.get("prenom")):
        first, name, role = block.get("prenom"), block.get("nom"), block.get("qualite")
    else:
        first, name, role = org.representative_first_name, org.representative_name, org.representative_role
    out = " ".join(str(p) for p in (first, name) if p)
    if out and role:
        out += f", {str(role).lower()}"
    return out or None


def _lines(value: Any) -> list[dict[str, Any]]:
    """Budget lines as the documents show them (`_v`: the amount, for the totals)."""
    rows: list[dict[str, Any]] = []
    for item in value if isinstance(value, list) else []:
        if isinstance(item, dict) and item.get("montant") not in (None, ""):
            amount = Decimal(str(item["montant"]))
            rows.append(
                {
                    "compte": str(item.get("compte") or ""),
                    "libelle": str(item.get("libelle") or ""),
                    "montant": format_euros(amount),
                    "_v": amount,
                }
            )
    return rows


def budget_annex(dossier: Dossier, budget: Any = None) -> dict[str, Any] | None:
    """The budget prévisionnel annexed to the document: charges, produits and subsidies with totals.

    `budget` is the adjusted budget when one was filed after a partial grant, else the dossier's."""
    answers = dossier.answers if isinstance(dossier.answers, dict) else {}
    budget = budget if budget is not None else answers.get("budget")
    if not isinstance(budget, dict):
        return None
    charges, produits = _lines(budget.get("charges")), _lines(budget.get("produits"))
    names = {line.financeur.code: line.financeur.name for line in dossier.cofinancements}
    subventions = []
    for code, value in (budget.get("financements") or {}).items():
        if value not in (None, ""):
            amount = Decimal(str(value))
            subventions.append(
                {
                    "compte": "74",
                    "libelle": f"Subvention {names.get(code, code)}",
                    "montant": format_euros(amount),
                    "_v": amount,
                }
            )
    if not charges and not produits and not subventions:
        return None
    total = lambda rows: format_euros(sum((r["_v"] for r in rows), Decimal(0)))  # noqa: E731
    return {
        "charges": charges,
        "produits": produits + subventions,
        "total_charges": total(charges),
        "total_produits": total(produits + subventions),
    }


def context(
    session: Session, dossier: Dossier, line: Cofinancement, kind: str, total: Decimal, now: datetime
) -> dict[str, Any]:
    org, campaign = dossier.organisation, dossier.campaign
    fuseau = campaign.territory.fuseau or "Europe/Paris"
    action = dossier.answers.get("action", {}) if isinstance(dossier.answers, dict) else {}
    start, end = action.get("date_debut"), action.get("date_fin")
    adresse = ", ".join(
        p for p in (org.address_line, " ".join(x for x in (org.postal_code, org.city) if x)) if p
    )
    adjusted = adjusted_budget(dossier)
    budget = (
        sum((Decimal(str(c.get("montant") or 0)) for c in adjusted["charges"]), Decimal(0))
        if adjusted
        else _budget_total(dossier)
    )
    bilan = campaign.date_of("bilan_limite")
    montant = line.montant_accorde or Decimal(0)
    financeur = line.financeur
    return {
        "kind": kind,
        "title": document_title(kind, dossier, financeur),
        "dossier": dossier,
        "organisation": org,
        "campaign": campaign,
        "territory": campaign.territory,
        "financeur": financeur,
        "signataire": (
            {"nom": financeur.signataire_nom, "qualite": financeur.signataire_qualite}
            if financeur.signataire_nom
            else None
        ),
        "montant": format_euros(montant),
        "montant_demande": format_euros(line.montant_demande or Decimal(0)),
        "motif": line.motif,
        "total_annee": format_euros(total),
        "budget_total": format_euros(budget) if budget else None,
        "annexe": budget_annex(dossier, adjusted),
        "budget_ajuste": adjusted is not None,
        "echeancier": [
            {**step, "montant": format_euros(step["montant"])} for step in payment_schedule(montant, kind)
        ],
        "representant": _representant(dossier, org),
        "adresse": adresse or None,
        "periode": (f"{fr_date(_date(start))} au {fr_date(_date(end))}" if start and end else None),
        "depose_le": fr_date(local_date(dossier.deposited_at, fuseau)) if dossier.deposited_at else None,
        "avis": AVIS_IN_A_SENTENCE.get(dossier.avis or ""),
        "avis_le": fr_date(local_date(dossier.avis_at, fuseau)) if dossier.avis_at else None,
        "decide_le": fr_date(local_date(line.decided_at or now, fuseau)),
        "date_document": fr_date(local_date(now, fuseau)),
        "bilan_limite": fr_date(bilan) if bilan else None,
        "cpo": kind == "convention" and total < Decimal(23000),
    }


def adjusted_budget(dossier: Dossier) -> dict[str, Any] | None:
    """The budget the porteur adjusted after a partial grant, if any (see `aap.financing.ajustement`)."""
    answers = dossier.answers if isinstance(dossier.answers, dict) else {}
    value = answers.get("budget_ajuste")
    return value if isinstance(value, dict) and value.get("charges") else None


def _date(value: Any) -> Any:
    from datetime import date

    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return value


def document_title(kind: str, dossier: Dossier, financeur: Financeur) -> str:
    """The title a reader announces and the PDF's metadata carries."""
    return f"{TITLES[kind]} – {dossier.number} – {financeur.name}"


def render_html(kind: str, ctx: dict[str, Any]) -> str:
    return pdf.render_html(TEMPLATES, f"{kind}.html.j2", ctx)


def render_pdf(html: str, title: str, now: datetime) -> bytes:
    """The document as a tagged PDF (PDF/UA-1: headings, paragraphs, tables and lists a screen reader
    walks through; language « fr »; `title` shown by readers) in DejaVu Sans, embedded: any letter
    prints as itself (« œuvre », « € », « Šimić »)."""
    return pdf.html_to_pdf(html, title=title, now=now)


def _store_document(
    session: Session,
    dossier: Dossier,
    line: Cofinancement,
    kind: str,
    now: datetime,
    data_dir: Path,
    by_id: int | None,
) -> Attachment:
    total = accorded_in_year(session, dossier.organisation_id, line.financeur_id, dossier.campaign.year)
    ctx = context(session, dossier, line, kind, total, now)
    content = render_pdf(render_html(kind, ctx), ctx["title"], now)
    digest = store(session, data_dir, content)
    for old in session.scalars(
        select(Attachment).where(
            Attachment.dossier_id == dossier.id,
            Attachment.financeur_id == line.financeur_id,
            Attachment.kind.in_(DOCUMENT_KINDS),
            Attachment.replaced_at.is_(None),
        )
    ):
        old.replaced_at = now
    doc = Attachment(
        organisation_id=dossier.organisation_id,
        dossier_id=dossier.id,
        financeur_id=line.financeur_id,
        kind=kind,
        filename=f"{kind}-{dossier.number}-{line.financeur.code}.pdf",
        content_type="application/pdf",
        size=len(content),
        sha256=digest,
        uploaded_by_id=by_id,
        uploaded_at=now,
    )
    session.add(doc)
    return doc


def grant_kind(session: Session, dossier: Dossier, line: Cofinancement) -> str:
    """Convention or notification for an accorded line (the rule of ``workflows.cofinancement``)."""
    total = accorded_in_year(session, dossier.organisation_id, line.financeur_id, dossier.campaign.year)
    return document_kind(
        total, under_cpo(session, dossier.organisation, line.financeur, dossier.campaign.year)
    )


def generate_for(
    session: Session, dossier: Dossier, now: datetime, data_dir: Path, by: User | None = None
) -> list[Attachment]:
    """The documents of a dossier just conventionné, one per financer that accorded money."""
    made = [
        _store_document(
            session, dossier, line, grant_kind(session, dossier, line), now, data_dir, by.id if by else None
        )
        for line in dossier.cofinancements
        if line.decision == "accorde" and line.montant_accorde
    ]
    session.flush()
    return made


def generate_refusal(
    session: Session,
    dossier: Dossier,
    line: Cofinancement,
    now: datetime,
    data_dir: Path,
    by_id: int | None = None,
) -> Attachment:
    doc = _store_document(session, dossier, line, "refus", now, data_dir, by_id)
    session.flush()
    return doc


def _current_kinds(session: Session, dossier_id: int) -> dict[int, str]:
    return {
        financeur_id: kind
        for financeur_id, kind in session.execute(
            select(Attachment.financeur_id, Attachment.kind).where(
                Attachment.dossier_id == dossier_id,
                Attachment.kind.in_(DOCUMENT_KINDS),
                Attachment.replaced_at.is_(None),
            )
        )
        if financeur_id is not None
    }


def repair_missing(session: Session, now: datetime, data_dir: Path | None = None) -> int:
    """The cron pass's safety net: every document a conventioned or refused line should have and has
    not (a process that died between the commit and the generation). Idempotent; returns how many."""
    data_dir = data_dir or session.info.get("data_dir") or get_settings().data_dir
    has_doc = (
        select(Attachment.id)
        .where(
            Attachment.dossier_id == Cofinancement.dossier_id,
            Attachment.financeur_id == Cofinancement.financeur_id,
            Attachment.kind.in_(DOCUMENT_KINDS),
            Attachment.replaced_at.is_(None),
        )
        .exists()
    )
    missing = (
        session.execute(
            select(Cofinancement.id)
            .join(Dossier, Dossier.id == Cofinancement.dossier_id)
            .where(
                ~has_doc,
                ((Cofinancement.decision == "accorde") & Dossier.state.in_(CONVENTIONED_STATES))
                | (Cofinancement.decision == "refuse"),
            )
            .order_by(Cofinancement.id)
        )
        .scalars()
        .all()
    )
    made = 0
    for line_id in missing:
        line = session.get(Cofinancement, line_id)
        if line is None:
            continue
        dossier = line.dossier
        kind = "refus" if line.decision == "refuse" else grant_kind(session, dossier, line)
        _store_document(session, dossier, line, kind, now, data_dir, None)
        session.commit()
        made += 1
    return made


def _visible_documents(user: User, dossier: Dossier):  # type: ignore[no-untyped-def]
    """A financer sees what it sends, not the other financers' documents (`readable_files`)."""
    from aap.attachments.repository import readable_files

    query = readable_files(user).where(
        Attachment.dossier_id == dossier.id,
        Attachment.kind.in_(DOCUMENT_KINDS),
        Attachment.replaced_at.is_(None),
    )
    return query.order_by(Attachment.id)


def list_documents(session: Session, user: User, dossier_id: int) -> list[Attachment]:
    """The porteur, staff and the financer concerned see them; the dossier's visibility comes first."""
    dossier = get_dossier(session, user, dossier_id)
    return list(session.scalars(_visible_documents(user, dossier)))


def get_document(
    session: Session, user: User, dossier_id: int, doc_id: int, data_dir: Path
) -> tuple[Attachment, Path]:
    dossier = get_dossier(session, user, dossier_id)
    doc = session.scalar(_visible_documents(user, dossier).where(Attachment.id == doc_id))
    path = stored_path(data_dir, doc.sha256) if doc is not None else None
    if doc is None or path is None or not path.exists():
        raise NotFound("Document introuvable.", code="document_introuvable")
    access_log.read(session, "attachments", doc.id)
    return doc, path


def document_out(doc: Attachment, financeurs: dict[int, Financeur]) -> dict[str, Any]:
    f = financeurs.get(doc.financeur_id or 0)
    return {
        "id": doc.id,
        "kind": doc.kind,
        "filename": doc.filename,
        "content_type": doc.content_type,
        "size": doc.size,
        "sha256": doc.sha256,
        "financeur": f.code if f else None,
        "financeur_name": f.name if f else None,
        "created_at": doc.uploaded_at.isoformat(),
    }


def _documents_on_conventionner(ctx: AfterCommitContext) -> None:
    """Each financer that accorded money gets its convention or notification letter."""
    dossier = ctx.session.get(Dossier, ctx.dossier_id)
    if dossier is None or dossier.state not in CONVENTIONED_STATES:
        return
    by = ctx.session.get(User, ctx.user_id) if ctx.user_id else None
    generate_for(ctx.session, dossier, ctx.now, ctx.data_dir or get_settings().data_dir, by=by)


def _refusal_on_decision(ctx: AfterCommitContext) -> None:
    """A financer that refuses sends its decision with the voies de recours."""
    from aap.models import DossierEvent

    event = ctx.session.get(DossierEvent, ctx.event_id)
    data = (event.data if event else None) or {}
    if data.get("decision") != "refuse":
        return
    dossier = ctx.session.get(Dossier, ctx.dossier_id)
    line = (
        next((c for c in dossier.cofinancements if c.financeur.code == data.get("financeur")), None)
        if dossier
        else None
    )
    if dossier is None or line is None or line.decision != "refuse":
        return
    generate_refusal(
        ctx.session, dossier, line, ctx.now, ctx.data_dir or get_settings().data_dir, ctx.user_id
    )


def _repair_pass(session: Session, now: datetime) -> int:
    try:
        return repair_missing(session, now)
    except Exception:  # a document that cannot be made must not stop the reminders
        session.rollback()
        log.exception("documents repair pass failed")
        return 0


def register(table: EffectsTable) -> None:
    table.after_commit("conventionner", _documents_on_conventionner, name="financing.documents")
    table.after_commit("decision_financeur", _refusal_on_decision, name="financing.refusal_letter")


def register_scheduled(passes: Any) -> None:
    """The cron pass regenerates what a dead process left out (see `repair_missing`)."""
    passes.register("documents_manquants", _repair_pass)
