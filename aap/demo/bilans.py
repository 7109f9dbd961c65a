"""The demo's bilans: last year's conventioned actions at every step of the end of the year (one
validated, one sent back for corrections, one filed and waiting, one late, one still to write), and
the autumn's focus bénéficiaires with what the operators brought and what was said.

`complete_answers` writes the porteur's part of a bilan from its prefilled answers, realistically:
the money spent as planned but for one line, explained; the beneficiaries adding up.
"""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from aap.attachments import files
from aap.bilans import focus
from aap.bilans import service as bilans
from aap.demo.pieces import piece_pdf
from aap.dossiers import service as dossiers
from aap.models import Attachment, Dossier, User
from forms.values import format_amount, parse_amount
from forms.walk import get_path


def _amount(value: Any) -> Decimal:
    return parse_amount(value) or Decimal(0)


def complete_answers(prefilled: dict[str, Any], qpv: str, attachment_id: int | None = None) -> dict[str, Any]:
    """A complete, balanced bilan from the prefilled one (FPH or full)."""
    answers = copy.deepcopy(prefilled)
    budget = answers.setdefault("budget", {})
    spent_key = "charges" if "charges" in budget or "depenses" not in budget else "depenses"
    spent = budget.setdefault(spent_key, [])
    for i, row in enumerate(spent):
        planned = _amount(row.get("prevu"))
        row["realise"] = format_amount(planned * Decimal("1.25") if i == 1 else planned)
        if i == 1:
            row["explication"] = "Plus de séances que prévu : la demande des familles a dépassé nos attentes."
    for row in budget.get("financements", []):
        row["realise"] = row.get("prevu") or "0.00"
    full = spent_key == "charges"
    total_spent = sum((_amount(r.get("realise")) for r in spent), Decimal(0))
    received = sum((_amount(r.get("realise")) for r in budget.get("financements", [])), Decimal(0))
    if full:
        produits = budget.setdefault("produits", [])
        for row in produits:
            row["realise"] = row.get("prevu") or "0.00"
        received += sum((_amount(r.get("realise")) for r in produits), Decimal(0))
        missing = total_spent - received
        if missing > 0:
            produits.append(
                {
                    "compte": "75",
                    "libelle": "Fonds propres de l'association",
                    "prevu": "0.00",
                    "realise": format_amount(missing),
                    "explication": "Fonds propres mobilisés pour couvrir la part non subventionnée.",
                }
            )
        elif missing < 0:
            spent.append(
                {
                    "compte": "62",
                    "libelle": "Autres services extérieurs",
                    "prevu": "0.00",
                    "realise": format_amount(-missing),
                    "explication": "Sorties supplémentaires financées par le reliquat.",
                }
            )
    answers.setdefault("realisation", {})["description"] = (
        "L'action s'est déroulée comme prévu, avec des séances supplémentaires au printemps."
    )
    benef: dict[str, Any] = {
        "total": 40,
        "sexe": {"femmes": 22, "hommes": 18},
        "par_qpv": [{"qpv": qpv, "nombre": 31}],
        "hors_qpv": 9,
    }
    if full:
        answers["realisation"]["objectifs_atteints"] = "oui"
        benef["age"] = {
            "age_0_5": 0,
            "age_6_11": 18,
            "age_12_17": 12,
            "age_18_25": 2,
            "age_26_64": 8,
            "age_65_plus": 0,
        }
        indicators = answers.setdefault("indicateurs", {}).setdefault("droit_commun", {})
        indicators.setdefault("indicateur", "Nombre de personnes orientées vers le droit commun")
        indicators["valeur"] = "12 familles inscrites"
        answers.setdefault("partenaires", {}).setdefault("partenaires", "Centre social, école, médiathèque.")
        answers["appreciation"] = {
            "qualitative": "Les enfants ont gagné en confiance ; les parents sont venus plus nombreux.",
            "difficultes": "Le recrutement d'une animatrice en cours d'année.",
            "suites": "L'action est reconduite ; la médiathèque prend le relais des ateliers du samedi.",
        }
        attestation = answers.setdefault("attestation", {})
        attestation.setdefault("nom", "Claire Martin")
        attestation.setdefault("qualite", "Présidente")
    else:
        answers["appreciation"] = {"qualitative": "Le quartier s'est retrouvé autour du projet."}
        answers.setdefault("attestation", {}).setdefault("nom", "Référent du groupe")
    answers["beneficiaires"] = benef
    answers["attestation"]["sur_l_honneur"] = True
    if attachment_id is not None and full:
        answers["pieces"] = {"etats_financiers": attachment_id}
    return answers


def _statements(session: Session, dossier: Dossier, porteur: User, data_dir: Path, at: datetime) -> int:
    content = piece_pdf("États financiers de l'action", dossier.organisation.name, at.year)
    sha, path = files.store_bytes(session, data_dir, content)
    attachment = Attachment(
        organisation_id=dossier.organisation_id,
        dossier_id=dossier.id,
        kind="etats_financiers",
        filename="etats-financiers.pdf",
        content_type=files.check_type(path),
        size=len(content),
        sha256=sha,
        uploaded_by_id=porteur.id,
        uploaded_at=at,
    )
    session.add(attachment)
    session.commit()
    return attachment.id


