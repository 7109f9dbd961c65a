"""Pure transformations of answers: merge a patch, normalise amounts, prefill, reconduct, read a form post.

All return new dicts; nothing here validates (that is validate.py) so a draft can hold a wrong
value that the porteur will correct, with the error shown next to it.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from forms.context import FormContext
from forms.definition import FieldDef, FormDef
from forms.values import lenient_amount, normalize_amount, parse_amount
from forms.walk import get_path, is_blank, option_pairs

FlatForm = Mapping[str, "str | list[str]"]


def merge(answers: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Deep merge by section and field: dicts merge, lists and scalars replace, None removes.

    The result is new wherever the patch reaches and shares the rest with `answers` (an autosave
    changes a field or two of a form of hundreds: copying it all was a tenth of its time). Neither is
    to be changed in place: code that changes answers copies what it changes first."""
    return _merged(answers, patch)


def _merged(base: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, Mapping):
            below = out.get(key)
            out[key] = _merged(below if isinstance(below, dict) else {}, value)
        else:
            out[key] = copy.deepcopy(value)  # the patch's own lists are not shared with the caller
    return out


def normalize(form: FormDef, answers: dict[str, Any]) -> dict[str, Any]:
    """Amounts given as JSON numbers become "1234.50" strings; invalid values are left for the checker.
    A new dict for the answers and each section; what holds no amount is shared with `answers`."""
    out = dict(answers)
    for section in form.sections:
        value = out.get(section.key)
        if isinstance(value, dict):
            out[section.key] = _normalized_fields(section.fields, value)
    return out


def _normalized_fields(fields: list[FieldDef], value: dict[str, Any]) -> dict[str, Any]:
    out = dict(value)
    for f in fields:
        v = out.get(f.key)
        if v is None:
            continue
        if f.type == "amount":
            out[f.key] = normalize_amount(v)
        elif f.type == "per_financeur" and isinstance(v, dict):
            out[f.key] = {code: normalize_amount(a) if a is not None else None for code, a in v.items()}
        elif f.type == "group" and isinstance(v, dict):
            out[f.key] = _normalized_fields(f.fields or [], v)
        elif f.type == "list" and isinstance(v, list):
            out[f.key] = [
                _normalized_fields(f.fields or [], item) if isinstance(item, dict) else item for item in v
            ]
    return out


