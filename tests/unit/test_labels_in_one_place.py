"""The avis, decision and dépôt-deadline rules are written once, in `workflows/`."""

import ast
import re
from datetime import date
from pathlib import Path

from workflows import depot
from workflows.dossier import AVIS
from workflows.labels import AVIS_LABELS, DECISION_LABELS, avis_label

ROOT = Path(__file__).resolve().parents[2]
WORDS = {label for label in (*AVIS_LABELS.values(), *DECISION_LABELS.values())} | {"Réservé"}


def _literal_labels(path: Path) -> set[str]:
    """The label words written as whole string literals (a table entry), not in a sentence."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.strip() in WORDS
    }


def test_no_module_outside_workflows_labels_holds_a_label_table() -> None:
    found = {
        str(path.relative_to(ROOT)): words
        for package in ("aap", "notifications", "workflows", "forms")
        for path in (ROOT / package).rglob("*.py")
        if path != ROOT / "workflows" / "labels.py" and (words := _literal_labels(path))
    }
    assert found == {}


# French words keyed by codes (« echange » → « Échange avec le porteur… »): a label table
CODE = re.compile(r"[a-z][a-z0-9_]*")
FRENCH = re.compile(r"[A-ZÀ-ÿ ]")
# the refusal reasons of pydantic's error types live with the other refusals; the demo is data
NOT_LABELS = {"aap/errors.py"}


def _label_tables(source: str, name: str) -> list[str]:
    """Dict literals of two or more entries whose keys are codes and whose values are French words."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Dict) or len(node.keys) < 2:
            continue
        keys = [k.value if isinstance(k, ast.Constant) else None for k in node.keys]
        values = [v.value if isinstance(v, ast.Constant) else None for v in node.values]
        if all(isinstance(k, str) and CODE.fullmatch(k) for k in keys) and all(
            isinstance(v, str) and FRENCH.search(v) for v in values
        ):
            found.append(f"{name}:{node.lineno}: {keys}")
    return found


def test_no_page_or_service_writes_its_own_table_of_labels() -> None:
    """Roles, audiences, the history's events, the bilan's states, the report's figures, the save
    button's words…: every table of French words for codes is in `workflows/labels.py`."""
    found = [
        table
        for package in ("aap", "notifications")
        for path in sorted((ROOT / package).rglob("*.py"))
        if (name := str(path.relative_to(ROOT))) not in NOT_LABELS and not name.startswith("aap/demo/")
        for table in _label_tables(path.read_text(encoding="utf-8"), name)
    ]
    assert found == []


def test_the_table_finder_sees_a_label_table_and_nothing_else() -> None:
    source = (
        'AUDIENCES = {"echange": "Échange avec le porteur", "interne": "Note interne"}\n'
        'HEADERS = {"accept": "text/html", "cache": "no-store"}\n'
        'ROW = {"id": 1, "label": "Avance"}\n'
    )
    assert _label_tables(source, "sample.py") == ["sample.py:1: ['echange', 'interne']"]


def test_the_avis_reserve_has_one_name() -> None:
    assert avis_label("reserve") == "Favorable avec réserves"
    assert set(AVIS) == set(AVIS_LABELS)


def test_pages_and_exports_read_the_same_tables() -> None:
    from aap.financing import programmation
    from aap.web import porteur_views
    from aap.web.staff import common

    assert common.AVIS_LABELS is porteur_views.AVIS_LABELS is programmation.AVIS_LABELS is AVIS_LABELS
    assert common.DECISION_LABELS is porteur_views.DECISION_LABELS is DECISION_LABELS


def test_the_history_the_messages_and_the_report_read_the_same_tables() -> None:
    from aap.bilans import rapport_files, repository
    from aap.messages import service as messages
    from aap.web.staff import common
    from workflows import cpo, labels
    from workflows import dossier as lifecycle

    assert messages.AUDIENCES is labels.AUDIENCE_LABELS
    assert repository.STATE_LABELS is labels.BILAN_STATE_LABELS
    assert rapport_files.AGE_LABELS is labels.AGE_LABELS
    # the staff's and the porteur's history name the steps that are not transitions the same way
    assert common.EVENT_LABELS["budget_ajuste"] == lifecycle.PAST_HISTORY_LABELS["budget_ajuste"]
    assert all(lifecycle.HISTORY_LABELS[t.name] for t in lifecycle.TRANSITIONS)
    assert cpo.HISTORY_LABELS["signer"] == "Signature d'un financeur"
    assert labels.save_wording("depose").button == "Enregistrer les modifications"
    assert labels.save_wording("inconnu") is labels.SAVE_WORDING["brouillon"]


def test_the_depot_deadline_is_the_later_of_the_closing_day_and_the_extension() -> None:
    cloture = date(2027, 1, 31)
    assert depot.depot_deadline(cloture, None) == cloture
    assert depot.depot_deadline(cloture, date(2027, 2, 10)) == date(2027, 2, 10)
    assert depot.depot_deadline(cloture, date(2027, 1, 10)) == cloture
    assert depot.depot_open(date(2027, 1, 31), date(2027, 1, 1), cloture)
    assert not depot.depot_open(date(2027, 2, 1), date(2027, 1, 1), cloture)
    assert depot.depot_open(date(2027, 2, 5), date(2027, 1, 1), cloture, date(2027, 2, 5))
    assert not depot.depot_closed(date(2027, 2, 5), cloture, date(2027, 2, 5))
    assert depot.depot_closed(date(2027, 2, 6), cloture, date(2027, 2, 5))


def test_no_other_module_compares_dates_with_the_depot_deadline() -> None:
    """`depot_cloture` / `extension_until` compared by hand outside `workflows/depot.py` is a second copy
    of the rule (the SQL form in the repository and the notification windows excepted)."""
    allowed = {"workflows/depot.py", "aap/dossiers/repository.py", "notifications/query.py"}
    found = []
    for package in ("aap", "notifications", "workflows"):
        for path in (ROOT / package).rglob("*.py"):
            name = str(path.relative_to(ROOT))
            if name in allowed:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Compare) and not all(
                    isinstance(op, ast.Is | ast.IsNot) for op in node.ops
                ):
                    text = ast.unparse(node)
                    if "depot_cloture" in text or "extension_until" in text:
                        found.append(f"{name}:{node.lineno}: {text}")
    assert found == []


def test_reconduction_takes_a_funded_action_into_another_call_of_the_same_form() -> None:
    from workflows.reconduction import refusal

    assert refusal("conventionne", 1, 2, "guichet_unique", "guichet_unique") is None
    kind, reason = refusal("rejete", 1, 2, "guichet_unique", "guichet_unique") or ("", None)
    assert kind == "conflict" and reason is not None and "« Rejeté »" in reason.message
    assert (refusal("cloture", 1, 1, "g", "g") or ("", None))[0] == "invalid"
    wrong_form = refusal("cloture", 1, 2, "guichet_unique", "fph")
    assert wrong_form is not None and wrong_form[1].code == "formulaire_different"
