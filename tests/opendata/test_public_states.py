"""Which states are public is read from the lifecycle table: a dossier becomes public only through
`programmer`, and never goes back to a hidden state."""

from workflows.dossier import CONVENTIONED_STATES, PUBLIC_STATES, STATES, TRANSITIONS


def test_a_dossier_enters_the_public_states_only_by_being_programmed_and_never_leaves_them() -> None:
    assert set(CONVENTIONED_STATES) < set(PUBLIC_STATES) <= set(STATES)
    for spec in TRANSITIONS:
        if spec.dest in PUBLIC_STATES:
            assert all(s in PUBLIC_STATES for s in spec.sources) or spec.name == "programmer", spec.name
        if any(s in PUBLIC_STATES for s in spec.sources):
            assert spec.dest in PUBLIC_STATES, spec.name
    hidden = {"brouillon", "depose", "en_instruction", "avise", "rejete", "abandonne", "non_depose"}
    assert not hidden & set(PUBLIC_STATES)
