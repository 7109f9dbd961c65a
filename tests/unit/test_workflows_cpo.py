"""The CPO lifecycle as a table: years, amounts, signatures, and the clock's transitions."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflows import cpo
from workflows.cpo import CpoFacts, TransitionRefused

D = Decimal
NOW = datetime(2027, 3, 1, 10)


def facts(**kw: object) -> CpoFacts:
    base: dict[str, object] = dict(
        now=NOW, annees=[2027, 2028, 2029], planned={"ETAT": [D("5000.00")] * 3, "CAF": [D("1000.00")] * 3}
    )
    base.update(kw)
    return CpoFacts(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("years", "code"),
    [
        ([2027], "annees_nombre"),
        ([2027, 2028, 2029, 2030, 2031], "annees_nombre"),
        ([2027, 2029], "annees_non_consecutives"),
        ([2028, 2027], "annees_non_consecutives"),
        ([2027, 2027], "annees_non_consecutives"),
        ("2027", "annees_invalides"),
    ],
)
def test_years_are_two_to_four_consecutive(years: object, code: str) -> None:
    _planned, reasons = cpo.check_proposal(years, {"ETAT": ["1.00"] * 2}, ["ETAT"])
    assert code in {r.code for r in reasons}
    assert all(r.message for r in reasons)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("1.001", "montant_decimales"),
        ("-1.00", "montant_negatif"),
        ("abc", "montant_invalide"),
        (True, "montant_invalide"),
    ],
)
def test_amounts_have_two_decimals_and_are_never_negative(value: object, code: str) -> None:
    _amount, reasons = cpo.check_amount(value, "x")
    assert [r.code for r in reasons] == [code]


def test_a_good_proposal_gives_the_planned_amounts_to_the_cent() -> None:
    planned, reasons = cpo.check_proposal([2027, 2028], {"ETAT": ["5000", 2500.5]}, ["ETAT"])
    assert reasons == [] and planned == {"ETAT": [D("5000.00"), D("2500.50")]}


@given(st.lists(st.integers(2000, 2100), min_size=0, max_size=6))
def test_only_runs_of_two_to_four_consecutive_years_pass(years: list[int]) -> None:
    _p, reasons = cpo.check_proposal(years, {"ETAT": ["1.00"] * len(years)}, ["ETAT"])
    ok = 2 <= len(years) <= 4 and years == list(range(years[0], years[0] + len(years)))
    assert (not reasons) == ok


def test_each_financer_signs_for_itself_then_the_cpo_is_signed_once_all_have() -> None:
    f = facts(signer="ETAT")
    assert cpo.fire("signer", "projet", "financeur", f) == "projet"
    with pytest.raises(TransitionRefused) as forged:
        cpo.fire("signer", "projet", "financeur", facts(signer="ETAT", payload={"financeur": "CAF"}))
    assert forged.value.kind == "forbidden" and forged.value.reasons[0].code == "autre_financeur"
    with pytest.raises(TransitionRefused) as outsider:
        cpo.fire("signer", "projet", "financeur", facts(signer="DLVA"))
    assert outsider.value.reasons[0].code == "non_signataire"
    assert cpo.time_driven("projet", facts(signed={"ETAT"})) == []
    assert cpo.time_driven("projet", facts(signed={"ETAT", "CAF"})) == ["conclure"]
    with pytest.raises(TransitionRefused) as early:
        cpo.fire("conclure", "projet", "system", facts(signed={"ETAT"}))
    assert [r.code for r in early.value.reasons] == ["signature_attendue"]


def test_a_signer_may_confirm_the_amounts_it_signs_and_only_those() -> None:
    ok = facts(signer="CAF", payload={"montants": ["1000.00", "1000", 1000]})
    assert cpo.evaluate("signer", "projet", "financeur", ok) == []
    wrong = facts(signer="CAF", payload={"montants": ["1000.00", "1000.00", "999.99"]})
    assert [r.code for r in cpo.evaluate("signer", "projet", "financeur", wrong)] == ["montants_differents"]


def test_the_clock_activates_in_the_first_year_and_ends_after_the_last() -> None:
    before = facts(now=datetime(2026, 12, 31, 23), signed={"ETAT", "CAF"})
    assert cpo.time_driven("signee", before) == []
    assert cpo.time_driven("signee", facts(now=datetime(2027, 1, 1))) == ["activer"]
    assert cpo.time_driven("active", facts(now=datetime(2029, 12, 31, 23))) == []
    assert cpo.time_driven("active", facts(now=datetime(2030, 1, 1))) == ["echoir"]


def test_resiliation_needs_a_reason_and_only_staff_give_it() -> None:
    with pytest.raises(TransitionRefused) as porteur:
        cpo.fire("resilier", "active", "porteur", facts())
    assert porteur.value.kind == "forbidden"
    assert [r.code for r in cpo.evaluate("resilier", "active", "instructeur", facts())] == ["motif_requis"]
    assert cpo.fire("resilier", "active", "admin", facts(payload={"motif": "Fin de l'action"})) == "resiliee"
    with pytest.raises(TransitionRefused) as ended:
        cpo.fire("resilier", "echue", "admin", facts(payload={"motif": "x"}))
    assert ended.value.kind == "wrong_state"


def test_renewal_is_flagged_six_months_before_the_end() -> None:
    assert not cpo.renewal_due("active", [2027, 2028], date(2028, 6, 30))
    assert cpo.renewal_due("active", [2027, 2028], date(2028, 7, 2))
    assert not cpo.renewal_due("resiliee", [2027, 2028], date(2028, 7, 2))


def test_the_diagram_is_drawn_from_the_machine() -> None:
    text = cpo.mermaid("active")
    assert "stateDiagram-v2" in text and "projet --> signee" in text and "class active current" in text
