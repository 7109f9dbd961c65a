"""Server-side validation of answers against a definition.

Two strengths: *partial* (saving a draft: only what is written must be right) and *complete*
(dépôt: every required answer present, plus the cross-field rules). One walk serves both so
the two can never disagree on what a valid value is.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from forms.context import FormContext
from forms.definition import FieldDef, FormDef, RuleDef
from forms.errors import FieldError
from forms.siret import rna_valid, siret_valid
from forms.values import french_amount, parse_amount, parse_date
from forms.walk import get_path, is_blank, label_of, option_pairs, shown

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
TEL_PATTERN = r"^\+?[0-9][0-9 .\-]{8,18}[0-9]$"
_EMAIL = re.compile(EMAIL_PATTERN)
_TEL = re.compile(TEL_PATTERN)


def check(form: FormDef, answers: Any, ctx: FormContext, complete: bool) -> list[FieldError]:
    """Every problem of ``answers``; with ``complete`` also missing answers and cross-field rules."""
    return _Checker(form, ctx, complete).run(answers)


def rule_totals(
    form: FormDef, rule: RuleDef, answers: dict[str, Any], ctx: FormContext
) -> tuple[Decimal | None, Decimal | None]:
    """The two sides of an amounts rule (`balance`, `not_above`) as the check adds them up; None for a
    side holding an unreadable amount. The form's pages show these totals (`forms/render.py`)."""
    checker = _Checker(form, ctx, complete=True)
    return checker.total(rule.left, answers, rule.column), checker.total(rule.right, answers, rule.column)


