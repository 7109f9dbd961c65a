"""The CPO's convention as a tagged PDF (PDF/UA-1, `aap.pdf`): the parties, the action, the
objectives, and per year and financer the planned amounts (« sous réserve du vote des crédits »), with
the signatures so far. Dates are the territory's calendar days.

Rendered from `templates/cpo.html.j2` in the bundled Unicode font (DejaVu Sans, `aap/fonts/`), so
every French character and the euro sign print as typed, on any machine.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aap import pdf
from aap.models import Cpo
from workflows.cofinancement import format_euros
from workflows.cpo import STATE_LABELS
from workflows.reasons import fr_date

TEMPLATES = Path(__file__).parent / "templates"


def _day(moment: datetime, fuseau: str) -> date:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(ZoneInfo(fuseau)).date()


def context(cpo: Cpo, now: datetime) -> dict[str, Any]:
    fuseau = cpo.dossier_origine.campaign.territory.fuseau or "Europe/Paris"
    years = [a.annee for a in cpo.annees]
    totals = [Decimal("0.00")] * len(years)
    montants = []
    for s in cpo.signataires:
        amounts = []
        for i, annee in enumerate(cpo.annees):
            amount = next(
                (m.prevu for m in annee.montants if m.financeur_id == s.financeur_id), Decimal("0.00")
            )
            totals[i] += amount
            amounts.append(format_euros(amount))
        montants.append({"code": s.financeur.code, "amounts": amounts})
    return {
        "title": f"Convention pluriannuelle d'objectifs n° {cpo.id}",
        "cpo": cpo,
        "years": years,
        "etat": STATE_LABELS.get(cpo.state, cpo.state),
        "organisation": cpo.organisation,
        "signataires": [
            {
                "name": s.financeur.name,
                "code": s.financeur.code,
                "signed_le": fr_date(_day(s.signed_at, fuseau)) if s.signed_at else None,
            }
            for s in cpo.signataires
        ],
        "montants": montants,
        "totals": [format_euros(t) for t in totals],
        "edite_le": fr_date(_day(now, fuseau)),
    }


def render(cpo: Cpo, now: datetime) -> bytes:
    ctx = context(cpo, now)
    return pdf.render(TEMPLATES, "cpo.html.j2", ctx, title=ctx["title"], now=now)
