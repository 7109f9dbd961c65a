"""Each `transitions` Machine is built once per process, not once per fired transition.

Building one costs milliseconds and a bulk decision fires hundreds of transitions under the envelope
lock; the cost is measured in `make bench`, here we count constructions.
"""

from datetime import UTC, datetime

import pytest
import transitions

from workflows import cofinancement, cpo, dossier
from workflows.cpo import CpoFacts
from workflows.dossier import DossierFacts


@pytest.fixture
def constructions(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    built: list[object] = []
    original = transitions.Machine.__init__

    def counting(self: transitions.Machine, *args: object, **kwargs: object) -> None:
        built.append(self)
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(transitions.Machine, "__init__", counting)
    return built


def test_firing_dossier_transitions_builds_at_most_one_machine(constructions: list[object]) -> None:
    facts = DossierFacts(now=datetime(2027, 1, 10, tzinfo=UTC))
    for _ in range(20):
        assert dossier.fire("prendre_en_instruction", "depose", "instructeur", facts) == "en_instruction"
    assert len(constructions) <= 1


def test_moving_cofinancement_lines_builds_at_most_one_machine(constructions: list[object]) -> None:
    for _ in range(20):
        assert cofinancement.next_line_state("sollicite", "proposer") == "propose"
        assert cofinancement.next_line_state("propose", "accorder") == "accorde"
    assert len(constructions) <= 1


def test_firing_cpo_transitions_and_drawing_both_lifecycles_builds_no_other_machine(
    constructions: list[object],
) -> None:
    facts = CpoFacts(now=datetime(2027, 3, 1, 10), annees=[2027, 2028], payload={"motif": "Fin de l'action"})
    for _ in range(20):
        assert cpo.fire("resilier", "active", "admin", facts) == "resiliee"
    assert "projet --> signee" in cpo.mermaid("active")
    assert "depose --> en_instruction" in dossier.mermaid("depose")
    assert constructions == []  # each table's Machine was built when its module was imported
