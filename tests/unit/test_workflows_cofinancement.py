"""A financer's line: what the instructeur may propose and what the financer may decide, in euros."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from transitions import MachineError

from workflows.cofinancement import (
    NBSP,
    check_decision,
    check_proposition,
    format_euros,
    line_state,
    line_state_after,
    next_line_state,
)

NARROW_NBSP = "\u202f"


def codes(reasons: list) -> list[str]:
    return [r.code for r in reasons]


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (D("12000"), "12 000,00 €"),
        (D("0"), "0,00 €"),
        (D("999.5"), "999,50 €"),
        (D("1234567.891"), "1 234 567,89 €"),
        (D("0.005"), "0,01 €"),
        (D("-2500"), "-2 500,00 €"),
    ],
)
def test_format_euros_french_style_with_no_break_spaces(amount: D, text: str) -> None:
    """Babel's French: narrow no-break spaces between thousands, a no-break space before €."""
    assert format_euros(amount) == text.replace(" €", f"{NBSP}€").replace(" ", NARROW_NBSP)


def test_money_is_never_float() -> None:
    with pytest.raises(TypeError):
        format_euros(12.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        check_proposition(D(100), 50.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("montant", "expected"),
    [
        (D("0"), []),
        (D("5000.00"), []),
        (D("10000"), []),
        (D("-1"), ["montant_negative"]),
        (D("10000.01"), ["propose_above_requested"]),
        (D("12.345"), ["montant_precision"]),
        (D("NaN"), ["montant_invalid"]),
    ],
)
def test_check_proposition(montant: D, expected: list[str]) -> None:
    assert codes(check_proposition(D("10000"), montant)) == expected


def test_proposition_message_gives_both_amounts() -> None:
    (reason,) = check_proposition(D("10000"), D("12000"))
    assert format_euros(D("12000")) in reason.message and format_euros(D("10000")) in reason.message
    assert reason.field == "montant"


def test_no_proposition_once_decided() -> None:
    assert codes(check_proposition(D(100), D(50), line_state="accorde")) == ["already_decided"]
    assert check_proposition(D(100), D(50), line_state="ajourne") == []


def decide(
    decision: str,
    montant: D | None = None,
    motif: str | None = None,
    *,
    state: str = "propose",
    restant: D = D("50000"),
) -> list[str]:
    return codes(check_decision(state, D("10000"), decision, montant, motif, restant))


def test_accorde_within_request_and_enveloppe() -> None:
    assert decide("accorde", D("10000")) == []
    assert decide("accorde", D("8000"), state="ajourne") == []


def test_accorde_needs_a_positive_amount() -> None:
    assert decide("accorde") == ["montant_required"]
    assert decide("accorde", D("0")) == ["montant_not_positive"]
    assert decide("accorde", D("-5")) == ["montant_not_positive"]


def test_accorde_lists_every_overrun() -> None:
    assert decide("accorde", D("15000"), restant=D("3000")) == [
        "accorde_above_requested",
        "enveloppe_exceeded",
    ]


def test_enveloppe_message_says_what_is_left() -> None:
    (reason,) = check_decision("propose", D("10000"), "accorde", D("5000"), None, D("3000"))
    assert reason.code == "enveloppe_exceeded"
    assert f"3{NARROW_NBSP}000,00{NBSP}€" in reason.message


@pytest.mark.parametrize("decision", ["refuse", "ajourne"])
def test_refuse_and_ajourne_need_a_motif(decision: str) -> None:
    assert decide(decision) == ["motif_required"]
    assert decide(decision, motif="   ") == ["motif_required"]
    assert decide(decision, motif="Hors des orientations du contrat de ville.") == []


def test_a_settled_line_cannot_be_decided_again() -> None:
    for state in ("accorde", "refuse"):
        assert decide("accorde", D("100"), state=state) == ["already_decided"]
    assert decide("refuse", motif="Toujours pas", state="ajourne") == []


def test_no_decision_before_a_proposition_or_with_an_unknown_word() -> None:
    assert decide("accorde", D("100"), state="sollicite") == ["not_proposed"]
    assert decide("peut-etre", D("100")) == ["decision_invalid"]


def test_line_states() -> None:
    assert line_state(None, None) == "sollicite"
    assert line_state(D("0"), None) == "propose"
    assert line_state(D("10"), "ajourne") == "ajourne"
    assert [line_state_after(x) for x in ("accorde", "refuse", "ajourne")] == ["accorde", "refuse", "ajourne"]
    with pytest.raises(ValueError):
        line_state_after("peut-etre")


def test_line_machine_moves_forward_and_lets_an_ajourne_line_be_decided_again() -> None:
    state = next_line_state("sollicite", "proposer")
    state = next_line_state(state, "proposer")
    state = next_line_state(state, "ajourner")
    assert next_line_state(state, "accorder") == "accorde"
    with pytest.raises(MachineError):
        next_line_state("accorde", "refuser")
    with pytest.raises(MachineError):
        next_line_state("sollicite", "accorder")
