"""The bilan, the focus and the report as the API shows them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from aap.attachments.schemas import AttachmentOut
from aap.dossiers.schemas import Day, FormRef, Instant, iso
from aap.models import Bilan, Dossier
from aap.schemas import Euros
from forms import FieldError


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BilanPatch(Strict):
    answers: dict[str, Any] = Field(description="Réponses partielles du bilan (fusion, None efface).")


class FieldErrorOut(BaseModel):
    path: str = Field(description="Le chemin de la réponse dans le formulaire (« budget.lignes.0 »).")
    code: str
    message: str


class Ecart(BaseModel):
    """A budget line whose réalisé moves from its prévu beyond the territory's threshold."""

    path: str
    libelle: str
    prevu: Euros
    realise: Euros
    ecart: str | None = Field(
        description="La part de l'écart (« 0.250 » : +25 %), null si rien n'était prévu."
    )
    explication: str | None


class BilanOut(BaseModel):
    """The bilan as the API answers it; `version` goes back in `If-Match`."""

    dossier_id: int
    dossier_number: str
    dossier_state: str
    state: str = Field(description="a_faire, brouillon, depose, a_corriger, valide")
    due_date: Day | None
    en_retard: bool
    form: FormRef
    answers: dict[str, Any]
    version: int
    comment: str | None
    complete: bool
    checklist: dict[str, list[FieldErrorOut]] = Field(description="Ce qui manque encore, par section.")
    ecarts: list[Ecart]
    deposited_at: Instant | None
    validated_at: Instant | None
    updated_at: Instant | None


class BilanAttachmentOut(AttachmentOut):
    bilan_version: int


def bilan_out(
    dossier: Dossier,
    bilan: Bilan,
    checklist: dict[str, list[FieldError]],
    gaps: list[dict[str, Any]],
    today: date,
) -> dict[str, Any]:
    missing = [e.as_dict() for errors in checklist.values() for e in errors]
    return {
        "dossier_id": dossier.id,
        "dossier_number": dossier.number,
        "dossier_state": dossier.state,
        "state": bilan.state,
        "due_date": iso(bilan.due_date),
        "en_retard": bilan.state in ("a_faire", "brouillon", "a_corriger")
        and bilan.due_date is not None
        and today > bilan.due_date,
        "form": {"code": bilan.form_code, "version": bilan.form_version},
        "answers": bilan.answers,
        "version": bilan.version,
        "comment": bilan.comment,
        "complete": not missing,
        "checklist": {section: [e.as_dict() for e in errors] for section, errors in checklist.items()},
        "ecarts": gaps,
        "deposited_at": iso(bilan.deposited_at),
        "validated_at": iso(bilan.validated_at),
        "updated_at": iso(bilan.updated_at),
    }


class NewFocus(Strict):
    date: date
    heure: str | None = Field(None, pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="HH:MM")
    lieu: str = Field(min_length=1, max_length=300)
    qpv: str | None = Field(None, max_length=32, description="Code du QPV où a lieu la séance")
    annee: int | None = Field(
        None, ge=2000, le=2100, description="Année évaluée (par défaut : celle de la date)"
    )


class Participation(Strict):
    dossier_id: int
    beneficiaires: dict[str, int] = Field(
        description="Nombre de bénéficiaires amenés : `femmes`, `hommes`, et par tranche d'âge "
        "(`age_0_5`, `age_6_11`, `age_12_17`, `age_18_25`, `age_26_64`, `age_65_plus`)."
    )


class Contribution(Strict):
    theme: str = Field(min_length=1, max_length=200)
    texte: str = Field(min_length=1, max_length=8000)
    propositions: str | None = Field(None, max_length=8000)


class FocusTotals(BaseModel):
    operateurs: int
    femmes: int
    hommes: int
    total: int


class ParticipationOut(BaseModel):
    id: int
    focus_id: int
    dossier_id: int
    organisation_id: int
    beneficiaires: dict[str, int] = Field(description="`femmes`, `hommes` et les tranches d'âge renseignées.")
    total: int


class ContributionOut(BaseModel):
    id: int
    focus_id: int
    theme: str
    texte: str
    propositions: str | None


class FocusOut(BaseModel):
    id: int
    annee: int
    date: Day
    date_fr: str
    heure: str | None
    lieu: str
    qpv: str | None
    beneficiaires: FocusTotals
    participations: list[ParticipationOut]
    contributions: list[ContributionOut]


class FocusPage(BaseModel):
    items: list[FocusOut]
    total: int


# --- the annual report ----------------------------------------------------------------------------


class RapportCampaign(BaseModel):
    id: int
    code: str
    year: int
    title: str


class RapportBilans(BaseModel):
    attendus: int
    deposes: int
    valides: int
    en_retard: int
    a_corriger: int


class RapportBeneficiaires(BaseModel):
    total: int
    par_sexe: dict[str, int]
    par_age: dict[str, int]
    par_qpv: dict[str, int]
    qpv_noms: dict[str, str]


class RapportFinanceur(BaseModel):
    financeur: str
    name: str
    prevu: Euros
    realise: Euros


class RapportOrientation(BaseModel):
    orientation: str
    label: str
    prevu: Euros
    realise: Euros


class RapportMontants(BaseModel):
    prevu: dict[str, Euros]
    realise: dict[str, Euros]
    par_financeur: list[RapportFinanceur]
    par_orientation: list[RapportOrientation]
    total_prevu: Euros
    total_realise: Euros


class RapportIndicateur(BaseModel):
    dossier_id: int
    dossier: str
    titre: str | None
    indicateur: str
    valeur: str | None


class RapportSeance(BaseModel):
    id: int
    date: Day
    heure: str | None
    lieu: str
    qpv: str | None


class RapportFocus(BaseModel):
    seances: list[RapportSeance]
    operateurs: int
    beneficiaires: int
    contributions: list[ContributionOut]


class ContributionPourCetAppel(ContributionOut):
    date: Day
    lieu: str


class RapportDelai(BaseModel):
    code: str
    label: str
    dossiers: int
    moyenne_jours: float | None


class RapportOut(BaseModel):
    """The « rapport de suivi et de bilan » (the PDF and the XLSX are drawn from the same figures)."""

    campaign: RapportCampaign
    date: Day
    bilans: RapportBilans
    beneficiaires: RapportBeneficiaires
    montants: RapportMontants
    indicateurs: list[RapportIndicateur]
    focus: RapportFocus
    focus_pour_cet_appel: list[ContributionPourCetAppel] = Field(
        description="Ce que le focus de l'automne dernier a dit, pour préparer cet appel."
    )
    delais: list[RapportDelai]


def when(value: datetime | date | None) -> str | None:
    return iso(value)
