"""Which dossier may be renewed into which call: a funded action, into another call written on the same
form. The service (API and web alike) asks here, then adds what only the database knows (a dossier
already renewed in that call, the call's dépôt window).

An action under a CPO is not renewed by its porteur for a year the CPO covers: the CPO makes that
year's dossier itself when the call opens (`aap/cpo/cycle.py`)."""

from __future__ import annotations

from dataclasses import dataclass

from workflows.cpo import TERMINAL_STATES as CPO_ENDED
from workflows.dossier import STATE_LABELS
from workflows.reasons import Reason

__all__ = ["RECONDUCTIBLE_STATES", "CpoCover", "refusal"]


@dataclass(frozen=True)
class CpoCover:
    """The CPO a dossier belongs to (made from it, or one of its yearly dossiers)."""

    cpo_id: int
    state: str
    years: tuple[int, ...]


# an action that was funded: programmed, conventioned, its bilan deposited or validated
RECONDUCTIBLE_STATES: tuple[str, ...] = ("programme", "conventionne", "bilan_depose", "cloture")


def refusal(
    state: str,
    from_campaign: int,
    to_campaign: int,
    from_form: str,
    to_form: str,
    *,
    to_year: int | None = None,
    cpo: CpoCover | None = None,
) -> tuple[str, Reason] | None:
    """Why this dossier cannot be renewed into that call (of year `to_year`), with the kind of refusal
    (`conflict` when the dossier's state or its CPO forbids it, `invalid` when the target call is
    wrong); None when it can."""
    if state not in RECONDUCTIBLE_STATES:
        funded = ", ".join(STATE_LABELS[s].lower() for s in RECONDUCTIBLE_STATES)
        return "conflict", Reason(
            "dossier_non_reconductible",
            f"Seule une action financée ({funded}) peut être reconduite : ce dossier est à l'état "
            f"« {STATE_LABELS.get(state, state)} ».",
            "dossier_id",
        )
    if cpo is not None and cpo.state not in CPO_ENDED and to_year is not None and to_year in cpo.years:
        return "conflict", Reason(
            "dossier_sous_cpo",
            f"Cette action relève de la convention pluriannuelle d'objectifs (CPO) n° {cpo.cpo_id} "
            f"({_years(cpo.years)}) : sa demande de l'année {to_year} est créée par la CPO elle-même à "
            "l'ouverture de l'appel à projets, préremplie. Il n'y a pas à la reconduire.",
            "dossier_id",
        )
    if to_campaign == from_campaign:
        return "invalid", Reason(
            "meme_campagne",
            "Ce dossier appartient déjà à cet appel à projets : choisissez l'appel suivant.",
            "campaign_id",
        )
    if to_form != from_form:
        return "invalid", Reason(
            "formulaire_different",
            "Ce dossier a été écrit sur un autre formulaire que celui de cet appel à projets : "
            "il ne peut pas être reconduit ici.",
            "campaign_id",
        )
    return None


def _years(years: tuple[int, ...]) -> str:
    ordered = sorted(years)
    return f"années {ordered[0]} à {ordered[-1]}" if len(ordered) > 1 else f"année {ordered[0]}"
