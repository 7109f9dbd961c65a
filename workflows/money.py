"""Euros: one strict reader for what the API and the forms receive, one French writer for what people read.

Money is `Decimal`, two decimals, never float. The reader refuses rather than guesses: more than two
decimals, a negative amount, an exponent (`1e3`), `NaN` or an infinity each get a French message and a
stable code (nothing is silently rounded). The writer is Babel's French currency format
(« 12 000,00 € », narrow no-break space between thousands, no-break space before the sign), so an
amount never wraps and every page, letter and message writes it the same way.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel.numbers import format_currency, format_decimal

__all__ = [
    "CENT",
    "MAX_DIGITS",
    "AmountError",
    "amount_or_none",
    "format_euros",
    "format_number",
    "from_typed",
    "parse_amount",
    "wire",
]

CENT = Decimal("0.01")
MAX_DIGITS = 13  # euros before the comma: ten thousand billion is not a subsidy
LOCALE = "fr_FR"
_PLAIN = re.compile(r"^-?\d+(\.\d+)?$")
EXAMPLE = "montant attendu (par exemple « 1234.50 »)"


class AmountError(ValueError):
    """A value that is not an amount of euros; `code` for programs, the message for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _text_of(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise AmountError("montant_invalide", EXAMPLE)
    if isinstance(value, float):
        return repr(value)  # 12.345 stays 12.345: a float is read as the JSON text it came from
    if isinstance(value, Decimal):
        return format(value, "f") if value.is_finite() else str(value)
    return str(value).strip()


def parse_amount(value: object) -> Decimal:
    """The amount, two decimals; raises `AmountError` with the French reason when it is not one."""
    text = _text_of(value)
    lowered = text.lower()
    if lowered.lstrip("+-") in ("nan", "snan", "inf", "infinity"):
        raise AmountError("montant_invalide", "Ce n'est pas un montant : écrivez un nombre d'euros.")
    if "e" in lowered and re.fullmatch(r"-?\d+(\.\d+)?e[+-]?\d+", lowered):
        raise AmountError(
            "montant_exposant", "Écrivez le montant en chiffres, sans exposant (« 1000 » et non « 1e3 »)."
        )
    if not _PLAIN.match(text):
        raise AmountError("montant_invalide", EXAMPLE)
    if text.startswith("-"):
        raise AmountError("montant_negatif", "Un montant ne peut pas être négatif.")
    whole, _, decimals = text.lstrip("-").partition(".")
    if len(decimals) > 2:
        raise AmountError(
            "montant_trop_de_decimales", f"Un montant a au plus deux décimales (les centimes) : « {text} »."
        )
    if len(whole.lstrip("0")) > MAX_DIGITS:
        raise AmountError("montant_trop_grand", "Ce montant dépasse ce que l'application accepte.")
    try:
        return Decimal(text).quantize(CENT)
    except InvalidOperation as exc:  # pragma: no cover - the pattern already guards
        raise AmountError("montant_invalide", EXAMPLE) from exc


def amount_or_none(value: object) -> Decimal | None:
    """The amount, or None when `value` is not one (for the forms, which gather every error first)."""
    try:
        return parse_amount(value)
    except AmountError:
        return None


def from_typed(text: str) -> str:
    """What a person types in a form (« 1 234,5 € ») as the plain text the strict reader takes."""
    for space in ("\u202f", "\u00a0", " "):
        text = text.replace(space, "")
    return text.replace("€", "").replace(",", ".")


def wire(amount: Decimal) -> str:
    """The API's and the answers' form of an amount: « 1234.50 »."""
    return format(amount.quantize(CENT, rounding=ROUND_HALF_UP), "f")


def _cents(amount: Decimal) -> Decimal:
    if isinstance(amount, float):
        raise TypeError("money must be Decimal, not float")
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def format_euros(amount: Decimal) -> str:
    """« 12 000,00 € » for people (rounded half up to the cent)."""
    return format_currency(_cents(amount), "EUR", locale=LOCALE)


def format_number(amount: Decimal) -> str:
    """« 12 000,00 » for a table whose column header already says €."""
    return format_decimal(_cents(amount), format="#,##0.00", locale=LOCALE)
