"""Totals for the dashboards: per financer, per orientation, per QPV, and the delays of the service.

Counted: the campaign's dossiers the caller may see, once deposited (drafts, non déposés and
abandoned aside). A dossier that targets several QPV counts in full in each of them (the QPV totals
overlap; the financer totals do not). Delays are medians in days, over the dossiers that went
through both dates: dépôt → décision (the last financer's decision), décision → convention, and per
accorded line, the financer's decision → its first payment.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from statistics import median
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from aap.financing.programmation import iter_dossiers, open_table, orientation_of, qpvs_of
from aap.models import Qpv, User
from workflows.dossier import STATES

ZERO = Decimal("0.00")
COUNTED_STATES = tuple(s for s in STATES if s not in ("brouillon", "non_depose", "abandonne"))


@dataclass
class Sums:
    dossiers: int = 0
    demande: Decimal = ZERO
    propose: Decimal = ZERO
    accorde: Decimal = ZERO
    paye: Decimal = ZERO

    def out(self) -> dict[str, Any]:
        return {
            "dossiers": self.dossiers,
            "demande": f"{self.demande:.2f}",
            "propose": f"{self.propose:.2f}",
            "accorde": f"{self.accorde:.2f}",
            "paye": f"{self.paye:.2f}",
        }


@dataclass
class Delays:
    days: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    def add(self, name: str, start: datetime | None, end: Any) -> None:
        if start is None or end is None:
            return
        end_day = end.date() if isinstance(end, datetime) else end
        self.days[name].append((end_day - start.date()).days)

    def out(self, name: str) -> dict[str, Any]:
        values = self.days.get(name, [])
        return {"median_jours": median(values) if values else None, "dossiers": len(values)}


def place_kinds(session: Session, territory_id: int) -> dict[str, str]:
    """QPV code -> `qpv`, `quartier_veille` or `territoire_enjeux`."""
    return dict(session.execute(select(Qpv.code, Qpv.kind).where(Qpv.territory_id == territory_id)).all())


def totaux(session: Session, user: User, campaign_id: int) -> dict[str, Any]:
    table = open_table(session, user, campaign_id, COUNTED_STATES)
    per_financeur: dict[str, Sums] = {code: Sums() for code, _ in table.financeurs}
    per_orientation: dict[str | None, Sums] = defaultdict(Sums)
    per_qpv: dict[str, Sums] = defaultdict(Sums)
    overall = Sums()
    delays = Delays()
    for dossier in iter_dossiers(session, user, campaign_id, COUNTED_STATES):
        line_sums = Sums(dossiers=1)
        for line in dossier.cofinancements:
            s = per_financeur.setdefault(line.financeur.code, Sums())
            accorde = line.montant_accorde if line.decision == "accorde" and line.montant_accorde else ZERO
            paye = sum((p.montant for p in line.payments), ZERO)
            s.dossiers += 1
            s.demande += line.montant_demande
            s.propose += line.montant_propose or ZERO
            s.accorde += accorde
            s.paye += paye
            line_sums.demande += line.montant_demande
            line_sums.propose += line.montant_propose or ZERO
            line_sums.accorde += accorde
            line_sums.paye += paye
            if line.decision == "accorde" and line.payments:
                delays.add(
                    "decision_premier_paiement", line.decided_at, min(p.paid_on for p in line.payments)
                )
        targets = [per_orientation[orientation_of(dossier)], overall] + [per_qpv[q] for q in qpvs_of(dossier)]
        for target in targets:
            target.dossiers += 1
            target.demande += line_sums.demande
            target.propose += line_sums.propose
            target.accorde += line_sums.accorde
            target.paye += line_sums.paye
        delays.add("depot_decision", dossier.deposited_at, dossier.decided_at)
        delays.add("decision_convention", dossier.decided_at, dossier.conventionne_at)
    names = dict(table.financeurs)
    kinds = place_kinds(session, table.campaign.territory_id)
    return {
        "campaign_id": table.campaign.id,
        "total": overall.out(),
        "financeurs": [
            {"financeur": code, "financeur_name": names.get(code, code), **s.out()}
            for code, s in per_financeur.items()
        ],
        "orientations": [
            {"orientation": code, "label": table.orientation_labels.get(code or ""), **s.out()}
            for code, s in sorted(per_orientation.items(), key=lambda kv: kv[0] or "~")
        ],
        "qpv": [
            {"qpv": code, "name": table.qpv_names.get(code, code), **s.out()}
            for code, s in sorted(per_qpv.items())
            if kinds.get(code, "qpv") == "qpv"
        ],
        # quartiers de veille, territoires à enjeux: their money is never counted as QPV money (P147)
        "hors_qpv": [
            {"code": code, "name": table.qpv_names.get(code, code), "kind": kinds[code], **s.out()}
            for code, s in sorted(per_qpv.items())
            if kinds.get(code, "qpv") != "qpv"
        ],
        "delais": {
            name: delays.out(name)
            for name in ("depot_decision", "decision_convention", "decision_premier_paiement")
        },
    }
