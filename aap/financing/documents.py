"""What each financer sends once a dossier is conventionné: a convention or a notification letter.

For each line accorded, `conventionner` renders a Jinja2 template (French, with the legal mentions)
to PDF (fpdf2) and stores it by content hash under ``data_dir`` as an `Attachment` of the dossier and
the financer. The choice between the two follows ``workflows.cofinancement.document_kind``: a
convention once what this financer accorded this organisation for the year (every campaign of that
year, this line included) reaches 23 000 €, or under a CPO; a notification letter otherwise.
"""

import hashlib
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from fpdf import FPDF
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aap.dossiers.effects import EffectsTable, TransitionContext
from aap.dossiers.repository import get_dossier
from aap.errors import NotFound
from aap.models import Attachment, Campaign, Cofinancement, Dossier, Financeur, Organisation, User
from aap.settings import get_settings
from workflows.cofinancement import document_kind, format_euros
from workflows.reasons import fr_date

DOCUMENT_KINDS = ("convention", "notification")
TITLES = {
    "convention": "Convention d'attribution de subvention",
    "notification": "Notification de subvention",
}
AVIS_FR = {
    "favorable": "favorable",
    "reserve": "réservé",
    "defavorable": "défavorable",
    "ajourne": "d'ajournement",
}

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def under_cpo(session: Session, organisation: Organisation, financeur: Financeur, year: int) -> bool:
    """Whether a convention pluriannuelle d'objectifs binds them this year. Hook: no CPO model yet."""
    return False


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


def store(data_dir: Path, content: bytes) -> str:
    """Writes `content` once under its sha256; returns the hash."""
    digest = hashlib.sha256(content).hexdigest()
    path = stored_path(data_dir, digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(content)
        tmp.replace(path)
    return digest


def stored_path(data_dir: Path, digest: str) -> Path:
    return Path(data_dir) / "files" / digest[:2] / digest


def _budget_total(dossier: Dossier) -> Decimal | None:
    from aap.financing.programmation import budget_total

    return budget_total(dossier)


def context(
    session: Session, dossier: Dossier, line: Cofinancement, kind: str, total: Decimal, now: datetime
) -> dict[str, Any]:
    org, campaign = dossier.organisation, dossier.campaign
    action = dossier.answers.get("action", {}) if isinstance(dossier.answers, dict) else {}
    start, end = action.get("date_debut"), action.get("date_fin")
    representant = " ".join(p for p in (org.representative_first_name, org.representative_name) if p)
    if representant and org.representative_role:
        representant += f", {org.representative_role.lower()}"
    adresse = ", ".join(
        p for p in (org.address_line, " ".join(x for x in (org.postal_code, org.city) if x)) if p
    )
    budget = _budget_total(dossier)
    bilan = campaign.date_of("bilan_limite")
    return {
        "kind": kind,
        "dossier": dossier,
        "organisation": org,
        "campaign": campaign,
        "territory": campaign.territory,
        "financeur": line.financeur,
        "montant": format_euros(line.montant_accorde or Decimal(0)),
        "total_annee": format_euros(total),
        "budget_total": format_euros(budget) if budget else None,
        "representant": representant or None,
        "adresse": adresse or None,
        "periode": (f"{fr_date(_date(start))} au {fr_date(_date(end))}" if start and end else None),
        "depose_le": fr_date(dossier.deposited_at.date()) if dossier.deposited_at else None,
        "avis": AVIS_FR.get(dossier.avis or ""),
        "avis_le": fr_date(dossier.avis_at.date()) if dossier.avis_at else None,
        "decide_le": fr_date((line.decided_at or now).date()),
        "date_document": fr_date(now.date()),
        "bilan_limite": fr_date(bilan) if bilan else None,
        "cpo": kind == "convention" and total < Decimal(23000),
    }


def _date(value: Any) -> Any:
    from datetime import date

    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return value


def render_html(kind: str, ctx: dict[str, Any]) -> str:
    return _env.get_template(f"{kind}.html.j2").render(**ctx)


_LATIN1 = str.maketrans(
    {
        "€": "euros",
        "\u00a0": " ",
        "\u202f": " ",
        "\u2019": "'",
        "\u2013": "-",
        "\u2014": "-",
        "œ": "oe",
        "Œ": "OE",
        "\u2026": "...",
    }
)


def render_pdf(html: str, title: str, now: datetime) -> bytes:
    """The document as PDF in a core font (Helvetica, Latin-1: amounts read « 1 234,00 euros »).

    Embedding a TrueType font costs about two seconds a document with fpdf2 and depends on the
    machine's fonts; the core font is instant and the same everywhere.
    """
    pdf = FPDF(format="A4")
    pdf.set_creation_date(now)
    pdf.set_title(title.translate(_LATIN1))
    pdf.set_author("aap - guichet unique du contrat de ville")
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    pdf.set_font("helvetica", size=10)
    pdf.write_html(
        html.translate(_LATIN1).encode("latin-1", "replace").decode("latin-1"), font_family="helvetica"
    )
    return bytes(pdf.output())


def generate_for(
    session: Session, dossier: Dossier, now: datetime, data_dir: Path, by: User | None = None
) -> list[Attachment]:
    """The documents of a dossier just conventionné, one per financer that accorded money."""
    made = []
    for line in dossier.cofinancements:
        if line.decision != "accorde" or not line.montant_accorde:
            continue
        total = accorded_in_year(session, dossier.organisation_id, line.financeur_id, dossier.campaign.year)
        cpo = under_cpo(session, dossier.organisation, line.financeur, dossier.campaign.year)
        kind = document_kind(total, cpo)
        html = render_html(kind, context(session, dossier, line, kind, total, now))
        content = render_pdf(html, f"{TITLES[kind]} – {dossier.number} – {line.financeur.name}", now)
        digest = store(data_dir, content)
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
            uploaded_by_id=by.id if by else None,
            uploaded_at=now,
        )
        session.add(doc)
        made.append(doc)
    session.flush()
    return made


def _visible_documents(user: User, dossier: Dossier):  # type: ignore[no-untyped-def]
    query = select(Attachment).where(
        Attachment.dossier_id == dossier.id,
        Attachment.kind.in_(DOCUMENT_KINDS),
        Attachment.replaced_at.is_(None),
    )
    if user.role == "financeur":  # a financer sees what it sends, not the other financers' documents
        query = query.where(Attachment.financeur_id == user.financeur_id)
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


def _documents_on_conventionner(ctx: TransitionContext) -> None:
    """Each financer that accorded money gets its convention or notification letter."""
    generate_for(ctx.session, ctx.dossier, ctx.now, ctx.data_dir or get_settings().data_dir, by=ctx.user)


def register(table: EffectsTable) -> None:
    table.on("conventionner", _documents_on_conventionner, name="financing.documents")
