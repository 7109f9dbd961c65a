"""One reader and one writer of euros for the API, the forms, the pages and the messages."""

from decimal import Decimal

import pytest

from forms.values import lenient_amount, parse_amount
from workflows.money import AmountError, format_euros, format_number, from_typed, wire
from workflows.money import parse_amount as strict


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12", "12.00"),
        (12, "12.00"),
        ("12.3", "12.30"),
        (12.5, "12.50"),
        ("0", "0.00"),
        ("1234.50", "1234.50"),
    ],
)
def test_amounts_are_read_exactly(value: object, expected: str) -> None:
    assert strict(value) == Decimal(expected)
    assert parse_amount(value) == Decimal(expected)  # the forms read the same way


@pytest.mark.parametrize(
    ("value", "code", "words"),
    [
        ("12.345", "montant_trop_de_decimales", "deux décimales"),
        (12.345, "montant_trop_de_decimales", "deux décimales"),
        ("12.300", "montant_trop_de_decimales", "deux décimales"),
        ("-5", "montant_negatif", "négatif"),
        (-5, "montant_negatif", "négatif"),
        ("1e3", "montant_exposant", "exposant"),
        (1e20, "montant_exposant", "exposant"),
        ("NaN", "montant_invalide", "pas un montant"),
        (float("nan"), "montant_invalide", "pas un montant"),
        (float("inf"), "montant_invalide", "pas un montant"),
        ("-Infinity", "montant_invalide", "pas un montant"),
        ("beaucoup", "montant_invalide", "montant attendu"),
        (True, "montant_invalide", "montant attendu"),
        ("12345678901234", "montant_trop_grand", "dépasse"),
    ],
)
def test_what_is_not_an_amount_is_refused_with_its_french_reason(
    value: object, code: str, words: str
) -> None:
    with pytest.raises(AmountError) as refused:
        strict(value)
    assert refused.value.code == code and words in refused.value.message
    assert parse_amount(value) is None


def test_what_people_type_is_read_after_removing_spaces_and_the_euro_sign() -> None:
    assert from_typed("1 234,5 €") == "1234.5"
    assert lenient_amount("1\u202f234,50\u00a0€") == "1234.50"
    assert lenient_amount("12,345") == "12.345"  # left as typed: the strict reader refuses it


def test_one_french_writer() -> None:
    assert format_euros(Decimal("1234567.891")) == "1\u202f234\u202f567,89\u00a0€"
    assert format_number(Decimal("1234.5")) == "1\u202f234,50"
    assert wire(Decimal("7")) == "7.00"
    with pytest.raises(TypeError):
        format_euros(1.5)  # type: ignore[arg-type]
