"""The French words for the codes users meet: avis, decisions, line states, payments, roles, the
history's events, the bilan's states, the report's figures, who reads a message, what the save button says.

One table each, used by the API (`*_label` fields), the web pages and the messages, so the staff page,
the porteur's page, the programme export and an e-mail never name the same avis two ways.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AGE_LABELS",
    "AUDIENCE_LABELS",
    "AVIS_IN_A_SENTENCE",
    "AVIS_LABELS",
    "BILAN_COUNT_LABELS",
    "BILAN_STATE_LABELS",
    "BILAN_STEP_DONE",
    "CPO_EVENT_LABELS",
    "DECISION_LABELS",
    "DOCUMENT_NAMES",
    "DOCUMENT_TITLES",
    "EVENT_LABELS",
    "LINE_STATE_LABELS",
    "PARTNER_AVIS_LABELS",
    "PAST_TRANSITION_LABELS",
    "PAYMENT_LABELS",
    "PLACE_KIND_LABELS",
    "REGISTRATION_OUTCOMES",
    "REPORT_DELAY_LABELS",
    "ROLE_LABELS",
    "SAVE_WORDING",
    "TOTAUX_DELAY_LABELS",
    "SaveWording",
    "avis_label",
    "decision_label",
    "save_wording",
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
# the avis inside a sentence (« a rendu un avis favorable », « un avis d'ajournement »: the documents)
AVIS_IN_A_SENTENCE: dict[str, str] = {
    "favorable": "favorable",
    "reserve": "réservé",
    "defavorable": "défavorable",
    "ajourne": "d'ajournement",
}
PAYMENT_LABELS: dict[str, str] = {"avance": "Avance", "solde": "Solde", "acompte": "Acompte"}
# the grant documents a financer's decision produces (their titles)
DOCUMENT_TITLES: dict[str, str] = {
    "convention": "Convention d'attribution de subvention",
    "notification": "Notification de subvention",
    "refus": "Décision de refus de subvention",
}
# how a sentence names the document a financer sends (« vous recevrez la convention… »)
DOCUMENT_NAMES: dict[str, str] = {"convention": "convention", "notification": "lettre de notification"}

ROLE_LABELS: dict[str, str] = {
    "admin": "Équipe du contrat de ville",
    "instructeur": "Instructeur",
    "porteur": "Porteur de projet",
    "financeur": "Financeur",
    "partenaire": "Partenaire ou service consulté",
}

# who reads a message of the dossier's dialogue (the box it is written in)
AUDIENCE_LABELS: dict[str, str] = {
    "echange": "Échange avec le porteur (lu par le porteur et l'équipe)",
    "interne": "Note interne (lue par l'équipe et les financeurs concernés, jamais par le porteur)",
}

# what a person reads once the address is confirmed, by what the confirmation did ("{org}": the name)
REGISTRATION_OUTCOMES: dict[str, str] = {
    "organisation_creee": "Votre adresse est confirmée et le compte de « {org} » est créé.",
    "adhesion_demandee": "Votre adresse est confirmée. « {org} » a déjà un compte : votre demande pour le "
    "rejoindre est transmise à ses membres, qui vont l'accepter ou la refuser. Vous recevrez un message.",
    "deja_membre": "Votre adresse est confirmée.",
}

# --- the history ------------------------------------------------------------------------------------
# A transition is named in the history by its button (`workflows.dossier.TRANSITIONS`); these are the
# steps that are not transitions, and the porteur's history, which speaks in the past.
EVENT_LABELS: dict[str, str] = {
    "creer": "Création du brouillon",
    "decision_financeur": "Décision d'un financeur",
    "accorder_delai": "Délai de dépôt accordé",
    "budget_ajuste": "Budget ajusté déposé",
}
PAST_TRANSITION_LABELS: dict[str, str] = {
    "deposer": "Dossier déposé",
    "prendre_en_instruction": "Pris en instruction",
    "demander_complements": "Compléments demandés",
    "completer": "Compléments transmis",
    "terminer_instruction": "Instruction terminée",
    "rendre_avis": "Avis du comité technique rendu",
    "programmer": "Dossier programmé",
    "rejeter": "Dossier rejeté : aucun financement accordé",
    "conventionner": "Convention ou notification établie",
    "deposer_bilan": "Bilan déposé",
    "renvoyer_bilan": "Bilan renvoyé pour corrections",
    "valider_bilan": "Bilan validé, dossier clôturé",
    "abandonner": "Dossier abandonné",
    "expirer": "Brouillon non déposé à la clôture du dépôt",
}
# the CPO's steps that are not one of its transitions' buttons (`workflows.cpo.TRANSITIONS`)
CPO_EVENT_LABELS: dict[str, str] = {
    "proposer": "CPO proposée",
    "signer": "Signature d'un financeur",
    "dossier_annuel": "Dossier annuel créé",
    "avance_avant_bilan": "Avance votée avant le bilan",
}

# --- the bilan and the report -----------------------------------------------------------------------
BILAN_STATE_LABELS: dict[str, str] = {
    "a_faire": "À faire",
    "brouillon": "En cours de saisie",
    "depose": "Déposé",
    "a_corriger": "À corriger",
    "valide": "Validé",
}
BILAN_COUNT_LABELS: dict[str, str] = {
    "attendus": "Bilans attendus",
    "deposes": "Bilans déposés",
    "valides": "Bilans validés",
    "en_retard": "Bilans en retard",
    "a_corriger": "Bilans renvoyés pour corrections",
}
# what the page says once a step of the bilan is taken
BILAN_STEP_DONE: dict[str, str] = {
    "deposer_bilan": "Votre bilan est déposé : l'équipe du contrat de ville va l'examiner.",
    "renvoyer_bilan": "Le bilan est renvoyé au porteur, qui reçoit votre message par courriel.",
    "valider_bilan": "Le bilan est validé : le dossier est clôturé et le solde peut être versé.",
}
AGE_LABELS: dict[str, str] = {
    "age_0_5": "0 à 5 ans",
    "age_6_11": "6 à 11 ans",
    "age_12_17": "12 à 17 ans",
    "age_18_25": "18 à 25 ans",
    "age_26_64": "26 à 64 ans",
    "age_65_plus": "65 ans et plus",
}
# the délais of the annual report (measured on the dossiers' and bilans' dates)
REPORT_DELAY_LABELS: dict[str, str] = {
    "depot_decision": "Dépôt → décision des financeurs",
    "decision_convention": "Décision → convention",
    "convention_bilan": "Convention → dépôt du bilan",
    "bilan_validation": "Dépôt du bilan → validation",
}
# the délais of the campaign's figures (`/totaux`, the dashboard), measured on the financers' lines
TOTAUX_DELAY_LABELS: dict[str, str] = {
    "depot_decision": "Dépôt → décision des financeurs",
    "decision_convention": "Décision → convention ou notification",
    "decision_premier_paiement": "Décision → premier paiement",
}

# a place targeted by actions that is not a QPV
PLACE_KIND_LABELS: dict[str, str] = {
    "quartier_veille": "quartier de veille",
    "territoire_enjeux": "territoire à enjeux",
}


# --- what the porteur's save button says ------------------------------------------------------------
@dataclass(frozen=True)
class SaveWording:
    """What the save button and its messages say: a deposited dossier is never called a draft."""

    button: str
    saved: str  # "{time}" is replaced by the time of the save
    hint: str


SAVE_WORDING: dict[str, SaveWording] = {
    "brouillon": SaveWording(
        "Enregistrer le brouillon",
        "Brouillon enregistré à {time} (pas encore déposé).",
        "Enregistrer ne dépose pas le dossier. Le dépôt se fait depuis la page du dossier, avec le bouton "
        "« Déposer le dossier ».",
    ),
    "depose": SaveWording(
        "Enregistrer les modifications",
        "Modifications enregistrées à {time} : le dossier reste déposé.",
        "Le dossier est déposé : l'instructeur lira vos modifications.",
    ),
    "complements_demandes": SaveWording(
        "Enregistrer les compléments",
        "Compléments enregistrés à {time} : transmettez-les depuis la page du dossier.",
        "Enregistrer ne transmet pas les compléments : une fois prêts, cliquez sur « Transmettre les "
        "compléments » sur la page du dossier.",
    ),
}


def save_wording(state: str) -> SaveWording:
    """The wording for a dossier in `state` (a draft's, when the state has none of its own)."""
    return SAVE_WORDING.get(state, SAVE_WORDING["brouillon"])


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
