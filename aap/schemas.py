"""Shapes shared by the API: money as two-decimal strings, lists as {items, total}."""

from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, PlainSerializer, WithJsonSchema
from pydantic_core import PydanticCustomError

from workflows import money


def _parse_money(value: Any) -> Decimal:
    """The strict reader of `workflows.money`: a refused amount keeps its code and French reason."""
    try:
        return money.parse_amount(value)
    except money.AmountError as exc:
        raise PydanticCustomError(exc.code, exc.message) from exc


T = TypeVar("T")

Euros = Annotated[
    Decimal,
    BeforeValidator(_parse_money),
    PlainSerializer(money.wire, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^-?\d+\.\d{2}$",
            "description": "Montant en euros, chaîne décimale à deux décimales au plus (« 1234.50 ») ; "
            "les requêtes acceptent aussi un nombre JSON. Refusés : plus de deux décimales, un montant "
            "négatif, un exposant (« 1e3 »), NaN, l'infini.",
            "examples": ["1234.50"],
        }
    ),
]


def euros(d: Decimal | None) -> str | None:
    return None if d is None else money.wire(d)


# the 2xx answer of a download, for `responses=` (the bytes of the stored file)
BINARY: dict[str, Any] = {"type": "string", "format": "binary"}
FILE: dict[str, Any] = {
    "description": "Le fichier",
    "content": {"application/octet-stream": {"schema": BINARY}},
}


PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def file_of(*media_types: str, description: str = "Le fichier") -> dict[str, Any]:
    """The 2xx answer of a route that sends a file or a text of these types, for `responses=`."""
    return {
        "description": description,
        "content": {
            media_type: {"schema": {"type": "string"} if media_type.startswith("text/") else BINARY}
            for media_type in media_types
        },
    }


class Health(BaseModel):
    status: str


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
