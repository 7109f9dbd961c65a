"""The columns the staff lists filter and sum on, read from a dossier's answers whenever they change.

QPV, orientation and budget live in the answers (JSON), where the form definition puts them
(`aap.dossiers.answer_paths`). Copying them on every save into indexed columns
(`Dossier.orientation_code`, `Dossier.budget_total`) lets the lists filter, count and sum in SQL
instead of reading every dossier into Python. Mapper events keep them in sync whichever service writes
the answers; bulk inserts (`aap bench generate`) call `facts_of` themselves.

The same events write the territory codes of `dossier_targets` (`aap.dossiers.targets`), the one table
of a dossier's places (QPV and places hors QPV, kind `qpv`) and orientation: the QPV filter, the
totals per place, commune access, per-commune subtotals and the reload checks all read it.
"""

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection, delete, event, insert, inspect
from sqlalchemy.orm import Mapper

from aap.dossiers.answer_paths import answered_budget, has_budget, orientation_of
from aap.dossiers.targets import target_rows, targets_of
from aap.models import Dossier, DossierTarget

_PENDING = "_search_qpvs_pending"


@dataclass(frozen=True)
class SearchFacts:
    orientation: str | None
    budget: Decimal | None
    targets: frozenset[tuple[str, str]] = frozenset()  # (kind, code): `dossier_targets`

    @property
    def qpvs(self) -> tuple[str, ...]:
        """The places (QPV or hors QPV) the action targets, as `dossier_targets` holds them."""
        return tuple(sorted({code[:32] for kind, code in self.targets if kind == "qpv"}))


def facts_of(dossier: Dossier) -> SearchFacts:
    """What the lists need from the answers (only `form_code`, `form_version` and `answers` are read)."""
    return SearchFacts(
        orientation=(orientation_of(dossier) or "")[:32] or None,
        budget=answered_budget(dossier) if has_budget(dossier) else None,
        targets=frozenset(targets_of(dossier.form_code, dossier.form_version, dossier.answers or {})),
    )


def _answers_changed(target: Dossier) -> bool:
    return bool(inspect(target).attrs.answers.history.has_changes())


@event.listens_for(Dossier, "before_insert")
def _before_insert(_mapper: Mapper[Dossier], _conn: Connection, target: Dossier) -> None:
    _fill(target)


@event.listens_for(Dossier, "before_update")
def _before_update(_mapper: Mapper[Dossier], _conn: Connection, target: Dossier) -> None:
    if _answers_changed(target):
        _fill(target, rewrite_targets=_targets_changed(target))


def _targets_changed(target: Dossier) -> bool:
    """Whether the saved answers name other places or orientations than those they replace (most
    autosaves change a text: the dossier's `dossier_targets` rows stay as they are, two statements less).
    Unknown (the former answers were never loaded, or the form changed with them): rewritten."""
    state = inspect(target)
    former = state.attrs.answers.history.deleted
    if not former or any(state.attrs[name].history.has_changes() for name in ("form_code", "form_version")):
        return True
    form = (target.form_code, target.form_version)
    return targets_of(*form, former[0] or {}) != targets_of(*form, target.answers or {})


def _fill(target: Dossier, *, rewrite_targets: bool = True) -> None:
    facts = facts_of(target)
    target.orientation_code = facts.orientation
    target.budget_total = facts.budget
    if rewrite_targets:
        target.__dict__[_PENDING] = facts


@event.listens_for(Dossier, "after_insert")
@event.listens_for(Dossier, "after_update")
def _write_targets(_mapper: Mapper[Dossier], conn: Connection, target: Dossier) -> None:
    facts = target.__dict__.pop(_PENDING, None)
    if facts is None:
        return
    conn.execute(delete(DossierTarget).where(DossierTarget.dossier_id == target.id))
    if facts.targets:
        conn.execute(insert(DossierTarget), target_rows(target.id, set(facts.targets)))
