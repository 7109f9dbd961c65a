"""Where a dossier's QPV, orientation and budget sit in its answers, read from its form definition.

The fields whose options come from `qpvs` / `orientations`, and the left side of the form's `balance`
rule: another form needs no code. Read by the list columns (`aap.dossiers.search_columns`) and the
programme table (`aap.financing.programmation`).
"""

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from aap.models import Dossier
from forms import load_form
from forms.definition import FieldDef, FormDef
from forms.values import parse_amount
from forms.walk import get_path

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class FormPaths:
    qpv: str | None
    orientation: str | None
    budget: tuple[str, ...]


def _walk(fields: list[FieldDef], prefix: str) -> Iterator[tuple[str, FieldDef]]:
    for f in fields:
        path = f"{prefix}.{f.key}"
        yield path, f
        if f.type == "group" and f.fields:
            yield from _walk(f.fields, path)


def paths_of(form: FormDef) -> FormPaths:
    found: dict[str, str] = {}
    for section in form.sections:
        for path, f in _walk(section.fields, section.key):
            if f.options_from in ("qpvs", "orientations"):
                found.setdefault(f.options_from, path)
    balance = next((r for r in form.rules if r.kind == "balance"), None)
    return FormPaths(found.get("qpvs"), found.get("orientations"), tuple(balance.left) if balance else ())


@lru_cache(maxsize=32)
def _paths(form_code: str, form_version: int) -> FormPaths:
    return paths_of(load_form(form_code, form_version).definition)


def _sum_amounts(value: Any) -> Decimal:
    if isinstance(value, list):
        return sum((_sum_amounts(v.get("montant") if isinstance(v, dict) else v) for v in value), ZERO)
    if isinstance(value, dict):
        return sum((_sum_amounts(v) for v in value.values()), ZERO)
    amount = parse_amount(value)
    return amount if amount is not None else ZERO


def has_budget(dossier: Dossier) -> bool:
    return bool(_paths(dossier.form_code, dossier.form_version).budget)


def answered_budget(dossier: Dossier) -> Decimal | None:
    """Total des charges from the answers (None when the form has no budget or it is empty)."""
    answers = dossier.answers or {}
    paths = _paths(dossier.form_code, dossier.form_version).budget
    total = sum((_sum_amounts(get_path(answers, p)) for p in paths), ZERO)
    return total.quantize(Decimal("0.01")) if total else None


def qpvs_of(dossier: Dossier) -> list[str]:
    path = _paths(dossier.form_code, dossier.form_version).qpv
    value = get_path(dossier.answers or {}, path) if path else None
    if isinstance(value, str) and value:
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def orientation_of(dossier: Dossier) -> str | None:
    path = _paths(dossier.form_code, dossier.form_version).orientation
    value = get_path(dossier.answers or {}, path) if path else None
    if isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, str) and value else None
