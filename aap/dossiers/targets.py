"""The territory codes a dossier's answers refer to (its QPV and places, its orientation), kept in
`dossier_targets` at each save: who sees a commune's dossiers, the per-commune totals and the checks
of a territory reload ask SQL, never scan the answers. Where these answers sit is read from the form
(the fields whose options come from `qpvs` / `orientations`)."""

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from aap.models import Dossier, DossierTarget
from forms import load_form
from forms.walk import get_path

if TYPE_CHECKING:
    from aap.financing.programmation import FormPaths


@lru_cache(maxsize=32)
def form_paths(form_code: str, form_version: int) -> "FormPaths":
    # imported here: the programme module reads campaigns, which read territories, which use this one
    from aap.financing.programmation import paths_of

    return paths_of(load_form(form_code, form_version).definition)


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


def sync_targets(session: Session, dossier: Dossier) -> None:
    """Rewrite the dossier's targets from its answers (in the caller's transaction)."""
    wanted = targets_of(dossier.form_code, dossier.form_version, dossier.answers or {})
    session.execute(delete(DossierTarget).where(DossierTarget.dossier_id == dossier.id))
    session.add_all(DossierTarget(dossier_id=dossier.id, kind=k, code=c) for k, c in sorted(wanted))
    session.flush()


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
