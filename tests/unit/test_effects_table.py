"""The transition effects table: each domain says what it does after which transition."""

from datetime import UTC, datetime

from aap.dossiers.effects import EffectsTable, PreconditionContext
from aap.wiring import register_all
from workflows.dossier import Reason


def test_the_wired_table_names_who_reacts_to_what() -> None:
    table = EffectsTable()
    register_all(table)
    described = table.describe()
    assert described["conventionner"] == ["bilans.echeance"]  # the documents are made after the commit:
    assert table.describe_after_commit() == {
        "conventionner": ["financing.documents"],
        "decision_financeur": ["financing.refusal_letter"],
    }
    assert described["deposer"] == ["pieces.link"]
    assert described["renvoyer_bilan"] == ["bilans.renvoye"]
    assert described["*"] == ["notifications.outbox"]


def test_registering_twice_does_not_run_an_effect_twice() -> None:
    table = EffectsTable()
    register_all(table)
    register_all(table)
    assert table.describe()["*"] == ["notifications.outbox"]


def test_preconditions_add_their_reasons_only_to_their_transition() -> None:
    table = EffectsTable()
    table.require("deposer_bilan", lambda ctx: [Reason("bilan_incomplete", "Le bilan est incomplet.")])
    now = datetime(2027, 3, 1, tzinfo=UTC)
    ctx = PreconditionContext(None, None, "deposer_bilan", now)  # type: ignore[arg-type]
    assert [r.code for r in table.reasons(ctx)] == ["bilan_incomplete"]
    other = PreconditionContext(None, None, "deposer", now)  # type: ignore[arg-type]
    assert table.reasons(other) == []
