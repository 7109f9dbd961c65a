"""Small helpers shared by the engine's passes: reading nested answers, conditions, blanks."""

from __future__ import annotations

from typing import Any

from forms.definition import FieldDef, FormDef


def is_blank(value: Any) -> bool:
    """A value that counts as "not answered": None, "", whitespace, [] or {}."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | dict):
        return not value
    return False


def same(a: Any, b: Any) -> bool:
    """Equality that does not confuse True with 1."""
    return type(a) is type(b) and a == b


def shown(field: FieldDef, siblings: dict[str, Any]) -> bool:
    """Whether a field applies, given the answers of its section or group."""
    cond = field.shown_when
    return cond is None or same(siblings.get(cond.field), cond.equals)


def get_path(answers: Any, path: str) -> Any:
    """The answer at a dotted path (list indexes allowed), or None."""
    node = answers
    for part in path.split("."):
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def label_of(form: FormDef, path: str) -> str:
    """The label people know a path by (field label, else section label, else the path itself)."""
    generic = ".".join(p for p in path.split(".") if not p.isdigit())
    field = form.field_at(generic)
    if field is not None:
        return field.short_label or field.label
    section = form.section(generic)
    return section.label if section else path


def option_pairs(field: FieldDef, ctx: Any) -> list[tuple[str, str]]:
    """(value, label) of a choice, from the definition or from the campaign context."""
    if field.options is not None:
        return [(o.value, o.label) for o in field.options]
    if field.options_from is not None:
        return list(ctx.options(field.options_from))
    return []
