"""What PostgreSQL refuses, refused the same way on SQLite and before the database sees it: text longer
than its column, the NUL character, and unpaired surrogates (in text columns and inside JSON answers).
Checked at every flush, so no entry point (API, page, CLI) can store it on one database and answer 500
on the other; the caller gets a 422 naming the field."""

import json
import re
from functools import cache
from typing import Any

from sqlalchemy import JSON, String, event, inspect
from sqlalchemy.orm import Mapper, Session

from aap.errors import Invalid

# one scan in C of each text (every string of the answers is checked at every autosave's flush)
_REFUSED = re.compile("[\x00\ud800-\udfff]")


def _bad_char(text: str) -> str | None:
    if _REFUSED.search(text) is None:
        return None
    if "\x00" in text:
        return "contient le caractère nul (\\u0000), refusé"
    return "contient un caractère invalide (demi-paire UTF-16 isolée)"


def _walk(value: Any, path: str, errors: list[dict[str, str]]) -> None:
    if isinstance(value, str):
        problem = _bad_char(value)
        if problem:
            errors.append({"path": path, "code": "caractere_invalide", "message": f"Le texte {problem}."})
    elif isinstance(value, dict):
        for key, item in value.items():
            _walk(str(key), path, errors)
            _walk(item, f"{path}.{key}" if path else str(key), errors)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _walk(item, f"{path}.{i}", errors)


def check_object(obj: Any) -> list[dict[str, str]]:
    """The refusals for what `obj` is about to write: every text and JSON attribute of a new object,
    the changed ones of an object already stored (an autosave changes the answers, not the title)."""
    errors: list[dict[str, str]] = []
    state = inspect(obj)
    checked = _checked_columns(state.mapper)
    changed = state.dict if state.key is None else state.committed_state
    for key in [k for k in changed if k in checked]:
        history = state.attrs[key].history
        if not history.added:
            continue
        value = history.added[0]
        limit = checked[key]
        if limit is not None and isinstance(value, str) and len(value) > limit:
            errors.append(
                {
                    "path": key,
                    "code": "texte_trop_long",
                    "message": f"Le texte dépasse {limit} caractères ({len(value)}).",
                }
            )
            continue
        if isinstance(value, dict | list) and _clean_json(value):
            continue
        _walk(value, key, errors)
    return errors


@cache
def _checked_columns(mapper: Mapper[Any]) -> dict[str, int | None]:
    """A mapper's text and JSON attributes, with the length of those that have one."""
    out: dict[str, int | None] = {}
    for attr in mapper.column_attrs:
        column_type = attr.columns[0].type
        if isinstance(column_type, String | JSON):
            out[attr.key] = column_type.length if isinstance(column_type, String) else None
    return out


def _clean_json(value: dict[str, Any] | list[Any]) -> bool:
    """True when no text inside `value` can be refused: one pass in C over its JSON, where the walk
    goes through every key and value in Python (most answers are clean; a doubt walks them)."""
    try:
        encoded = json.dumps(value, ensure_ascii=False, default=str)  # NUL is written \\u0000
    except (TypeError, ValueError):  # keys JSON cannot write: the walk decides
        return False
    return "\\u0000" not in encoded and _REFUSED.search(encoded) is None


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    errors = [e for obj in list(session.new) + list(session.dirty) for e in check_object(obj)]
    if errors:
        raise Invalid(
            "Certaines valeurs ne peuvent pas être enregistrées ; rien n'a été enregistré.", errors=errors
        )


def install() -> None:
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
