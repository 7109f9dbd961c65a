"""The French words for the codes users meet: avis, decisions, line states, payments.

One table each, used by the API (`*_label` fields), the web pages and the messages, so the staff page,
the porteur's page, the programme export and an e-mail never name the same avis two ways.
"""

from __future__ import annotations

__all__ = [
    "AVIS_LABELS",
    "DECISION_LABELS",
    "LINE_STATE_LABELS",
    "PARTNER_AVIS_LABELS",
    "PAYMENT_LABELS",
    "avis_label",
    "decision_label",
]

# the comité technique's avis (`workflows.dossier.AVIS` is its keys)
AVIS_LABELS: dict[str, str] = {
    "favorable": "Favorable",
    "reserve": "Favorable avec réserves",
    "defavorable": "Défavorable",
    "ajourne": "Ajourné",
}
# a partner's or a sector service's avis on one dossier (the comité's words, without « ajourné »)
PARTNER_AVIS_LABELS: dict[str, str] = {
    code: AVIS_LABELS[code] for code in ("favorable", "reserve", "defavorable")
}
# a financer's decision on its cofinancement line
DECISION_LABELS: dict[str, str] = {"accorde": "Accordé", "refuse": "Refusé", "ajourne": "Ajourné"}
# the cofinancement line's state (`workflows.cofinancement.LINE_STATES`)
LINE_STATE_LABELS: dict[str, str] = {
    "sollicite": "Sollicité",
    "propose": "Montant proposé",
    **DECISION_LABELS,
}
PAYMENT_LABELS: dict[str, str] = {"avance": "Avance", "solde": "Solde", "acompte": "Acompte"}


def avis_label(code: str | None) -> str | None:
    """The avis in French (an unknown code is shown as it is, None stays None)."""
    return None if code is None else AVIS_LABELS.get(code, code)


def decision_label(code: str | None) -> str | None:
    return None if code is None else DECISION_LABELS.get(code, code)


# the access log (`aap.rgpd.access_log`): what was done, and on what kind of object (its table)
ACCESS_ACTION_LABELS: dict[str, str] = {"read": "Lecture", "write": "Écriture"}
ACCESS_KIND_LABELS: dict[str, str] = {
    "attachments": "Pièce jointe",
    "bilans": "Bilan",
    "focus_participations": "Bénéficiaires au focus",
    "users": "Compte",
    "dossiers": "Dossier",
    "cofinancements": "Ligne de cofinancement",
    "payments": "Versement",
    "organisations": "Organisme",
    "memberships": "Membre d'un organisme",
    "dossier_messages": "Message",
    "dossier_events": "Historique du dossier",
    "campaigns": "Appel à projets",
    "campaign_financeurs": "Enveloppe",
    "cpos": "CPO",
    "avis_partenaires": "Avis de partenaire",
    "notifications": "Message envoyé",
}
