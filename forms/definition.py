"""The shape of a form definition file, checked with pydantic.

Definitions are written by hand (YAML); a typo must be refused at load time with its location
(``sections[1].fields[4] (date_debut).type``), not discovered by a porteur filling the form.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from forms.errors import DefinitionError

FieldType = Literal[
    "text",
    "textarea",
    "email",
    "tel",
    "date",
    "integer",
    "amount",
    "boolean",
    "choice",
    "multichoice",
    "siret",
    "rna",
    "group",
    "list",
    "per_financeur",
    "attachment",
]
OptionSource = Literal["financeurs", "qpvs", "orientations", "priorites"]
KEY = r"^[a-z][a-z0-9_]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Option(_Strict):
    value: str
    label: str


class Condition(_Strict):
    """Shown when the sibling field ``field`` (same section or group) equals ``equals``."""

    field: str = Field(pattern=KEY)
    equals: str | bool | int


class FieldDef(_Strict):
    """One question. Groups and lists hold sub-fields; choices hold options or take them from the ctx."""

    key: str = Field(pattern=KEY)
    type: FieldType
    label: str = Field(min_length=1)
    short_label: str | None = None
    help: str = ""
    required: bool = False
    shown_when: Condition | None = None
    options: list[Option] | None = None
    options_from: OptionSource | None = None
    fields: list[FieldDef] | None = None
    min: Decimal | None = None
    max: Decimal | None = None
    max_length: int | None = Field(default=None, gt=0)
    pattern: str | None = None
    pattern_message: str | None = None
    must_be_true: bool = False
    min_items: int | None = Field(default=None, ge=0)
    max_items: int | None = Field(default=None, ge=1)
    scope: Literal["organisation", "dossier"] | None = None
    prefill: str | None = None
    reconduct: Literal["keep", "drop"] | None = None
    reconduct_value: str | bool | int | None = None
    widget: str | None = None
    placeholder: str | None = None
    blank_rows: int = Field(default=2, ge=0)

    @model_validator(mode="after")
    def _consistent(self) -> FieldDef:
        t = self.type
        if t in ("choice", "multichoice"):
            if (self.options is None) == (self.options_from is None):
                raise ValueError("un choix demande soit « options », soit « options_from »")
        elif self.options is not None or self.options_from is not None:
            raise ValueError(f"« options » n'a pas de sens pour le type {t}")
        if t in ("group", "list"):
            if not self.fields:
                raise ValueError(f"le type {t} demande une liste « fields »")
            check_siblings(self.fields)
        elif self.fields is not None:
            raise ValueError(f"« fields » n'a pas de sens pour le type {t}")
        if t == "list" and any(f.type in ("list", "group") for f in self.fields or ()):
            raise ValueError("une ligne de liste ne contient que des champs simples")
        if t == "attachment" and self.scope is None:
            raise ValueError("une pièce justificative demande « scope » (organisation ou dossier)")
        if self.must_be_true and t != "boolean":
            raise ValueError("« must_be_true » ne vaut que pour un booléen")
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"motif invalide : {exc}") from exc
        if (self.min is not None or self.max is not None) and t not in ("integer", "amount"):
            raise ValueError("« min » / « max » ne valent que pour un entier ou un montant")
        return self


class SectionDef(_Strict):
    key: str = Field(pattern=KEY)
    label: str = Field(min_length=1)
    help: str = ""
    fields: list[FieldDef]
    reconduct: bool = True

    @model_validator(mode="after")
    def _siblings(self) -> SectionDef:
        check_siblings(self.fields)
        return self


class RuleDef(_Strict):
    """A cross-field rule of check_complete, located at ``path``.

    ``balance``: sum(left) == sum(right); ``not_above``: sum(left) <= sum(right) (each side a list
    of paths to amounts, lists of lines with a ``column`` amount, ``montant`` by default, or
    per-financer amounts); ``sum_equals``: the same for counts (beneficiaries by sex must add up to
    the total); ``date_order``: start <= end; ``date_in_year``: the date ``field`` falls in the
    campaign year; ``gap_explained``: in each line of the list at ``path`` whose ``actual`` moves
    from ``planned`` by more than the context's threshold (15 % by default), ``explanation`` is
    required.
    """

    kind: Literal["balance", "not_above", "sum_equals", "date_order", "date_in_year", "gap_explained"]
    path: str
    code: str = Field(pattern=KEY)
    left: list[str] = []
    right: list[str] = []
    start: str | None = None
    end: str | None = None
    field: str | None = None
    label_left: str = "total des charges"
    label_right: str = "total des produits"
    column: str = Field(default="montant", pattern=KEY)
    planned: str | None = Field(default=None, pattern=KEY)
    actual: str | None = Field(default=None, pattern=KEY)
    explanation: str | None = Field(default=None, pattern=KEY)

    @model_validator(mode="after")
    def _complete(self) -> RuleDef:
        if self.kind == "gap_explained" and not (self.planned and self.actual and self.explanation):
            raise ValueError("la règle gap_explained demande « planned », « actual » et « explanation »")
        if self.kind in ("balance", "not_above", "sum_equals") and not (self.left and self.right):
            raise ValueError(f"la règle {self.kind} demande « left » et « right »")
        if self.kind == "date_order" and not (self.start and self.end):
            raise ValueError("la règle date_order demande « start » et « end »")
        if self.kind == "date_in_year" and not self.field:
            raise ValueError("la règle date_in_year demande « field »")
        return self

    def paths(self) -> list[str]:
        return [*self.left, *self.right, *(p for p in (self.start, self.end, self.field) if p)]


class RequestedDef(_Strict):
    """Where the requested amounts are: one per_financeur field, or a financer choice and an amount."""

    per_financeur: str | None = None
    financeur: str | None = None
    montant: str | None = None

    @model_validator(mode="after")
    def _one_way(self) -> RequestedDef:
        if bool(self.per_financeur) == bool(self.financeur and self.montant):
            raise ValueError("indiquer soit « per_financeur », soit « financeur » et « montant »")
        return self


class FormDef(_Strict):
    code: str = Field(pattern=KEY)
    version: int = Field(ge=1)
    title: str
    help: str = ""
    title_field: str | None = None
    summary_field: str | None = None
    """The answer shown to the public as the action's summary (the public directory of actions)."""
    requested: RequestedDef | None = None
    sections: list[SectionDef] = Field(min_length=1)
    rules: list[RuleDef] = []

    @model_validator(mode="after")
    def _references(self) -> FormDef:
        keys = [s.key for s in self.sections]
        dupes = {k for k in keys if keys.count(k) > 1}
        if dupes:
            raise ValueError(f"sections en double : {', '.join(sorted(dupes))}")
        refs: list[tuple[str, str, tuple[str, ...] | None]] = []
        if self.title_field:
            refs.append((self.title_field, "title_field", ("text",)))
        if self.summary_field:
            refs.append((self.summary_field, "summary_field", ("text", "textarea")))
        for rule in self.rules:
            refs += [(p, f"règle {rule.code}", None) for p in rule.paths()]
            if rule.kind == "gap_explained":
                refs.append((rule.path, f"règle {rule.code}", ("list",)))
                for key in (rule.planned, rule.actual, rule.explanation):
                    refs.append((f"{rule.path}.{key}", f"règle {rule.code}", None))
        req = self.requested
        if req and req.per_financeur:
            refs.append((req.per_financeur, "requested.per_financeur", ("per_financeur",)))
        if req and req.financeur and req.montant:
            refs.append((req.financeur, "requested.financeur", ("choice",)))
            refs.append((req.montant, "requested.montant", ("amount",)))
        for path, where, types in refs:
            f = self.field_at(path)
            if f is None:
                raise ValueError(f"{where} : le champ « {path} » n'existe pas")
            if types and f.type not in types:
                raise ValueError(f"{where} : le champ « {path} » doit être de type {' ou '.join(types)}")
        return self

    def section(self, key: str) -> SectionDef | None:
        return next((s for s in self.sections if s.key == key), None)

    def field_at(self, path: str) -> FieldDef | None:
        """The field at a dotted path without list indexes ("organisation.adresse.commune")."""
        head, *rest = path.split(".")
        section = self.section(head)
        fields: list[FieldDef] | None = section.fields if section else None
        found: FieldDef | None = None
        for part in rest:
            if fields is None:
                return None
            found = next((f for f in fields if f.key == part), None)
            if found is None:
                return None
            fields = found.fields
        return found


