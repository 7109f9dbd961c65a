"""The Form object the services use, and the loading of definitions by code and version.

A dossier keeps the form code and version it was written against, so older versions stay
loadable while a new campaign moves to the next one.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from markupsafe import Markup

from forms import render, schema, transform, validate
from forms.context import FormContext
from forms.definition import FieldDef, FormDef, SectionDef, read_definition
from forms.errors import DefinitionError, FieldError, FormNotFound
from forms.walk import get_path

DEFINITIONS = Path(__file__).parent / "definitions"
# Where definitions are looked for: the shipped ones, then those a territory loaded (`aap form load`,
# under AAP_DATA_DIR), added by the application at start (`add_definitions_dir`).
DEFINITION_DIRS: list[Path] = [DEFINITIONS]
_FILE = re.compile(r"^(?P<code>[a-z][a-z0-9_]*)\.v(?P<version>[0-9]+)\.yaml$")


class Form:
    """One version of one form definition, with everything the services ask of it."""

    def __init__(self, definition: FormDef):
        self.definition = definition
        self.code = definition.code
        self.version = definition.version
        self.title = definition.title

    def __repr__(self) -> str:
        return f"<Form {self.code} v{self.version}>"

    @property
    def sections(self) -> list[SectionDef]:
        """The sections in order; each has ``key``, ``label``, ``help`` and ``fields``."""
        return list(self.definition.sections)

    def field(self, path: str) -> FieldDef | None:
        """The definition of the field at a dotted path (list indexes ignored)."""
        return self.definition.field_at(".".join(p for p in path.split(".") if not p.isdigit()))

    def json_schema(self, ctx: FormContext) -> dict[str, Any]:
        """The complete form as JSON Schema 2020-12 for this campaign (enumerations from ctx)."""
        return schema.build_schema(self.definition, ctx)

    def check_partial(self, answers: dict[str, Any], ctx: FormContext) -> list[FieldError]:
        """Errors of a draft: what is written must be valid and known; missing answers are fine."""
        return validate.check(self.definition, answers, ctx, complete=False)

    def check_complete(self, answers: dict[str, Any], ctx: FormContext) -> list[FieldError]:
        """Errors blocking the dépôt: invalid values, every missing required answer, cross-field rules."""
        return validate.check(self.definition, answers, ctx, complete=True)

    def missing(self, answers: dict[str, Any], ctx: FormContext) -> list[FieldError]:
        """Only the missing answers (code ``required``): the porteur's checklist."""
        return [e for e in self.check_complete(answers, ctx) if e.code == "required"]

    def checklist(self, answers: dict[str, Any], ctx: FormContext) -> dict[str, list[FieldError]]:
        """Errors of check_complete grouped by section key (every section present, maybe empty)."""
        out: dict[str, list[FieldError]] = {s.key: [] for s in self.definition.sections}
        for e in self.check_complete(answers, ctx):
            out.setdefault(e.path.split(".")[0], []).append(e)
        return out

    def merge(self, answers: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
        """Partial update: deep merge, lists replaced whole, None removes; amounts normalised."""
        return transform.normalize(self.definition, transform.merge(answers, patch))

    def normalize(self, answers: dict[str, Any]) -> dict[str, Any]:
        """Amounts given as JSON numbers become two-decimal strings."""
        return transform.normalize(self.definition, answers)

    def requested_amounts(self, answers: dict[str, Any], ctx: FormContext) -> dict[str, Decimal]:
        """Amount requested per financer code (only those above zero), in the campaign's order."""
        return transform.requested_amounts(self.definition, answers, ctx)

    def title_of(self, answers: dict[str, Any]) -> str | None:
        """The dossier's title (the action's name) when it is written."""
        if not self.definition.title_field:
            return None
        value = get_path(answers, self.definition.title_field)
        return value.strip() or None if isinstance(value, str) else None

    def summary_of(self, answers: dict[str, Any]) -> str | None:
        """The action's public summary (`summary_field`), when the form names one and it is written."""
        if not self.definition.summary_field:
            return None
        value = get_path(answers, self.definition.summary_field)
        return value.strip() or None if isinstance(value, str) else None

    def prefill(self, organisation: dict[str, Any]) -> dict[str, Any]:
        """A new draft's answers from the organisation profile."""
        return transform.prefill(self.definition, organisation)

    def reconduct(self, previous_answers: dict[str, Any], ctx: FormContext) -> dict[str, Any]:
        """Next campaign's draft from a previous dossier: descriptions kept, dates/amounts/attestation dropped."""
        return transform.reconduct(self.definition, previous_answers, ctx)

    def pieces(self) -> list[FieldDef]:
        """Every attachment field (with ``scope`` and ``required``), for the service's checks."""
        return [f for s in self.definition.sections for f in s.fields if f.type == "attachment"]

    def piece_paths(self) -> set[str]:
        """The answer paths of the attachment fields (``pieces.rib``…): whether the file is there is
        checked against the stored files, not in the answers."""
        return {
            f"{s.key}.{f.key}" for s in self.definition.sections for f in s.fields if f.type == "attachment"
        }

    def render_html(
        self,
        answers: dict[str, Any],
        ctx: FormContext,
        errors: list[FieldError] | tuple[FieldError, ...] = (),
        section: str | None = None,
        readonly: bool = False,
    ) -> Markup:
        """Accessible HTML of the form or of one section, with an error summary linking to fields."""
        return render.render(self.definition, answers, ctx, errors, section=section, readonly=readonly)

    def answers_from_form(
        self, flat: dict[str, str | list[str]], ctx: FormContext, section: str | None = None
    ) -> dict[str, Any]:
        """Answers from an HTML form post; with ``section``, a patch whose None values clear erased fields."""
        return transform.answers_from_form(self.definition, flat, ctx, section)


def add_definitions_dir(path: Path) -> None:
    """Also look for definitions in `path` (after the shipped ones, which a file never replaces)."""
    if path not in DEFINITION_DIRS:
        DEFINITION_DIRS.append(path)
        _load.cache_clear()


def definition_path(code: str, version: int) -> Path | None:
    return next(
        (d / f"{code}.v{version}.yaml" for d in DEFINITION_DIRS if (d / f"{code}.v{version}.yaml").is_file()),
        None,
    )


def form_versions(code: str) -> list[int]:
    """The versions available for a form code, ascending."""
    versions = set()
    for directory in DEFINITION_DIRS:
        for path in directory.glob(f"{code}.v*.yaml"):
            m = _FILE.match(path.name)
            if m and m.group("code") == code:
                versions.add(int(m.group("version")))
    return sorted(versions)


def load_form(code: str, version: int | None = None) -> Form:
    """The form ``code`` at ``version`` (latest when None); FormNotFound when there is none.

    A given version is read once per process (every autosave and transition asks for its dossier's):
    only the latest needs the directories listed."""
    if version is None:
        versions = form_versions(code)
        if not versions:
            raise FormNotFound(f"formulaire inconnu : {code}")
        version = versions[-1]
    return _load(code, version)


@cache
def _load(code: str, version: int) -> Form:
    path = definition_path(code, version)
    if path is None:
        raise FormNotFound(f"formulaire inconnu : {code} v{version}")
    definition = read_definition(path)
    if definition.code != code or definition.version != version:
        raise DefinitionError(
            f"{code}.v{version}.yaml",
            [f"le fichier déclare {definition.code} v{definition.version}, son nom {code} v{version}"],
        )
    return Form(definition)
