"""Pydantic validation of a located document, with every error translated into French.

Pydantic stops at nothing: it collects all field errors at once. We add the cross checks
(unique codes, references) on the raw data, so one run shows *every* mistake of the file.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Callable, Hashable, Iterator, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationError

from aap.rules_files.yaml_locations import Loc, LocatedDocument, LocatedError, RulesFileError, format_path


class RulesModel(BaseModel):
    """Base of the file models: unknown fields are errors; a parsed file remembers its lines."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    _source: str = PrivateAttr(default="<données>")
    _lines: dict[str, int] = PrivateAttr(default_factory=dict)

    @property
    def source(self) -> str:
        """The file name (or the ``source`` given for parsed data), as shown in error messages."""
        return self._source

    def line_of(self, path: str) -> int | None:
        """The line of ``path`` (``"financeurs[1].code"``), or of its nearest ancestor; None without a file.

        For checks made after parsing (the loader's), so their errors point at the file too.
        """
        while path:
            if path in self._lines:
                return self._lines[path]
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""
        return self._lines.get("")


M = TypeVar("M", bound=RulesModel)

# --- formats, with what to tell people when a value does not match -------------------------------

SLUG = r"^[a-z0-9][a-z0-9-]*$"
CODE_SNAKE = r"^[a-z0-9][a-z0-9_]*$"
CODE_UPPER = r"^[A-Z0-9][A-Z0-9_]*$"
INSEE = r"^(\d{5}|2[AB]\d{3})$"
QPV_CODE = r"^[A-Z0-9]+$"
ORIENTATION_CODE = r"^[A-Za-z0-9]+(\.[A-Za-z0-9]+)*$"
DATE_NAME = r"^[a-z][a-z0-9_]*$"
SIRET = r"^\d{14}$"

PATTERN_HINTS = {
    SLUG: "minuscules, chiffres et tirets (ex. « dlva-2027-fonctionnement »)",
    CODE_SNAKE: "minuscules, chiffres et « _ » (ex. « egalite_femmes_hommes »)",
    CODE_UPPER: "majuscules, chiffres et « _ » (ex. « ETAT », « CAF_04 »)",
    INSEE: 'code INSEE à 5 caractères, entre guillemets (ex. "04112")',
    QPV_CODE: "majuscules et chiffres (ex. « QN00401M »)",
    ORIENTATION_CODE: "lettres et chiffres séparés par des points (ex. « A », « A.1 », « A.1.2 »)",
    DATE_NAME: "minuscules, chiffres et « _ » (ex. « depot_cloture »)",
    SIRET: 'SIRET à 14 chiffres, entre guillemets (ex. "21040112600019")',
}


# --- translating pydantic errors -------------------------------------------------------------------