def check_siblings(fields: list[FieldDef]) -> None:
    """Keys are unique among siblings and conditions point at a sibling declared before."""
    seen: dict[str, FieldDef] = {}
    for f in fields:
        if f.key in seen:
            raise ValueError(f"clé en double : {f.key}")
        if f.shown_when and f.shown_when.field not in seen:
            raise ValueError(f"{f.key} : la condition vise « {f.shown_when.field} », absent avant lui")
        seen[f.key] = f


def _where(loc: tuple[int | str, ...], raw: Any) -> str:
    """pydantic's loc, with the key of each list element, e.g. ``sections[0] (organisation).fields[2]``."""
    out = ""
    node = raw
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            if isinstance(node, dict) and "key" in node:
                out += f" ({node['key']})"
        else:
            out += ("." if out else "") + str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out


def parse_definition(raw: Any, source: str = "<définition>") -> FormDef:
    """Validate raw data as a definition; DefinitionError names every mistake and where it is."""
    try:
        return FormDef.model_validate(raw)
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
            where = _where(loc, raw) or "(racine)"
            errors.append(f"{where} : {err['msg']}")
        raise DefinitionError(source, errors) from None


def read_definition(path: Path) -> FormDef:
    """Load and validate one YAML definition file."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DefinitionError(str(path), [f"YAML illisible : {exc}"]) from None
    return parse_definition(raw, str(path))
