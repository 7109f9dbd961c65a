"""The bilan, the focus and the report as the API shows them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from aap.dossiers.schemas import iso
from aap.models import Bilan, Dossier
from forms import FieldError


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BilanPatch(Strict):
    answers: dict[str, Any] = Field(description="Réponses partielles du bilan (fusion, None efface).")


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


def when(value: datetime | date | None) -> str | None:
    return iso(value)