def _fill(session: Session, porteur: User, dossier: Dossier, data_dir: Path, at: datetime) -> None:
    _, bilan = bilans.get_bilan(session, porteur, dossier.id, at)
    qpv = (get_path(dossier.answers, "action.qpv") or ["QN00401M"])[0]
    attachment = _statements(session, dossier, porteur, data_dir, at)
    answers = complete_answers(bilan.answers, qpv, attachment)
    bilans.update_bilan(session, porteur, dossier.id, answers, bilan.version, at)


def year_end(
    session: Session,
    last_year: dict[str, Dossier],
    porteurs: dict[str, User],
    users: dict[str, User],
    today: date,
    data_dir: Path,
) -> None:
    """Last year's bilans at each step, and the autumn focus; through the services, dated before today."""
    instructeur = users["instructeur@demo.aap.test"]
    admin = users["admin@demo.aap.test"]

    def at(days_ago: int, hour: int = 10) -> datetime:
        return datetime.combine(today - timedelta(days=days_ago), time(hour), tzinfo=UTC)

    def porteur_of(key: str) -> User:
        return porteurs[_ORG_OF[key]]

    plan = {
        "horizon_scolarite": "valide",
        "horizon_ete_hors_les_murs": "a_corriger",
        "passerelles_acces_droits": "depose",
        "horizon_paroles_ados": "en_retard",
    }
    for key, step in plan.items():
        dossier = last_year.get(key)
        if dossier is None:
            continue
        porteur = porteur_of(key)
        if step == "en_retard":
            # its action ended early: the bilan was due ten days ago, it is begun and not filed
            _, bilan = bilans.get_bilan(session, porteur, dossier.id, at(40))
            due = today - timedelta(days=10)
            bilan.due_date = due
            dossier.bilan_due = due
            session.commit()
            bilans.update_bilan(
                session,
                porteur,
                dossier.id,
                {"realisation": {"description": "Les ateliers se sont tenus de janvier à juin."}},
                bilan.version,
                at(30),
            )
            continue
        _fill(session, porteur, dossier, data_dir, at(30))
        dossiers.fire_transition(session, porteur, dossier.id, "deposer_bilan", {}, at(25))
        if step == "valide":
            dossiers.fire_transition(session, instructeur, dossier.id, "valider_bilan", {}, at(15))
        elif step == "a_corriger":
            dossiers.fire_transition(
                session,
                instructeur,
                dossier.id,
                "renvoyer_bilan",
                {
                    "comment": "Merci de détailler l'écart sur la deuxième ligne de charges et de joindre "
                    "les factures correspondantes.",
                    "due_date": today + timedelta(days=21),
                },
                at(0, 8),
            )
    _focus(session, last_year, porteurs, admin, today)


_ORG_OF = {
    "horizon_scolarite": "asso_horizon",
    "horizon_ete_hors_les_murs": "asso_horizon",
    "horizon_paroles_ados": "asso_horizon",
    "passerelles_acces_droits": "asso_passerelles",
    "passerelles_mediation_numerique": "asso_passerelles",
}


def _focus(
    session: Session, last_year: dict[str, Dossier], porteurs: dict[str, User], admin: User, today: date
) -> None:
    """The autumn focus of last year's actions: two operators came with beneficiaries; what was said."""
    year = next(iter(last_year.values())).campaign.year if last_year else today.year - 1
    now = datetime.combine(today - timedelta(days=20), time(9), tzinfo=UTC)
    session_row = focus.create_session(
        session,
        admin,
        day=today - timedelta(days=20),
        heure="18:00",
        lieu="Maison d'animation de proximité du Quartier Ouest, Manosque",
        qpv="QN00401M",
        annee=year,
        now=now,
    )
    brought = {
        "horizon_scolarite": {"femmes": 4, "hommes": 2, "age_12_17": 3, "age_26_64": 3},
        "passerelles_acces_droits": {"femmes": 3, "hommes": 2, "age_26_64": 4, "age_65_plus": 1},
    }
    for key, counts in brought.items():
        if key in last_year:
            focus.register_participation(
                session, porteurs[_ORG_OF[key]], session_row.id, last_year[key].id, counts, now
            )
    said = [
        (
            "Accès aux droits",
            "On ne savait pas qu'on avait droit à la prime d'activité ; c'est l'atelier qui nous l'a dit.",
            "Des permanences le samedi matin, pour ceux qui travaillent en semaine.",
        ),
        (
            "Jeunesse",
            "Les ados veulent un lieu à eux le soir, pas seulement de l'aide aux devoirs.",
            "Ouvrir la maison de quartier jusqu'à 21 h deux soirs par semaine.",
        ),
    ]
    for theme, texte, propositions in said:
        focus.add_contribution(session, admin, session_row.id, theme, texte, propositions, now)
