"""What changed between two sets of answers, named as people know the fields."""

from forms import load_form
from forms.diff import changes

FORM = load_form("guichet_unique", 1).definition


def test_changed_added_and_removed_answers_are_listed_with_their_labels() -> None:
    before = {"action": {"titre": "Atelier cuisine", "description": "Le mercredi."}}
    after = {"action": {"titre": "Atelier cuisine", "date_fin": "2027-06-30"}}
    found = {c.path: (c.label, c.before, c.after) for c in changes(FORM, before, after)}
    assert found == {
        "action.date_fin": ("Date de fin", "(vide)", "2027-06-30"),
        "action.description": ("Description de l'action", "Le mercredi.", "(vide)"),
    }


def test_rows_of_a_table_are_named_by_their_line() -> None:
    before = {"budget": {"depenses": [{"libelle": "Loyer", "montant": "100.00"}]}}
    after = {"budget": {"depenses": [{"libelle": "Loyer", "montant": "150.00"}]}}
    (change,) = changes(FORM, before, after)
    assert change.path == "budget.depenses.0.montant"
    assert change.label.endswith("(ligne 1)") and (change.before, change.after) == ("100.00", "150.00")


def test_identical_answers_have_no_change() -> None:
    answers = {"action": {"titre": "Atelier", "public": {"femmes": 3}}}
    assert changes(FORM, answers, dict(answers)) == []
