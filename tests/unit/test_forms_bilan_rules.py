"""The engine's generic rules the bilan needs: explained gaps beyond a threshold, counts adding up,
lists prefilled from another form's rows. Pure: no database."""

from decimal import Decimal

import pytest

from forms import DefinitionError, FormContext, load_form, parse_definition

CTX = FormContext(year=2026, financeurs=(("ETAT", "État"), ("CAF", "CAF")), qpvs=(("Q1", "Quartier 1"),))


def _errors(answers: dict, ctx: FormContext = CTX) -> dict[str, str]:
    return {e.path: e.code for e in load_form("bilan").check_complete(answers, ctx)}


def _lines(realise: str, explication: str | None = None) -> dict:
    row = {"libelle": "Salaires", "prevu": "1000.00", "realise": realise}
    if explication:
        row["explication"] = explication
    return {"budget": {"charges": [row]}}


@pytest.mark.parametrize(
    ("realise", "needs_why"),
    [("1150.00", False), ("1150.01", True), ("850.00", False), ("849.99", True), ("1000.00", False)],
)
def test_a_line_beyond_the_threshold_needs_its_explanation(realise: str, needs_why: bool) -> None:
    errors = _errors(_lines(realise))
    assert (errors.get("budget.charges.0.explication") == "ecart_non_explique") is needs_why
    assert "budget.charges.0.explication" not in _errors(_lines(realise, "Une animatrice de plus."))


def test_the_threshold_is_the_contexts() -> None:
    strict = FormContext(year=2026, financeurs=CTX.financeurs, qpvs=CTX.qpvs, gap_threshold=Decimal("0.05"))
    assert "budget.charges.0.explication" in _errors(_lines("1100.00"), strict)
    assert "budget.charges.0.explication" not in _errors(_lines("1100.00"))
    message = next(
        e.message
        for e in load_form("bilan").check_complete(_lines("1100.00"), strict)
        if e.code == "ecart_non_explique"
    )
    assert "Charges, ligne 1" in message and "5\u00a0%" in message and "1\u202f100,00\u00a0€" in message


def test_a_line_with_nothing_planned_is_a_gap() -> None:
    answers = {"budget": {"charges": [{"libelle": "Imprévu", "prevu": "0.00", "realise": "10.00"}]}}
    assert _errors(answers)["budget.charges.0.explication"] == "ecart_non_explique"


def test_beneficiaries_must_add_up_by_sex_age_and_quartier() -> None:
    benef = {
        "total": 10,
        "sexe": {"femmes": 6, "hommes": 3},
        "age": {
            "age_0_5": 0,
            "age_6_11": 10,
            "age_12_17": 0,
            "age_18_25": 0,
            "age_26_64": 0,
            "age_65_plus": 0,
        },
        "par_qpv": [{"qpv": "Q1", "nombre": 7}],
        "hors_qpv": 2,
    }
    errors = _errors({"beneficiaires": benef})
    assert errors["beneficiaires.sexe"] == "beneficiaires_sexe"
    assert errors["beneficiaires.par_qpv"] == "beneficiaires_qpv"
    assert "beneficiaires.age" not in errors
    benef["sexe"]["hommes"], benef["hors_qpv"] = 4, 3
    errors = _errors({"beneficiaires": benef})
    assert "beneficiaires.sexe" not in errors and "beneficiaires.par_qpv" not in errors


def test_a_list_is_prefilled_row_by_row_from_the_source() -> None:
    source = {
        "action.titre": "Aide aux devoirs",
        "budget.charges": [{"compte": "64", "libelle": "Salaires", "montant": 1000}],
        "cofinancements": [{"financeur": "ETAT", "accorde": "500.00"}],
    }
    answers = load_form("bilan").prefill(source)
    assert answers["realisation"]["titre"] == "Aide aux devoirs"
    assert answers["budget"]["charges"] == [{"compte": "64", "libelle": "Salaires", "prevu": "1000.00"}]
    assert answers["budget"]["financements"] == [{"financeur": "ETAT", "prevu": "500.00"}]


def test_a_gap_rule_without_its_keys_is_refused_at_load_time() -> None:
    raw = {
        "code": "x",
        "version": 1,
        "title": "X",
        "sections": [
            {
                "key": "s",
                "label": "S",
                "fields": [
                    {
                        "key": "l",
                        "type": "list",
                        "label": "L",
                        "fields": [{"key": "a", "type": "amount", "label": "A"}],
                    }
                ],
            }
        ],
        "rules": [{"kind": "gap_explained", "code": "g", "path": "s.l", "planned": "a", "actual": "a"}],
    }
    with pytest.raises(DefinitionError) as refused:
        parse_definition(raw)
    assert "explanation" in str(refused.value)
    raw["rules"][0]["explanation"] = "nope"
    with pytest.raises(DefinitionError) as refused:
        parse_definition(raw)
    assert "s.l.nope" in str(refused.value)
