"""The demo organisations' pièces justificatives: small real PDFs, stored like uploaded files.

Stored once a year before the previous call (so last year's dossiers were deposited with them);
the accounts and the activity report are renewed before the open call, which shows how a newer
pièce replaces the older one while last year's dossiers keep those they were deposited with.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path

from sqlalchemy.orm import Session

from aap import pdf
from aap.attachments.service import organisation_kinds, store_organisation_piece
from aap.models import Organisation, User

RENEWED_EACH_YEAR = ("comptes_approuves", "rapport_activite")
TEMPLATES = Path(__file__).parent / "templates"


def piece_pdf(title: str, organisation: str, year: int) -> bytes:
    """A one-page PDF standing for a real pièce (fixed dates, so the same pièce has the same hash)."""
    context = {
        "title": f"{title} - {organisation}",
        "piece": title,
        "organisation": organisation,
        "year": year,
    }
    return pdf.render(TEMPLATES, "piece.html.j2", context, now=datetime(year, 1, 1, tzinfo=UTC))


def store_demo_pieces(
    session: Session,
    organisations: list[tuple[Organisation, User]],
    day: date,
    data_dir: Path,
    kinds: tuple[str, ...] | None = None,
) -> int:
    """Stores the required pièces (or only ``kinds``) of each organisation, dated ``day``; commits."""
    wanted = {k: f for k, f in organisation_kinds().items() if f.required and (kinds is None or k in kinds)}
    at = datetime.combine(day, time(9, 0), tzinfo=UTC)
    count = 0
    for organisation, porteur in organisations:
        for kind, f in wanted.items():
            content = piece_pdf(f.label, organisation.name, day.year)
            store_organisation_piece(
                session, organisation, kind, f"{kind}-{day.year}.pdf", content, data_dir, at, user=porteur
            )
            count += 1
    session.commit()
    return count
