"""What changed between two sets of answers, field by field, as people name the fields.

Used by the history when compléments come back: the instructeur sees « Nombre de séances : 10 → 12 »
rather than having to compare two versions of the dossier.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from forms.definition import FormDef
from forms.walk import is_blank, label_of

MAX_SHOWN = 200  # characters of a value shown in the history


@dataclass(frozen=True)
class Change:
    path: str
    label: str
    before: str
    after: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "label": self.label, "avant": self.before, "apres": self.after}


def _leaves(value: Any, prefix: str = "") -> dict[str, Any]:
    """Every answered leaf by dotted path (lists of scalars are one leaf, lists of rows are walked)."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, sub in value.items():
            out.update(_leaves(sub, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list) and any(isinstance(item, dict | list) for item in value):
        out = {}
        for i, sub in enumerate(value):
            out.update(_leaves(sub, f"{prefix}.{i}"))
        return out
    return {} if is_blank(value) else {prefix: value}


def _text(value: Any) -> str:
    if value is None:
        return "(vide)"
    if isinstance(value, bool):
        return "oui" if value else "non"
    text = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def _row_label(form: FormDef, path: str) -> str:
    label = label_of(form, path)
    row = next((p for p in path.split(".") if p.isdigit()), None)
    return f"{label} (ligne {int(row) + 1})" if row is not None else label


def changes(form: FormDef, before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """The fields whose answer differs, in the order of the later answers then the removed ones."""
    old, new = _leaves(before or {}), _leaves(after or {})
    paths = list(new) + [p for p in old if p not in new]
    return [
        Change(path, _row_label(form, path), _text(old.get(path)), _text(new.get(path)))
        for path in paths
        if old.get(path) != new.get(path)
    ]
