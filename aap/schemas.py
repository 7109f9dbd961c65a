"""Shapes shared by the API: money as two-decimal strings, lists as {items, total}."""

from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, PlainSerializer, WithJsonSchema

from aap.types import to_money


def _parse_money(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("montant attendu")
    try:
        return to_money(value)
    except Exception as exc:
        raise ValueError("montant attendu (par exemple « 1234.50 »)") from exc


T = TypeVar("T")

Euros = Annotated[
    Decimal,
    BeforeValidator(_parse_money),
    PlainSerializer(lambda d: f"{d:.2f}", return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^-?\d+\.\d{2}$",
            "description": "Montant en euros, chaîne décimale à deux décimales (« 1234.50 ») ; "
            "les requêtes acceptent aussi un nombre JSON.",
            "examples": ["1234.50"],
        }
    ),
]


def euros(d: Decimal | None) -> str | None:
    return None if d is None else f"{d:.2f}"


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
