"""The payment schedule of a cofinancement line as people see it: what is planned (avance, solde),
what was paid, what is left, and whether a payment can be recorded now. Pages of the porteur, the
instructeur and the financer read it from here; the figures come from ``workflows.cofinancement``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from aap.financing.documents import grant_kind
from aap.models import Cofinancement, Dossier
from workflows.cofinancement import payment_schedule
from workflows.labels import PAYMENT_LABELS

PAYABLE_STATES = ("conventionne", "bilan_depose", "cloture")
# the payments the staff records on a line (their words: `workflows/labels.py`)
RECORDABLE_PAYMENTS = {kind: PAYMENT_LABELS[kind] for kind in ("avance", "solde")}


def line_schedule(session: Session, dossier: Dossier, line: Cofinancement) -> dict[str, Any] | None:
    """None for a line that was not accorded (nothing to pay)."""
    if line.decision != "accorde" or not line.montant_accorde:
        return None
    kind = grant_kind(session, dossier, line)
    paid = list(line.payments)
    total_paid = sum((p.montant for p in paid), Decimal("0.00"))
    return {
        "line": line,
        "financeur": line.financeur,
        "accorde": line.montant_accorde,
        "prevu": payment_schedule(line.montant_accorde, kind),
        "paiements": paid,
        "paye": total_paid,
        "reste": line.montant_accorde - total_paid,
        "solde_paye": any(p.kind == "solde" for p in paid),
        "payable": dossier.state in PAYABLE_STATES
        and not any(p.kind == "solde" for p in paid)
        and total_paid < line.montant_accorde,
    }


def schedules(session: Session, dossier: Dossier, financeur_id: int | None = None) -> list[dict[str, Any]]:
    """Every accorded line's schedule (a financer: its own line only)."""
    out = []
    for line in dossier.cofinancements:
        if financeur_id is not None and line.financeur_id != financeur_id:
            continue
        s = line_schedule(session, dossier, line)
        if s is not None:
            out.append(s)
    return out
