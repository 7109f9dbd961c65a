"""The demo's CPOs: Les Passerelles' « médiation numérique » action, conventioned last year, became a
3-year CPO (last year, this year, next year) signed by the État and DLVAgglo; its yearly dossier
already sits in the open call on the light form. Their « point d'accès aux droits itinérant » was
programmed last year and is ready to become a CPO.

Everything goes through the real services, as people would have done it, on dates in the past.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from aap.cpo import cycle
from aap.cpo import service as cpos
from aap.dossiers import service as dossiers
from aap.financing import service as financing
from aap.models import Campaign, Dossier, User

CPO_ACTION = "passerelles_mediation_numerique"
CPO_SIGNERS = ("ETAT", "DLVA")
READY_ACTION = "passerelles_acces_droits"


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=UTC)


def load(
    session: Session,
    users: dict[str, User],
    open_campaign: Campaign,
    previous: Campaign,
    last_year: dict[str, Dossier],
    actions: list[dict[str, Any]],
    today: date,
) -> int:
    instructeur = users["instructeur@demo.aap.test"]
    agents = {u.financeur.code: u for u in users.values() if u.financeur is not None}
    origin = dossiers.get_dossier(session, instructeur, last_year[CPO_ACTION].id)
    dates = previous.parsed_dates()
    proposed_on = dates["validation"] + timedelta(days=35)
    amounts = {
        line.financeur.code: [f"{line.montant_accorde:.2f}"] * 3
        for line in origin.cofinancements
        if line.financeur.code in CPO_SIGNERS and line.montant_accorde is not None
    }
    cpo = cpos.propose(
        session,
        instructeur,
        origin.id,
        [previous.year, previous.year + 1, previous.year + 2],
        amounts,
        _at(proposed_on),
        objectifs="Accompagner chaque année 200 habitants des QPV vers l'autonomie numérique et leurs "
        "démarches en ligne (droits, emploi, école).",
        indicateurs="Personnes accompagnées ; démarches abouties ; personnes autonomes à six mois.",
    )
    for i, code in enumerate(CPO_SIGNERS):
        cpos.fire_transition(
            session, agents[code], cpo.id, "signer", {}, _at(proposed_on + timedelta(days=5 + i))
        )
    opened = max(open_campaign.depot_ouverture, min(today, open_campaign.depot_cloture))
    cycle.run(session, _at(opened, 6))
    _programmed(session, users, previous, next(a for a in actions if a["key"] == READY_ACTION))
    return 1


def _programmed(
    session: Session, users: dict[str, User], campaign: Campaign, action: dict[str, Any]
) -> Dossier:
    """A dossier walked up to `programme` last year: the instructeur may propose a CPO from it."""
    porteur = users["porteur2@demo.aap.test"]
    instructeur, admin = users["instructeur@demo.aap.test"], users["admin@demo.aap.test"]
    agents = {u.financeur.code: u for u in users.values() if u.financeur is not None}
    dates = campaign.parsed_dates()
    answers = dict(action["answers"])
    answers["action"] = {**answers["action"], "titre": "Point d'accès aux droits itinérant"}
    day = dates["depot_cloture"] - timedelta(days=3)
    d = dossiers.create_dossier(session, porteur, campaign.id, _at(day, 9), answers=answers)
    dossiers.fire_transition(session, porteur, d.id, "deposer", {}, _at(day, 11))
    day = dates["depot_cloture"] + timedelta(days=4)
    dossiers.fire_transition(session, instructeur, d.id, "prendre_en_instruction", {}, _at(day))
    for line in d.cofinancements:
        proposal = (line.montant_demande * Decimal("0.8") / 100).quantize(Decimal("1")) * 100
        financing.propose(session, instructeur, d.id, line.financeur.code, proposal, _at(day, 11))
    dossiers.fire_transition(
        session,
        instructeur,
        d.id,
        "terminer_instruction",
        {},
        _at(dates["comite_technique"] - timedelta(days=5)),
    )
    dossiers.fire_transition(
        session, admin, d.id, "rendre_avis", {"avis": "favorable"}, _at(dates["comite_technique"])
    )
    d = dossiers.get_dossier(session, admin, d.id)
    for line in d.cofinancements:
        financing.decide(
            session,
            agents[line.financeur.code],
            d.id,
            line.financeur.code,
            "accorde",
            line.montant_propose,
            None,
            _at(dates["validation"] + timedelta(days=8)),
        )
    return dossiers.get_dossier(session, admin, d.id)
