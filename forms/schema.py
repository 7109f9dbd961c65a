"""The published JSON Schema (draft 2020-12) of a complete form, for the campaign's context.

Financers' systems and front-ends read this one document: what is asked, what is required,
which values are allowed this year, and how to present it (``x-`` keywords). Rules JSON Schema
cannot express (Luhn key, budget balance) are announced in ``x-check`` / ``x-rules``.
"""

from __future__ import annotations

from typing import Any

from forms.context import FormContext
from forms.definition import FieldDef, FormDef
from forms.validate import EMAIL_PATTERN, TEL_PATTERN
from forms.values import AMOUNT_PATTERN, DATE_PATTERN
from forms.walk import option_pairs

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

WIDGETS = {
    "text": "text",
    "textarea": "textarea",
    "email": "email",
    "tel": "tel",
    "date": "date",
    "integer": "integer",
    "amount": "amount",
    "choice": "select",
    "multichoice": "checkboxes",
    "siret": "siret",
    "rna": "rna",
    "group": "group",
    "list": "table",
    "per_financeur": "per_financeur",
    "attachment": "file",
}


def widget_of(f: FieldDef) -> str:
    """The presentation of a field: explicit ``widget`` or a default per type."""
    if f.widget:
        return f.widget
    if f.type == "boolean":
        return "checkbox" if f.must_be_true else "radio"
    return WIDGETS[f.type]


def build_schema(form: FormDef, ctx: FormContext) -> dict[str, Any]:
    """The whole form as one schema; the fields bound to the campaign year get a year pattern."""
    in_year = {r.field for r in form.rules if r.kind == "date_in_year" and r.field}
    builder = _Builder(ctx, in_year)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for section in form.sections:
        schema = builder.object(section.fields, section.key)
        schema = {
            "title": section.label,
            **({"description": section.help} if section.help else {}),
            **schema,
            "x-label": section.label,
            **({"x-help": section.help} if section.help else {}),
        }
        properties[section.key] = schema
        if schema.get("required") or schema.get("allOf"):
            required.append(section.key)
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": f"urn:aap:forms:{form.code}:v{form.version}:{ctx.year}",
        "title": form.title,
        **({"description": form.help} if form.help else {}),
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
        "x-form": {"code": form.code, "version": form.version, "year": ctx.year},
        "x-section-order": [s.key for s in form.sections],
        "x-title-field": form.title_field,
        "x-rules": [r.model_dump(exclude_defaults=True) for r in form.rules],
        **(
            {"x-gap-threshold": format(ctx.gap_threshold, "f")}
            if any(r.kind == "gap_explained" for r in form.rules)
            else {}
        ),
        "x-amount-format": 'chaîne décimale à deux décimales, ex. "1234.50" (nombres JSON acceptés)',
    }


class _Builder:
    def __init__(self, ctx: FormContext, in_year: set[str]):
        self.ctx = ctx
        self.in_year = in_year

    def object(self, fields: list[FieldDef], prefix: str) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        required: list[str] = []
        conditionals: list[dict[str, Any]] = []
        for f in fields:
            properties[f.key] = self.field(f, f"{prefix}.{f.key}")
            needed = f.required and not (f.type == "attachment" and f.scope == "organisation")
            if not needed:
                continue
            if f.shown_when is None:
                required.append(f.key)
            else:
                cond = f.shown_when
                conditionals.append(
                    {
                        "if": {"properties": {cond.field: {"const": cond.equals}}, "required": [cond.field]},
                        "then": {"required": [f.key]},
                    }
                )
        out: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
        if required:
            out["required"] = required
        if conditionals:
            out["allOf"] = conditionals
        out["x-order"] = [f.key for f in fields]
        return out

    def field(self, f: FieldDef, path: str) -> dict[str, Any]:
        schema = self.value(f, path)
        hints: dict[str, Any] = {"title": f.label}
        if f.help:
            hints["description"] = f.help
        schema = {**hints, **schema, "x-label": f.label, "x-widget": widget_of(f)}
        if f.help:
            schema["x-help"] = f.help
        if f.required:
            schema["x-required"] = True
        if f.shown_when is not None:
            parent = path.rsplit(".", 1)[0]
            schema["x-show-when"] = {
                "field": f.shown_when.field,
                "path": f"{parent}.{f.shown_when.field}",
                "equals": f.shown_when.equals,
            }
        if f.placeholder:
            schema["x-placeholder"] = f.placeholder
        return schema

    def value(self, f: FieldDef, path: str) -> dict[str, Any]:
        t = f.type
        if t in ("text", "textarea"):
            s: dict[str, Any] = {"type": "string"}
            if f.max_length:
                s["maxLength"] = f.max_length
            if f.pattern:
                s["pattern"] = f.pattern
            if f.required:
                s["minLength"] = 1
            return s
        if t == "email":
            return {"type": "string", "format": "email", "pattern": EMAIL_PATTERN}
        if t == "tel":
            return {"type": "string", "pattern": TEL_PATTERN}
        if t == "date":
            pattern = DATE_PATTERN
            generic = ".".join(p for p in path.split(".") if not p.isdigit())
            if generic in self.in_year:
                pattern = f"^{self.ctx.year}-[0-9]{{2}}-[0-9]{{2}}$"
            return {"type": "string", "format": "date", "pattern": pattern}
        if t == "integer":
            s = {"type": "integer"}
            if f.min is not None:
                s["minimum"] = int(f.min)
            if f.max is not None:
                s["maximum"] = int(f.max)
            return s
        if t == "amount":
            return self.amount(f)
        if t == "boolean":
            return {"type": "boolean", "const": True} if f.must_be_true else {"type": "boolean"}
        if t == "siret":
            return {"type": "string", "pattern": "^[0-9]{14}$", "x-check": "luhn"}
        if t == "rna":
            return {"type": "string", "pattern": "^W[0-9][0-9AB][0-9]{7}$"}
        if t == "choice":
            pairs = option_pairs(f, self.ctx)
            return {"type": "string", "enum": [v for v, _ in pairs], "x-options": _options(pairs)}
        if t == "multichoice":
            pairs = option_pairs(f, self.ctx)
            s = {
                "type": "array",
                "items": {"type": "string", "enum": [v for v, _ in pairs]},
                "uniqueItems": True,
                "x-options": _options(pairs),
            }
            if f.required:
                s["minItems"] = max(f.min_items or 0, 1)
            return s
        if t == "group":
            return self.object(f.fields or [], path)
        if t == "list":
            s = {"type": "array", "items": self.object(f.fields or [], f"{path}.0")}
            if f.required:
                s["minItems"] = max(f.min_items or 0, 1)
            if f.max_items:
                s["maxItems"] = f.max_items
            return s
        if t == "per_financeur":
            properties = {
                code: {"title": name, **self.amount(f), "x-label": name} for code, name in self.ctx.financeurs
            }
            s = {"type": "object", "properties": properties, "additionalProperties": False}
            if f.required:
                s["minProperties"] = 1
            s["x-order"] = list(properties)
            return s
        if t == "attachment":
            return {"type": "integer", "minimum": 1, "x-scope": f.scope}
        raise AssertionError(f"type non géré : {t}")  # pragma: no cover - Literal guards

    def amount(self, f: FieldDef) -> dict[str, Any]:
        s: dict[str, Any] = {"type": ["string", "number"], "pattern": AMOUNT_PATTERN, "minimum": 0}
        if f.type == "amount" and f.max is not None:
            s["maximum"] = float(f.max) if f.max != int(f.max) else int(f.max)
            s["x-maximum"] = str(f.max)
        return s


def _options(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"value": v, "label": label} for v, label in pairs]
