"""The territory codes a dossier's answers refer to (its QPV and places, its orientation), kept in
`dossier_targets` at each save: who sees a commune's dossiers, the per-commune totals and the checks
of a territory reload ask SQL, never scan the answers. Where these answers sit is read from the form
(the fields whose options come from `qpvs` / `orientations`, `aap.dossiers.answer_paths`).

The rows are written by the same mapper events as the list columns (`aap.dossiers.search_columns`),
so every save and the renames of a territory reload keep `dossier_targets` up to date. It is the one
table of a dossier's places: the lists' QPV filter, the totals per place and the exports read it too.
"""

from typing import Any

from aap.dossiers.answer_paths import FormPaths, _paths
from forms.walk import get_path


def form_paths(form_code: str, form_version: int) -> FormPaths:
    return _paths(form_code, form_version)


def _codes(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value else []
    return [v for v in value if isinstance(v, str) and v] if isinstance(value, list) else []


def targets_of(form_code: str, form_version: int, answers: dict[str, Any]) -> set[tuple[str, str]]:
    """{(kind, code)} the answers refer to: `("qpv", "QN00401M")`, `("orientation", "A.1")`."""
    paths = form_paths(form_code, form_version)
    found: set[tuple[str, str]] = set()
    for kind, path in (("qpv", paths.qpv), ("orientation", paths.orientation)):
        if path:
            found.update((kind, code) for code in _codes(get_path(answers or {}, path)))
    return found


def target_rows(dossier_id: int, targets: set[tuple[str, str]]) -> list[dict[str, Any]]:
    """The `dossier_targets` rows of these targets (codes cut to the column's 32 characters)."""
    codes = sorted({(kind, code[:32]) for kind, code in targets})
    return [{"dossier_id": dossier_id, "kind": kind, "code": code} for kind, code in codes]


def replace_codes(
    form_code: str, form_version: int, answers: dict[str, Any], kind: str, moves: dict[str, str]
) -> dict[str, Any]:
    """A copy of the answers where the `kind` codes (`qpv` or `orientation`) are renamed by `moves`."""
    paths = form_paths(form_code, form_version)
    path = paths.qpv if kind == "qpv" else paths.orientation
    if not path:
        return answers
    out: dict[str, Any] = {**answers}
    parts = path.split(".")
    node = out
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            return answers
        node[part] = {**child}
        node = node[part]
    value = node.get(parts[-1])
    if isinstance(value, str):
        node[parts[-1]] = moves.get(value, value)
    elif isinstance(value, list):
        renamed = [moves.get(v, v) if isinstance(v, str) else v for v in value]
        node[parts[-1]] = list(dict.fromkeys(renamed))  # two old codes onto one new: listed once
    return out
