"""Parsing and formatting of scalar answers: amounts as exact decimals, ISO dates.

Amounts travel as strings with two decimals ("1234.50") so that no float ever touches money;
JSON numbers are tolerated on input and normalised.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

CENT = Decimal("0.01")
_AMOUNT = re.compile(r"^\d{1,13}(\.\d{1,2})?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
AMOUNT_PATTERN = r"^\d{1,13}(\.\d{1,2})?$"
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


def parse_amount(value: object) -> Decimal | None:
    """A non-negative amount with at most two decimals, or None when the value is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value) if value >= 0 else None
    if isinstance(value, float):
        text = repr(value)
        if "e" in text or "inf" in text or "nan" in text:
            return None
        text = text[:-2] if text.endswith(".0") else text
        return parse_amount(text)
    if isinstance(value, Decimal):
        return parse_amount(format(value, "f"))
    if isinstance(value, str) and _AMOUNT.match(value):
        try:
            return Decimal(value)
        except InvalidOperation:  # pragma: no cover - the pattern already guards
            return None
    return None


def format_amount(value: Decimal) -> str:
    """Canonical answer form: "1234.50"."""
    return format(value.quantize(CENT), "f")


def normalize_amount(value: object) -> object:
    """Canonical string for a valid amount; any other value is returned untouched (to be refused)."""
    parsed = parse_amount(value)
    return format_amount(parsed) if parsed is not None else value


def lenient_amount(text: str) -> str:
    """What a person types in a form ("1 234,5 €") turned into an answer string when possible."""
    cleaned = text.replace("\u202f", "").replace("\u00a0", "").replace(" ", "").replace("€", "")
    cleaned = cleaned.replace(",", ".")
    return str(normalize_amount(cleaned))


def french_amount(value: Decimal) -> str:
    """« 12 000,00 € » for messages people read."""
    sign = "-" if value < 0 else ""
    whole, _, cents = format_amount(abs(value)).partition(".")
    groups: list[str] = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    thousands = "\u202f".join(groups) or "0"
    return f"{sign}{thousands},{cents}\u00a0€"


def parse_date(value: object) -> date | None:
    """An ISO calendar date ("2025-03-01"), or None."""
    if not isinstance(value, str) or not _DATE.match(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None
