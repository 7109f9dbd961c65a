"""Calendar types and forms as territory data: `aap calendar load FILE` / `aap form load FILE` check
a file (every error located) and store it under AAP_DATA_DIR, where the application looks after the
shipped ones; no file inside the package needs editing.

A shipped calendar or form is never replaced. A stored form version is never rewritten (dossiers were
written against it): a changed form is a new version. A calendar type already used by campaigns is
only replaced if their dates still fit it."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from aap.models import Campaign
from aap.rules_files.validation import translate
from aap.rules_files.yaml_locations import (
    LocatedDocument,
    LocatedError,
    RulesFileError,
    format_path,
    read_document,
)
from forms.definition import FormDef
from forms.form import DEFINITIONS, add_definitions_dir
from workflows.calendar import CALENDARS_DIR, CalendarError, add_calendar_dir, load_calendar, parse_calendar


def calendars_dir(data_dir: Path) -> Path:
    return data_dir / "calendriers"


def forms_dir(data_dir: Path) -> Path:
    return data_dir / "formulaires"


def use_data_files(data_dir: Path) -> None:
    """Where the application finds the calendars and forms territories loaded (called at start)."""
    add_calendar_dir(calendars_dir(data_dir))
    add_definitions_dir(forms_dir(data_dir))


def _at(doc: LocatedDocument, path: str, message: str, code: str) -> LocatedError:
    """An error at `path` (« phases[2].starts_at[0] »), placed at the line of its nearest known part."""
    lines = {format_path(loc): line for loc, line in doc.lines.items()}
    probe = path
    while probe and probe not in lines:
        cut = max(probe.rfind("."), probe.rfind("["))
        probe = probe[:cut] if cut > 0 else ""
    return LocatedError(doc.source, lines.get(probe, lines.get("")), path, message, code)


def _store(target: Path, text: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)


def load_calendar_file(session: Session, path: Path, data_dir: Path) -> str:
    """Checks and stores a calendar type; returns its code."""
    doc = read_document(path)
    if doc.problems:
        raise RulesFileError(doc.problems)
    source = doc.source
    try:
        calendar = parse_calendar(doc.value, "")
    except CalendarError as exc:
        raise RulesFileError(
            [_at(doc, path, message, "calendrier_invalide") for path, message in exc.problems]
        ) from exc
    errors: list[LocatedError] = []
    if (CALENDARS_DIR / f"{calendar.code}.yaml").is_file():
        errors.append(
            doc.error(
                ("code",),
                f"« {calendar.code} » est un calendrier livré avec l'application : choisissez un autre code",
                "calendrier_livre",
            )
        )
    for campaign in session.scalars(select(Campaign).where(Campaign.calendar == calendar.code)):
        errors.extend(
            LocatedError(
                source,
                doc.line_of(("dates",)),
                "dates",
                f"l'appel à projets « {campaign.code} » qui suit ce calendrier ne le respecterait plus : "
                f"{reason.message}",
                "calendrier_utilise",
            )
            for reason in calendar.validate_dates(campaign.parsed_dates())
        )
    if errors:
        raise RulesFileError(errors)
    _store(calendars_dir(data_dir) / f"{calendar.code}.yaml", path.read_text(encoding="utf-8"))
    use_data_files(data_dir)
    load_calendar.cache_clear()
    return calendar.code


def load_form_file(path: Path, data_dir: Path) -> tuple[str, int]:
    """Checks and stores a form definition; returns (code, version)."""
    doc = read_document(path)
    if doc.problems:
        raise RulesFileError(doc.problems)
    if not isinstance(doc.value, dict):
        raise RulesFileError(
            [
                doc.error(
                    (),
                    "le fichier doit décrire un formulaire (« code: … », « version: … », « sections: … »)",
                    "not_a_mapping",
                )
            ]
        )
    try:
        definition = FormDef.model_validate(doc.value)
    except ValidationError as exc:  # every mistake, in French, at its line
        raise RulesFileError(translate(exc, FormDef, doc)) from exc
    name = f"{definition.code}.v{definition.version}.yaml"
    text = path.read_text(encoding="utf-8")
    if (DEFINITIONS / name).is_file():
        raise RulesFileError(
            [
                doc.error(
                    ("code",),
                    f"« {definition.code} » version {definition.version} est livré avec l'application : "
                    "choisissez un autre code ou une autre version",
                    "formulaire_livre",
                )
            ]
        )
    stored = forms_dir(data_dir) / name
    if stored.is_file() and stored.read_text(encoding="utf-8") != text:
        raise RulesFileError(
            [
                doc.error(
                    ("version",),
                    f"la version {definition.version} de « {definition.code} » est déjà enregistrée et des "
                    f"dossiers peuvent y être écrits : publiez la version {definition.version + 1}",
                    "version_existante",
                )
            ]
        )
    _store(stored, text)
    use_data_files(data_dir)
    return definition.code, definition.version