def _set(answers: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node = answers
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value


def _leaves(form: FormDef) -> list[tuple[str, FieldDef]]:
    """(path, field) of every field outside lists, depth first, in definition order."""
    out: list[tuple[str, FieldDef]] = []

    def walk(fields: list[FieldDef], prefix: str) -> None:
        for f in fields:
            path = f"{prefix}.{f.key}"
            out.append((path, f))
            if f.type == "group":
                walk(f.fields or [], path)

    for s in form.sections:
        walk(s.fields, s.key)
    return out


def prefill(form: FormDef, organisation: Mapping[str, Any]) -> dict[str, Any]:
    """A new draft's answers from a source (the organisation profile, a dossier's answers…), through
    each field's ``prefill`` key; a list takes a list of rows, each row field its own ``prefill`` key
    in the source row (a bilan's budget lines from the dossier's, ``montant`` becoming ``prevu``)."""
    answers: dict[str, Any] = {}
    for path, f in _leaves(form):
        if not f.prefill:
            continue
        value = organisation.get(f.prefill)
        if is_blank(value):
            continue
        if f.type == "list":
            rows = _prefill_rows(f, value)
            if rows:
                _set(answers, path, rows)
            continue
        if isinstance(value, str):
            value = value.strip()
            if f.type in ("siret", "rna"):
                value = re.sub(r"\s", "", value).upper()
        if f.type == "choice" and f.options is not None and value not in {o.value for o in f.options}:
            continue
        _set(answers, path, value)
    return normalize(form, answers)


def _prefill_rows(f: FieldDef, value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        return []
    rows = []
    for source in value:
        if not isinstance(source, Mapping):
            continue
        row = {
            sub.key: copy.deepcopy(source[sub.prefill])
            for sub in f.fields or []
            if sub.prefill and not is_blank(source.get(sub.prefill))
        }
        if row:
            rows.append(row)
    return rows


def reconduct(form: FormDef, previous: dict[str, Any], ctx: FormContext) -> dict[str, Any]:
    """Next year's draft from last year's answers.

    Descriptions are kept so the porteur does not rewrite what still holds; dates, amounts and the
    attestation are dropped because they must be given again; financers and enumerations are kept
    only where the new campaign still has them.
    """
    out: dict[str, Any] = {}
    for section in form.sections:
        value = previous.get(section.key)
        if not section.reconduct or not isinstance(value, dict):
            continue
        kept = _reconduct_fields(section.fields, value, ctx)
        if kept:
            out[section.key] = kept
    return out


def _reconduct_fields(fields: list[FieldDef], value: dict[str, Any], ctx: FormContext) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields:
        if f.reconduct_value is not None:
            out[f.key] = f.reconduct_value
            continue
        v = value.get(f.key)
        if v is None or f.reconduct == "drop":
            continue
        if f.reconduct != "keep" and f.type in ("date", "amount"):
            continue
        kept = _reconduct_value(f, v, ctx)
        if not is_blank(kept):
            out[f.key] = kept
    return out


def _reconduct_value(f: FieldDef, v: Any, ctx: FormContext) -> Any:
    t = f.type
    if t == "group":
        return _reconduct_fields(f.fields or [], v, ctx) if isinstance(v, dict) else None
    if t == "list":
        if not isinstance(v, list):
            return None
        rows = [_reconduct_fields(f.fields or [], item, ctx) for item in v if isinstance(item, dict)]
        return [row for row in rows if row]
    if t == "per_financeur":
        codes = [code for code, _ in ctx.financeurs]
        return {code: "0.00" for code in codes if isinstance(v, dict) and code in v}
    if t in ("choice", "multichoice"):
        allowed = {code for code, _ in option_pairs(f, ctx)}
        if t == "choice":
            return v if v in allowed else None
        return [x for x in v if x in allowed] if isinstance(v, list) else None
    if t == "attachment":
        return v if f.scope == "organisation" else None
    return copy.deepcopy(v)


def requested_amounts(form: FormDef, answers: dict[str, Any], ctx: FormContext) -> dict[str, Decimal]:
    """Amount asked of each financer of the campaign (only those above zero), in the campaign's order."""
    req = form.requested
    names = [code for code, _ in ctx.financeurs]
    found: dict[str, Decimal] = {}
    if req is None:
        return found
    if req.per_financeur:
        lines = get_path(answers, req.per_financeur)
        if isinstance(lines, dict):
            for code in names:
                amount = parse_amount(lines.get(code))
                if amount is not None and amount > 0:
                    found[code] = amount.quantize(Decimal("0.01"))
    elif req.financeur and req.montant:
        code = get_path(answers, req.financeur)
        amount = parse_amount(get_path(answers, req.montant))
        if code in names and amount is not None and amount > 0:
            found[code] = amount.quantize(Decimal("0.01"))
    return found


def answers_from_form(
    form: FormDef, flat: FlatForm, ctx: FormContext, section: str | None = None
) -> dict[str, Any]:
    """Answers from an HTML form post whose input names are the dotted paths.

    Without ``section`` the result holds only what was filled. With ``section`` it is a *patch*
    for that section: every field of the section left empty is present with the value None, so
    ``merge(answers, patch)`` also clears what the porteur erased. Files (attachments) are not
    read here: uploads go through the service.
    """
    patch = section is not None
    out: dict[str, Any] = {}
    for s in form.sections:
        if section is not None and s.key != section:
            continue
        value = _read_fields(s.fields, flat, s.key, ctx, patch)
        if value:
            out[s.key] = value
    return out


def _read_fields(
    fields: list[FieldDef], flat: FlatForm, prefix: str, ctx: FormContext, patch: bool
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields:
        if f.type == "attachment":
            continue
        path = f"{prefix}.{f.key}"
        value = _read_field(f, flat, path, ctx, patch)
        if value is not None and not (isinstance(value, dict) and not value):
            out[f.key] = value
        elif patch:
            out[f.key] = None
    return out


def _read_field(f: FieldDef, flat: FlatForm, path: str, ctx: FormContext, patch: bool) -> Any:
    t = f.type
    if t == "group":
        value = _read_fields(f.fields or [], flat, path, ctx, patch)
        return value if any(v is not None for v in value.values()) or patch else None
    if t == "list":
        indexes = sorted(
            {int(m.group(1)) for name in flat if (m := re.match(re.escape(path) + r"\.(\d+)\.", name))}
        )
        rows = [_read_fields(f.fields or [], flat, f"{path}.{i}", ctx, False) for i in indexes]
        rows = [row for row in rows if row]
        return rows or None
    if t == "per_financeur":
        amounts: dict[str, Any] = {}
        for code, _ in ctx.financeurs:
            raw = _one(flat.get(f"{path}.{code}"))
            if raw:
                amounts[code] = lenient_amount(raw)
            elif patch:
                amounts[code] = None
        return amounts if any(v is not None for v in amounts.values()) or patch else None
    if t == "multichoice":
        raw_list = flat.get(path)
        items = [raw_list] if isinstance(raw_list, str) else list(raw_list or [])
        chosen = [x.strip() for x in items if x and x.strip()]
        return chosen or None
    raw = _one(flat.get(path))
    if not raw:
        return None
    return _typed(f, raw)


def _one(raw: str | list[str] | None) -> str:
    if isinstance(raw, list):
        raw = raw[-1] if raw else None
    return (raw or "").strip()


def _typed(f: FieldDef, raw: str) -> Any:
    t = f.type
    if t == "integer":
        cleaned = re.sub(r"\s", "", raw)
        return int(cleaned) if re.fullmatch(r"-?\d{1,15}", cleaned) else raw
    if t == "amount":
        return lenient_amount(raw)
    if t == "boolean":
        lowered = raw.lower()
        if lowered in ("true", "on", "1", "oui"):
            return True
        if lowered in ("false", "off", "0", "non"):
            return False
        return raw
    if t == "siret":
        return re.sub(r"\s", "", raw)
    if t == "rna":
        return re.sub(r"\s", "", raw).upper()
    if t == "textarea":
        return raw.replace("\r\n", "\n")
    return raw