def _show(value: Any) -> str:
    """A short rendering of the wrong value, or '' when it would not help."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float) or hasattr(value, "isoformat"):
        return str(value)
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "…"
        return f"« {text} »"
    return ""


def _with_value(message: str, value: Any) -> str:
    shown = _show(value)
    return f"{shown} : {message}" if shown else message


def _unwrap(annotation: Any) -> Any:
    """Strip Optional / Annotated to reach a model or a list."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def _annotation_at(model: type[BaseModel], loc: Sequence[str | int]) -> Any:
    """The declared type at ``loc`` inside ``model`` (None when it cannot be followed)."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(part, str) and isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part)
            if field is None:
                return None
            current = field.annotation
        elif typing.get_origin(current) in (list, tuple) and isinstance(part, int):
            current = typing.get_args(current)[0]
        elif typing.get_origin(current) is dict:
            current = typing.get_args(current)[1]
        else:
            return None
    return _unwrap(current)


def _allowed_fields(model: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    target = _annotation_at(model, loc)
    if isinstance(target, type) and issubclass(target, BaseModel):
        return list(target.model_fields)
    return []


def _expected_values(model: type[BaseModel], loc: Sequence[str | int], ctx: dict[str, Any]) -> str:
    target = _annotation_at(model, loc)
    if typing.get_origin(target) is typing.Literal:
        return ", ".join(str(a) for a in typing.get_args(target))
    expected = str(ctx.get("expected", ""))
    return re.sub(r"'([^']*)'", r"\1", expected).replace(" or ", ", ")


def french_message(error: Any, model: type[BaseModel]) -> str:
    """The French message for one pydantic error (its dict from ``ValidationError.errors()``)."""
    kind: str = error["type"]
    loc: tuple[str | int, ...] = tuple(error["loc"])
    ctx: dict[str, Any] = error.get("ctx") or {}
    value = error.get("input")

    if kind == "missing":
        return "champ obligatoire"
    if kind == "extra_forbidden":
        name = str(loc[-1]) if loc else "?"
        allowed = _allowed_fields(model, loc[:-1])
        close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
        hint = f" (vouliez-vous dire « {close[0]} » ?)" if close else ""
        listed = f" ; champs possibles : {', '.join(allowed)}" if allowed else ""
        return f"champ inconnu « {name} »{hint}{listed}"
    if kind in ("model_type", "model_attributes_type", "dict_type", "mapping_type"):
        return "bloc de champs attendu (lignes « nom: valeur »)"
    if kind in ("list_type", "tuple_type", "iterable_type"):
        return "liste attendue (lignes commençant par « - »)"
    if kind in ("int_type", "int_parsing"):
        return _with_value("nombre entier attendu", value)
    if kind == "int_from_float":
        return _with_value("nombre entier attendu, sans décimales", value)
    if kind in ("float_type", "float_parsing"):
        return _with_value("nombre attendu", value)
    if kind in ("decimal_type", "decimal_parsing"):
        return _with_value("montant attendu, par ex. « 15000.00 »", value)
    if kind == "decimal_max_places":
        n = ctx.get("decimal_places", 2)
        return _with_value(f"au plus {n} décimale{'s' if n != 1 else ''}", value)
    if kind in ("decimal_max_digits", "decimal_whole_digits"):
        return _with_value("montant trop grand", value)
    if kind == "finite_number":
        return _with_value("nombre fini attendu", value)
    if kind.startswith("date") or kind.startswith("datetime"):
        if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}$", value):
            return _with_value("date impossible (ce jour n'existe pas)", value)
        return _with_value("date attendue au format AAAA-MM-JJ (ex. 2027-01-15)", value)
    if kind in ("bool_type", "bool_parsing"):
        return _with_value("valeur true ou false attendue", value)
    if kind in ("literal_error", "enum"):
        return _with_value(
            f"valeur non admise ; valeurs possibles : {_expected_values(model, loc, ctx)}", value
        )
    if kind == "greater_than":
        return _with_value(f"doit être supérieur à {ctx.get('gt')}", value)
    if kind == "greater_than_equal":
        ge = ctx.get("ge")
        return _with_value(
            "ne doit pas être négatif" if ge == 0 else f"doit être supérieur ou égal à {ge}", value
        )
    if kind == "less_than":
        return _with_value(f"doit être inférieur à {ctx.get('lt')}", value)
    if kind == "less_than_equal":
        return _with_value(f"doit être inférieur ou égal à {ctx.get('le')}", value)
    if kind == "string_type":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return _with_value("texte attendu (mettez la valeur entre guillemets)", value)
        return "texte attendu"
    if kind == "string_too_short":
        n = ctx.get("min_length", 1)
        return "ne doit pas être vide" if n == 1 else f"au moins {n} caractères"
    if kind == "string_too_long":
        return f"trop long : au plus {ctx.get('max_length')} caractères"
    if kind == "string_pattern_mismatch":
        hint = PATTERN_HINTS.get(str(ctx.get("pattern")), f"motif {ctx.get('pattern')}")
        return _with_value(f"format invalide, attendu : {hint}", value)
    if kind == "too_short":
        n = ctx.get("min_length", 1)
        return f"au moins {n} élément{'s' if n != 1 else ''} attendu{'s' if n != 1 else ''}"
    if kind == "too_long":
        return f"au plus {ctx.get('max_length')} éléments"
    if kind in ("value_error", "assertion_error"):
        err = ctx.get("error")
        return str(err) if err is not None else str(error.get("msg", ""))
    return str(error.get("msg", "valeur invalide"))


def translate(exc: ValidationError, model: type[BaseModel], doc: LocatedDocument) -> list[LocatedError]:
    out = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        message = french_message(error, model)
        if loc and loc[-1] == "[key]":
            loc = loc[:-1]
            message = f"nom invalide : {message}"
        out.append(doc.error(loc, message, error["type"]))
    return out


# --- the whole validation ----------------------------------------------------------------------


def validate(
    model: type[M], doc: LocatedDocument, cross_checks: Callable[[LocatedDocument], list[LocatedError]]
) -> M:
    """Validate ``doc`` against ``model`` plus ``cross_checks``; raise with every error, or return."""
    errors = list(doc.problems)
    if not isinstance(doc.value, dict):
        errors.append(
            doc.error(
                (),
                "le fichier doit décrire un bloc de champs (« code: … », « name: … »…)"
                if doc.value is not None
                else "fichier vide",
                "not_a_mapping",
            )
        )
        raise RulesFileError(errors)
    result: M | None = None
    try:
        result = model.model_validate(doc.value)
    except ValidationError as exc:
        errors.extend(translate(exc, model, doc))
    errors.extend(cross_checks(doc))
    if errors or result is None:
        raise RulesFileError(errors)
    result._source = doc.source
    result._lines = {format_path(loc): line for loc, line in doc.lines.items()}
    return result


# --- helpers for cross checks on raw data (the shapes may be wrong: be defensive) ---------------


def get_list(data: Any, key: str) -> list[Any]:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, list) else []


def items_with(items: list[Any], field: str) -> Iterator[tuple[int, dict[str, Any], Any]]:
    """(index, item, item[field]) for the items that are blocks carrying a hashable ``field``."""
    for index, item in enumerate(items):
        if isinstance(item, dict) and isinstance(item.get(field), Hashable) and item.get(field) is not None:
            yield index, item, item[field]


def duplicate_error(doc: LocatedDocument, loc: Loc, first: Loc, what: str, value: Any) -> LocatedError:
    line = doc.line_of(first) if doc.lines else None
    where = format_path(first) + (f", ligne {line}" if line is not None else "")
    return doc.error(loc, f"{what} « {value} » en double (déjà utilisé en {where})", "duplicate_code")


def unique_codes(
    doc: LocatedDocument, key: str, field: str = "code", what: str = "code"
) -> list[LocatedError]:
    errors = []
    seen: dict[Any, Loc] = {}
    for index, _item, value in items_with(get_list(doc.value, key), field):
        loc: Loc = (key, index, field)
        if value in seen:
            errors.append(duplicate_error(doc, loc, seen[value], what, value))
        else:
            seen[value] = loc
    return errors
