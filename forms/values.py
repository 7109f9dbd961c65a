"""Parsing and formatting of scalar answers: amounts as exact decimals, ISO dates.

Amounts travel as strings with two decimals ("1234.50") so that no float ever touches money;
JSON numbers are tolerated on input and normalised. The reading and writing of euros is
`workflows.money`'s, the same for the API and the forms.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from workflows import money

CENT = money.CENT
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
AMOUNT_PATTERN = r"^\d{1,13}(\.\d{1,2})?$"
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


def parse_amount(value: object) -> Decimal | None:
    """A non-negative amount with at most two decimals, or None when the value is not one
    (`workflows.money` says why; the form's own messages name the field)."""
    return money.amount_or_none(value)


def format_amount(value: Decimal) -> str:
    """Canonical answer form: "1234.50"."""
    return money.wire(value)


def normalize_amount(value: object) -> object:
    """Canonical string for a valid amount; any other value is returned untouched (to be refused)."""
    parsed = parse_amount(value)
    return format_amount(parsed) if parsed is not None else value


def lenient_amount(text: str) -> str:
    """What a person types in a form ("1 234,5 €") turned into an answer string when possible."""
    return str(normalize_amount(money.from_typed(text)))


def french_amount(value: Decimal) -> str:
    """« 12 000,00 € » for messages people read."""
    return money.format_euros(value)


def parse_date(value: object) -> date | None:
    """An ISO calendar date ("2025-03-01"), or None."""
    if not isinstance(value, str) or not _DATE.match(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None
