"""Which dossier may be renewed into which call: a funded action, into another call written on the same
form. The service (API and web alike) asks here, then adds what only the database knows (a dossier
already renewed in that call, the call's dépôt window)."""

from __future__ import annotations

from workflows.dossier import STATE_LABELS
from workflows.reasons import Reason

__all__ = ["RECONDUCTIBLE_STATES", "refusal"]

# an action that was funded: programmed, conventioned, its bilan deposited or validated
RECONDUCTIBLE_STATES: tuple[str, ...] = ("programme", "conventionne", "bilan_depose", "cloture")


def refusal(
    state: str, from_campaign: int, to_campaign: int, from_form: str, to_form: str
) -> tuple[str, Reason] | None:
    """Why this dossier cannot be renewed into that call, with the kind of refusal (`conflict` when the
    dossier's state forbids it, `invalid` when the target call is wrong); None when it can."""
    if state not in RECONDUCTIBLE_STATES:
        funded = ", ".join(STATE_LABELS[s].lower() for s in RECONDUCTIBLE_STATES)
        return "conflict", Reason(
            "dossier_non_reconductible",
            f"Seule une action financée ({funded}) peut être reconduite : ce dossier est à l'état "
            f"« {STATE_LABELS.get(state, state)} ».",
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