class _Checker:
    def __init__(self, form: FormDef, ctx: FormContext, complete: bool):
        self.form = form
        self.ctx = ctx
        self.complete = complete
        self.errors: list[FieldError] = []

    def err(self, path: str, code: str, label: str, detail: str) -> None:
        self.errors.append(FieldError(path, code, f"{label} : {detail}"))

    def run(self, answers: Any) -> list[FieldError]:
        if not isinstance(answers, dict):
            self.err("", "type", "Réponses", "un objet JSON est attendu")
            return self.errors
        for key in answers:
            if self.form.section(key) is None:
                self.err(str(key), "unknown_field", f"« {key} »", "rubrique inconnue dans ce formulaire")
        for section in self.form.sections:
            value = answers.get(section.key)
            if value is None:
                value = {}
            if not isinstance(value, dict):
                self.err(section.key, "type", section.label, "un objet est attendu")
                continue
            self.fields(section.fields, value, section.key, "")
        if self.complete:
            for rule in self.form.rules:
                self.rule(rule, answers)
        return self.errors

    def fields(self, fields: list[FieldDef], value: dict[str, Any], prefix: str, where: str) -> None:
        known = {f.key for f in fields}
        for key in value:
            if key not in known:
                self.err(f"{prefix}.{key}", "unknown_field", f"« {key} »", "champ inconnu dans ce formulaire")
        for f in fields:
            path = f"{prefix}.{f.key}"
            v = value.get(f.key)
            label = where + (f.short_label or f.label)
            if is_blank(v):
                if self.complete and f.required and shown(f, value):
                    self.missing(f, path, label)
                continue
            self.field(f, v, path, label)

    def missing(self, f: FieldDef, path: str, label: str) -> None:
        if f.type == "group":
            self.fields(f.fields or [], {}, path, label + " — ")
        elif f.type == "attachment" and f.scope == "organisation":
            return  # kept once per organisation: the service checks the organisation's files
        elif f.type == "list":
            self.err(path, "required", label, "au moins une ligne est attendue")
        elif f.type == "per_financeur":
            self.err(path, "required", label, "indiquez le montant demandé à au moins un financeur")
        elif f.type == "multichoice":
            self.err(path, "required", label, "choisissez au moins une valeur")
        else:
            self.err(path, "required", label, "champ obligatoire")

    def field(self, f: FieldDef, v: Any, path: str, label: str) -> None:
        t = f.type
        if t == "group":
            if not isinstance(v, dict):
                self.err(path, "type", label, "un objet est attendu")
            else:
                self.fields(f.fields or [], v, path, label + " — ")
        elif t == "list":
            self.lines(f, v, path, label)
        elif t == "per_financeur":
            self.per_financeur(f, v, path, label)
        elif t == "multichoice":
            self.multichoice(f, v, path, label)
        else:
            self.scalar(f, v, path, label)

    def lines(self, f: FieldDef, v: Any, path: str, label: str) -> None:
        if not isinstance(v, list):
            self.err(path, "type", label, "une liste de lignes est attendue")
            return
        if f.max_items is not None and len(v) > f.max_items:
            self.err(path, "max_items", label, f"{f.max_items} lignes au plus")
        if self.complete and f.min_items and len(v) < f.min_items:
            self.err(path, "min_items", label, f"{f.min_items} ligne(s) au moins")
        for i, item in enumerate(v):
            item_path = f"{path}.{i}"
            if not isinstance(item, dict):
                self.err(item_path, "type", f"{label}, ligne {i + 1}", "un objet est attendu")
            else:
                self.fields(f.fields or [], item, item_path, f"{label}, ligne {i + 1} — ")

    def per_financeur(self, f: FieldDef, v: Any, path: str, label: str) -> None:
        if not isinstance(v, dict):
            self.err(path, "type", label, "un montant par financeur est attendu")
            return
        names = dict(self.ctx.financeurs)
        positive = False
        for code, amount in v.items():
            if code not in names:
                self.err(
                    f"{path}.{code}",
                    "unknown_field",
                    label,
                    f"financeur non sollicité par cet appel (« {code} »)",
                )
                continue
            if amount is None:
                continue
            parsed = parse_amount(amount)
            if parsed is None:
                self.err(f"{path}.{code}", "amount", f"{label} — {names[code]}", _AMOUNT_HELP)
            elif parsed > 0:
                positive = True
        if self.complete and f.required and not positive:
            self.missing(f, path, label)

    def multichoice(self, f: FieldDef, v: Any, path: str, label: str) -> None:
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            self.err(path, "type", label, "une liste de valeurs est attendue")
            return
        allowed = {code for code, _ in option_pairs(f, self.ctx)}
        for i, x in enumerate(v):
            if x not in allowed:
                self.err(f"{path}.{i}", "choice", label, f"valeur non proposée (« {x} »)")
        if len(set(v)) != len(v):
            self.err(path, "duplicate", label, "une même valeur est choisie deux fois")
        if self.complete and f.min_items and len(v) < f.min_items:
            self.err(path, "min_items", label, f"choisissez au moins {f.min_items} valeur(s)")

    def scalar(self, f: FieldDef, v: Any, path: str, label: str) -> None:
        t = f.type
        if t == "integer":
            if isinstance(v, bool) or not isinstance(v, int):
                self.err(path, "integer", label, "nombre entier attendu")
            else:
                self.bounds(f, Decimal(v), path, label)
        elif t == "amount":
            parsed = parse_amount(v)
            if parsed is None:
                self.err(path, "amount", label, _AMOUNT_HELP)
            else:
                self.bounds(f, parsed, path, label)
        elif t == "boolean":
            self.boolean(f, v, path, label)
        elif t == "attachment":
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                self.err(path, "attachment", label, "référence de pièce jointe invalide")
        elif not isinstance(v, str):
            self.err(path, "type", label, "texte attendu")
        else:
            self.text(f, v, path, label)

    def boolean(self, f: FieldDef, v: Any, path: str, label: str) -> None:
        if not isinstance(v, bool):
            self.err(path, "boolean", label, "oui ou non attendu")
        elif self.complete and f.must_be_true and v is not True:
            self.err(path, "must_be_true", label, "cet engagement doit être coché")

    def text(self, f: FieldDef, v: str, path: str, label: str) -> None:
        t = f.type
        if f.max_length is not None and len(v) > f.max_length:
            self.err(path, "max_length", label, f"{f.max_length} caractères au plus, {len(v)} saisis")
        if f.pattern is not None and not re.search(f.pattern, v):
            self.err(path, "pattern", label, f.pattern_message or "format non reconnu")
        if t == "email" and not _EMAIL.match(v):
            self.err(path, "email", label, "adresse de courriel invalide")
        elif t == "tel" and not (_TEL.match(v) and 10 <= sum(c.isdigit() for c in v) <= 15):
            self.err(path, "tel", label, "numéro de téléphone invalide (10 chiffres attendus)")
        elif t == "date" and parse_date(v) is None:
            self.err(path, "date", label, "date attendue au format AAAA-MM-JJ")
        elif t == "siret":
            self.siret(v, path, label)
        elif t == "rna" and not rna_valid(v):
            self.err(path, "rna", label, "W suivi de 9 chiffres attendu (ex. W043001234)")
        elif t == "choice":
            allowed = {code for code, _ in option_pairs(f, self.ctx)}
            if v not in allowed:
                self.err(path, "choice", label, f"valeur non proposée (« {v} »)")

    def siret(self, v: str, path: str, label: str) -> None:
        if not (v.isascii() and v.isdigit()):
            self.err(path, "siret", label, "seuls des chiffres sont attendus, sans espace")
        elif len(v) != 14:
            self.err(path, "siret", label, f"14 chiffres attendus, {len(v)} reçus")
        elif not siret_valid(v):
            self.err(path, "siret_checksum", label, "numéro invalide (la clé de contrôle ne correspond pas)")

    def bounds(self, f: FieldDef, value: Decimal, path: str, label: str) -> None:
        money = f.type == "amount"
        if f.min is not None and value < f.min:
            shown_min = french_amount(f.min) if money else f"{f.min}"
            self.err(path, "min", label, f"{shown_min} au moins")
        if f.max is not None and value > f.max:
            shown_max = french_amount(f.max) if money else f"{f.max}"
            self.err(path, "max", label, f"{shown_max} au plus")

    # cross-field rules (complete only)

    def rule(self, rule: RuleDef, answers: dict[str, Any]) -> None:
        label = label_of(self.form, rule.path)
        if rule.kind == "gap_explained":
            self.gaps(rule, answers)
        elif rule.kind == "sum_equals":
            left = self.total(rule.left, answers, rule.column)
            right = self.total(rule.right, answers, rule.column)
            if left is not None and right is not None and left != right:
                detail = (
                    f"le {rule.label_left} ({_count(left)}) ne correspond pas au {rule.label_right} "
                    f"({_count(right)})"
                )
                self.err(rule.path, rule.code, label, detail)
        elif rule.kind in ("balance", "not_above"):
            left = self.total(rule.left, answers, rule.column)
            right = self.total(rule.right, answers, rule.column)
            if left is None or right is None:
                return
            if rule.kind == "balance" and left != right:
                detail = (
                    f"budget non équilibré, {rule.label_left} {french_amount(left)} "
                    f"pour un {rule.label_right} de {french_amount(right)}"
                )
                self.err(rule.path, rule.code, label, detail)
            if rule.kind == "not_above" and left > right:
                detail = f"le {rule.label_left} ({french_amount(left)}) dépasse le {rule.label_right} ({french_amount(right)})"
                self.err(rule.path, rule.code, label, detail)
        elif rule.kind == "date_order" and rule.start and rule.end:
            start = parse_date(get_path(answers, rule.start))
            end = parse_date(get_path(answers, rule.end))
            if start and end and start > end:
                self.err(
                    rule.path,
                    rule.code,
                    label,
                    f"la date de fin précède la date de début ({start.isoformat()})",
                )
        elif rule.kind == "date_in_year" and rule.field:
            day = parse_date(get_path(answers, rule.field))
            if day and day.year != self.ctx.year:
                self.err(rule.path, rule.code, label, f"l'action doit commencer en {self.ctx.year}")

    def gaps(self, rule: RuleDef, answers: dict[str, Any]) -> None:
        """Each line whose réalisé moves from its prévu by more than the threshold needs its why."""
        rows = get_path(answers, rule.path)
        if not isinstance(rows, list) or not (rule.planned and rule.actual and rule.explanation):
            return
        list_label = label_of(self.form, rule.path)
        explanation_label = label_of(self.form, f"{rule.path}.{rule.explanation}")
        threshold = self.ctx.gap_threshold
        for i, row in enumerate(rows):
            if not isinstance(row, dict) or not is_blank(row.get(rule.explanation)):
                continue
            planned = parse_amount(row.get(rule.planned)) or Decimal(0)
            actual = parse_amount(row.get(rule.actual))
            if actual is None or not gap_exceeds(planned, actual, threshold):
                continue
            self.err(
                f"{rule.path}.{i}.{rule.explanation}",
                rule.code,
                f"{list_label}, ligne {i + 1} — {explanation_label}",
                f"le réalisé ({french_amount(actual)}) s'écarte de plus de {percent(threshold)} du prévu "
                f"({french_amount(planned)}) : expliquez l'écart",
            )

    def total(self, paths: list[str], answers: dict[str, Any], column: str = "montant") -> Decimal | None:
        """Sum of the amounts (or counts) at ``paths``, a list's lines read in ``column``; None when one
        of them is unreadable (already reported)."""
        total = Decimal(0)
        for path in paths:
            f = self.form.field_at(path)
            value = get_path(answers, path)
            if f is None or is_blank(value):
                continue
            if f.type == "list" and isinstance(value, list):
                amounts = [item.get(column) if isinstance(item, dict) else None for item in value]
            elif f.type == "per_financeur" and isinstance(value, dict):
                names = dict(self.ctx.financeurs)
                amounts = [a for code, a in value.items() if code in names and a is not None]
            else:
                amounts = [value]
            for amount in amounts:
                if is_blank(amount):
                    continue
                parsed = parse_amount(amount)
                if parsed is None:
                    return None
                total += parsed
        return total


def gap_exceeds(planned: Decimal, actual: Decimal, threshold: Decimal) -> bool:
    """Whether réalisé moved from prévu by more than ``threshold`` (a share: 0.15); any réalisé on a
    line with nothing planned counts as a gap."""
    if planned == 0:
        return actual != 0
    return abs(actual - planned) > threshold * planned


def _count(value: Decimal) -> str:
    """A count read through the amount parser, shown as people count: « 48 », not « 48.00 »."""
    return str(int(value)) if value == value.to_integral_value() else format(value, "f")


def percent(share: Decimal) -> str:
    """« 15 % » for messages people read."""
    value = (share * 100).normalize()
    return f"{value:f}".replace(".", ",") + "\u00a0%"


_AMOUNT_HELP = "montant en euros attendu, positif, avec au plus deux décimales (ex. 1234.50)"
