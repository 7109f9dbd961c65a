"""The pure rules: which document a financer sends, when a payment is refused, where the form keeps things."""

from datetime import date
from decimal import Decimal as D

import pytest

from aap.financing.programmation import paths_of
from forms import load_form
from workflows.cofinancement import CONVENTION_THRESHOLD, check_payment, document_kind


@pytest.mark.parametrize(
    ("total", "cpo", "kind"),
    [
        (D("22999.99"), False, "notification"),
        (D("23000.00"), False, "convention"),
        (D("40000"), False, "convention"),
        (D("1500"), True, "convention"),
        (D("0"), False, "notification"),
    ],
)
def test_a_convention_from_23000_euros_a_year_or_under_a_cpo(total: D, cpo: bool, kind: str) -> None:
    assert D("23000.00") == CONVENTION_THRESHOLD
    assert document_kind(total, cpo) == kind


def test_money_stays_decimal() -> None:
    with pytest.raises(TypeError):
        document_kind(23000.0)  # type: ignore[arg-type]


def _payment(**kw):  # type: ignore[no-untyped-def]
    args = dict(
        decision="accorde",
        montant_accorde=D("1000"),
        paid_kinds=[],
        already_paid=D("0"),
        kind="avance",
        montant=D("500"),
        paid_on=date(2026, 5, 1),
        decided_on=date(2026, 4, 1),
        today=date(2026, 6, 1),
    )
    args.update(kw)
    return [r.code for r in check_payment(**args)]


@pytest.mark.parametrize(
    ("changes", "codes"),
    [
        ({}, []),
        ({"montant": D("1000")}, []),
        ({"already_paid": D("600"), "paid_kinds": ["avance"]}, ["paiement_above_accorde"]),
        ({"already_paid": D("500"), "paid_kinds": ["avance"], "kind": "solde"}, []),
        ({"paid_kinds": ["solde"], "already_paid": D("200")}, ["solde_already_paid"]),
        ({"montant": D("0")}, ["montant_not_positive"]),
        ({"decision": "refuse", "montant_accorde": None}, ["not_accorded"]),
        ({"paid_on": date(2026, 3, 1)}, ["date_before_decision"]),
        ({"paid_on": date(2026, 7, 1)}, ["date_future"]),
        ({"kind": "acompte"}, ["kind_invalid"]),
    ],
)
def test_a_payment_never_exceeds_the_accorded_amount_and_nothing_follows_the_solde(changes, codes) -> None:  # type: ignore[no-untyped-def]
    assert _payment(**changes) == codes


def test_the_table_finds_qpv_orientation_and_budget_from_the_form_definition() -> None:
    guichet = paths_of(load_form("guichet_unique", 1).definition)
    assert (guichet.qpv, guichet.orientation, guichet.budget) == (
        "action.qpv",
        "action.orientation",
        ("budget.charges",),
    )
    fph = paths_of(load_form("fph", 1).definition)
    assert fph.qpv == "collectif.qpv" and fph.orientation is None
