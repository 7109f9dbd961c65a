"""The dossier lifecycle as users meet it: who may do what, when, and every reason when they may not."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from workflows import dossier as d
from workflows.dossier import CofinancementFact, DossierFacts, Reason, TransitionRefused

NOW = datetime(2025, 1, 15, 10, 0)
OPEN = dict(depot_ouverture=date(2025, 1, 1), depot_cloture=date(2025, 1, 31))


def facts(**kw: object) -> DossierFacts:
    base: dict[str, object] = dict(
        now=NOW,
        **OPEN,
        cofinancements=[
            CofinancementFact("etat", Decimal("5000.00"), None),
            CofinancementFact("ville", Decimal("2000.00"), None),
        ],
    )
    base.update(kw)
    return DossierFacts(**base)  # type: ignore[arg-type]


def refusal(name: str, state: str, role: str, f: DossierFacts) -> TransitionRefused:
    with pytest.raises(TransitionRefused) as caught:
        d.fire(name, state, role, f)
    assert caught.value.transition == name
    return caught.value


def test_the_table_keeps_the_contract_names() -> None:
    assert d.STATES == (
        "brouillon",
        "depose",
        "en_instruction",
        "complements_demandes",
        "instruit",
        "avise",
        "programme",
        "rejete",
        "conventionne",
        "bilan_depose",
        "cloture",
        "abandonne",
        "non_depose",
    )
    names = {t.name for t in d.TRANSITIONS}
    assert {
        "deposer",
        "prendre_en_instruction",
        "demander_complements",
        "completer",
        "terminer_instruction",
        "rendre_avis",
        "programmer",
        "rejeter",
        "conventionner",
        "deposer_bilan",
        "valider_bilan",
        "abandonner",
        "expirer",
        "renvoyer_bilan",
    } == names
    assert {t.name for t in d.TRANSITIONS if t.automatic} == {"programmer", "rejeter", "expirer"}
    for t in d.TRANSITIONS:
        assert t.dest in d.STATES and set(t.sources) <= set(d.STATES) and t.label
        assert set(t.conditions) <= set(d.CONDITIONS)
        if "instructeur" in t.roles:
            assert "admin" in t.roles


def test_a_whole_year_with_a_round_of_complements() -> None:
    state = "brouillon"
    steps: list[tuple[str, str, dict[str, object]]] = [
        ("deposer", "porteur", {}),
        ("prendre_en_instruction", "instructeur", {}),
        (
            "demander_complements",
            "instructeur",
            {"payload": {"comment": "Merci de joindre le RIB.", "due_date": date(2025, 2, 1)}},
        ),
        ("completer", "porteur", {"payload": {"comment": "RIB joint."}}),
        ("terminer_instruction", "instructeur", {}),
        ("rendre_avis", "admin", {"payload": {"avis": "favorable"}}),
    ]
    for name, role, extra in steps:
        assert name in d.available(state, role)
        state = d.fire(name, state, role, facts(**extra))
    assert state == "avise"

    decided = [
        CofinancementFact("etat", Decimal("5000"), "accorde"),
        CofinancementFact("ville", Decimal("2000"), "refuse"),
    ]
    assert d.after_decisions([c.decision for c in decided]) == "programmer"
    state = d.fire("programmer", state, "system", facts(cofinancements=decided))
    assert state == "programme"
    for name, role, extra in [
        ("conventionner", "instructeur", {}),
        ("deposer_bilan", "porteur", {}),
        (
            "renvoyer_bilan",
            "instructeur",
            {"payload": {"comment": "Il manque le compte rendu financier.", "due_date": "2025-03-01"}},
        ),
        ("deposer_bilan", "porteur", {}),
        ("valider_bilan", "instructeur", {}),
    ]:
        state = d.fire(name, state, role, facts(**extra))
    assert state == "cloture"
    assert d.available(state, "porteur") == [] and d.available(state, "instructeur") == []


def test_unknown_transition_is_refused_before_anything_else() -> None:
    err = refusal("publier", "brouillon", "admin", facts())
    assert err.kind == "unknown" and err.reasons[0].code == "unknown_transition"


def test_role_is_checked_before_state() -> None:
    # a financeur may not deposit, whatever the state
    err = refusal("deposer", "cloture", "financeur", facts())
    assert err.kind == "forbidden" and err.reasons[0].code == "forbidden"
    assert refusal("prendre_en_instruction", "depose", "porteur", facts()).kind == "forbidden"
    assert refusal("programmer", "avise", "admin", facts()).kind == "forbidden"


def test_state_is_checked_before_conditions() -> None:
    err = refusal("deposer", "depose", "porteur", facts(form_errors=[Reason("required", "x", "titre")]))
    assert err.kind == "wrong_state" and "Déposé" in err.reasons[0].message


def test_deposer_lists_every_missing_answer_and_the_closed_window() -> None:
    f = facts(
        now=datetime(2025, 2, 3, 9, 0),
        form_errors=[
            Reason("required", "Le titre est obligatoire.", "action.titre"),
            Reason("required", "Le budget doit être équilibré.", "budget"),
        ],
    )
    err = refusal("deposer", "brouillon", "porteur", f)
    assert err.kind == "conditions"
    assert [(r.code, r.field) for r in err.reasons] == [
        ("form_incomplete", "action.titre"),
        ("form_incomplete", "budget"),
        ("depot_closed", None),
    ]
    assert "31/01/2025" in err.reasons[-1].message
    assert d.evaluate("deposer", "brouillon", "porteur", f) == err.reasons


@pytest.mark.parametrize(
    ("today", "extension", "codes"),
    [
        (date(2024, 12, 31), None, ["depot_not_open"]),
        (date(2025, 1, 1), None, []),
        (date(2025, 1, 31), None, []),
        (date(2025, 2, 1), None, ["depot_closed"]),
        (date(2025, 2, 1), date(2025, 2, 1), []),
        (date(2025, 2, 2), date(2025, 2, 1), ["depot_closed"]),
    ],
)
def test_depot_window_is_inclusive_and_extension_keeps_it_open(
    today: date, extension: date | None, codes: list[str]
) -> None:
    f = facts(now=datetime.combine(today, datetime.max.time()), extension_until=extension)
    assert [r.code for r in d.evaluate("deposer", "brouillon", "porteur", f)] == codes


def test_demander_complements_needs_a_message_and_a_future_due_date() -> None:
    cases = [
        ({}, ["comment_required", "due_date_required"]),
        ({"comment": "  ", "due_date": NOW.date()}, ["comment_required", "due_date_not_future"]),
        ({"comment": "RIB ?", "due_date": "pas une date"}, ["due_date_invalid"]),
        ({"comment": "RIB ?", "due_date": "2025-01-20"}, []),
    ]
    for payload, codes in cases:
        got = d.evaluate("demander_complements", "en_instruction", "instructeur", facts(payload=payload))
        assert [r.code for r in got] == codes


def test_terminer_instruction_needs_a_proposed_amount_on_every_line() -> None:
    f = facts(
        cofinancements=[
            CofinancementFact("etat", None, None),
            CofinancementFact("caf", None, None),
            CofinancementFact("ville", Decimal("0"), None),
        ]
    )
    err = refusal("terminer_instruction", "en_instruction", "instructeur", f)
    assert [(r.code, r.field) for r in err.reasons] == [
        ("montant_propose_missing", "cofinancements.etat.montant_propose"),
        ("montant_propose_missing", "cofinancements.caf.montant_propose"),
    ]
    assert (
        refusal("terminer_instruction", "en_instruction", "instructeur", facts(cofinancements=[]))
        .reasons[0]
        .code
        == "no_cofinancement"
    )


@pytest.mark.parametrize("avis", ["favorable", "reserve", "defavorable", "ajourne"])
def test_rendre_avis_accepts_the_four_avis(avis: str) -> None:
    assert d.fire("rendre_avis", "instruit", "instructeur", facts(payload={"avis": avis})) == "avise"


def test_rendre_avis_refuses_a_missing_or_unknown_avis() -> None:
    assert refusal("rendre_avis", "instruit", "admin", facts()).reasons[0].code == "avis_required"
    assert (
        refusal("rendre_avis", "instruit", "admin", facts(payload={"avis": "bof"})).reasons[0].code
        == "avis_invalid"
    )


def test_deposer_bilan_needs_the_bilan_complete() -> None:
    f = facts(
        bilan_errors=[Reason("required", "Le nombre de bénéficiaires est obligatoire.", "beneficiaires")]
    )
    err = refusal("deposer_bilan", "conventionne", "porteur", f)
    assert [(r.code, r.field) for r in err.reasons] == [("bilan_incomplete", "beneficiaires")]


def test_renvoyer_bilan_needs_a_comment_and_a_due_date() -> None:
    reasons = refusal("renvoyer_bilan", "bilan_depose", "instructeur", facts()).reasons
    assert [r.code for r in reasons] == ["comment_required", "due_date_required"]


@pytest.mark.parametrize(
    ("decisions", "expected"),
    [
        ([], None),
        (["accorde", None], None),
        (["accorde", "ajourne"], None),
        (["accorde", "refuse"], "programmer"),
        (["accorde"], "programmer"),
        (["refuse", "refuse"], "rejeter"),
    ],
)
def test_after_decisions(decisions: list[str | None], expected: str | None) -> None:
    assert d.after_decisions(decisions) == expected


def test_automatic_decisions_agree_with_after_decisions() -> None:
    refused = [
        CofinancementFact("etat", Decimal(1), "refuse"),
        CofinancementFact("caf", Decimal(1), "refuse"),
    ]
    assert d.fire("rejeter", "avise", "system", facts(cofinancements=refused)) == "rejete"
    assert (
        refusal("programmer", "avise", "system", facts(cofinancements=refused)).reasons[0].code == "no_accord"
    )
    waiting = [
        CofinancementFact("etat", Decimal(1), "accorde"),
        CofinancementFact("caf", Decimal(1), "ajourne"),
    ]
    err = refusal("rejeter", "avise", "system", facts(cofinancements=waiting))
    assert [r.code for r in err.reasons] == ["decision_pending"]


def test_abandon_is_possible_until_programmed_only() -> None:
    for state in d.STATES:
        if state in d.BEFORE_PROGRAMME:
            assert d.fire("abandonner", state, "porteur", facts()) == "abandonne"
        else:
            assert refusal("abandonner", state, "porteur", facts()).kind == "wrong_state"


def test_a_draft_expires_once_the_window_closed_unless_extended() -> None:
    closed = facts(now=datetime(2025, 2, 1, 0, 5))
    assert d.time_driven("brouillon", facts()) == []
    assert d.time_driven("brouillon", closed) == ["expirer"]
    assert d.time_driven("depose", closed) == []
    assert d.time_driven("brouillon", replace(closed, extension_until=date(2025, 2, 10))) == []
    assert d.fire("expirer", "brouillon", "system", closed) == "non_depose"
    assert refusal("expirer", "brouillon", "system", facts()).reasons[0].code == "depot_still_open"
    assert "expirer" not in d.available("brouillon", "system")


def test_available_shows_buttons_per_role() -> None:
    assert d.available("brouillon", "porteur") == ["deposer", "abandonner"]
    assert d.available("en_instruction", "admin") == ["demander_complements", "terminer_instruction"]
    assert d.available("avise", "financeur") == []
    assert d.available("avise", "system") == []


def test_allowed_next() -> None:
    assert d.allowed_next("en_instruction") == {"complements_demandes", "instruit", "abandonne"}
    assert d.allowed_next("cloture") == set()


def test_mermaid_is_drawn_from_the_table_and_marks_the_current_state() -> None:
    text = d.mermaid("instruit")
    assert text.startswith("stateDiagram-v2")
    for state in d.STATES:
        assert f" as {state}" in text
    for t in d.TRANSITIONS:
        for source in t.sources:
            assert f"{source} --> {t.dest} : {t.label}" in text
    assert "classDef current" in text and "class instruit current" in text
    assert "class " not in d.mermaid().replace("class rejete,cloture,abandonne,non_depose terminal", "")
    with pytest.raises(ValueError):
        d.mermaid("nulle_part")


# --- property: no sequence of calls leaves the table ---------------------------------------------

ROLES = sorted(d.ROLES | {"inconnu"})
NAMES = [t.name for t in d.TRANSITIONS] + ["publier"]
days = st.dates(min_value=date(2024, 10, 1), max_value=date(2025, 6, 30))
cofinancement = st.builds(
    CofinancementFact,
    st.sampled_from(["etat", "agglo", "ville", "caf"]),
    st.none() | st.decimals(min_value=0, max_value=100000, places=2),
    st.sampled_from([None, "accorde", "refuse", "ajourne"]),
)
random_facts = st.builds(
    DossierFacts,
    now=st.datetimes(min_value=datetime(2024, 10, 1), max_value=datetime(2025, 6, 30)),
    depot_ouverture=st.none() | days,
    depot_cloture=st.none() | days,
    extension_until=st.none() | days,
    form_errors=st.lists(
        st.builds(Reason, st.just("required"), st.text(max_size=5), st.none() | st.text(max_size=5)),
        max_size=2,
    ),
    bilan_errors=st.lists(st.builds(Reason, st.just("required"), st.text(max_size=5)), max_size=1),
    cofinancements=st.lists(cofinancement, max_size=3),
    payload=st.fixed_dictionaries(
        {},
        optional={
            "comment": st.none() | st.text(max_size=5) | st.integers(),
            "due_date": st.none() | days | st.text(max_size=10) | st.integers(),
            "avis": st.sampled_from([*d.AVIS, "bof", None, 3]),
        },
    ),
)


class Lifecycle(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self.state = d.INITIAL_STATE

    @rule(name=st.sampled_from(NAMES), role=st.sampled_from(ROLES), f=random_facts)
    def fire_anything(self, name: str, role: str, f: DossierFacts) -> None:
        self.check(name, role, f)

    @rule(data=st.data(), f=random_facts)
    def fire_plausible(self, data: st.DataObject, f: DossierFacts) -> None:
        """Mostly transitions that start here, fired by a role that may: the walk gets deep."""
        here = [t for t in d.TRANSITIONS if self.state in t.sources and t.name != "abandonner"]
        if not here:
            return
        t = data.draw(st.sampled_from(here))
        self.check(t.name, data.draw(st.sampled_from(sorted(t.roles))), f)

    def check(self, name: str, role: str, f: DossierFacts) -> None:
        before = self.state
        try:
            reasons = d.evaluate(name, before, role, f)
        except TransitionRefused as refused:
            assert refused.reasons and refused.kind != "conditions"
            reasons = None
        try:
            self.state = d.fire(name, before, role, f)
        except TransitionRefused as refused:
            assert refused.reasons
            assert self.state == before
            if reasons is not None:
                assert refused.kind == "conditions" and refused.reasons == reasons
            return
        assert reasons == []
        assert self.state in d.allowed_next(before)
        spec = d.spec(name)
        assert role in spec.roles and before in spec.sources and self.state == spec.dest

    @invariant()
    def state_is_known(self) -> None:
        assert self.state in d.STATES


TestLifecycle = Lifecycle.TestCase
TestLifecycle.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)


def test_the_lifecycle_is_drawn_as_svg_from_the_table_with_its_text_alternative() -> None:
    import xml.etree.ElementTree as ET

    ns = {"s": "http://www.w3.org/2000/svg"}
    root = ET.fromstring(d.svg("instruit"))
    assert root.get("role") == "img" and root.get("aria-labelledby") == "lc-title lc-desc"
    assert "Instruit" in (root.findtext("s:title", namespaces=ns) or "")
    desc = root.findtext("s:desc", namespaces=ns) or ""
    for t in d.TRANSITIONS:  # every transition is told in words
        assert t.label in desc, t.label
    boxes = {g.get("data-state"): g for g in root.findall("s:g", ns) if "lc-state" in (g.get("class") or "")}
    assert list(boxes) == list(d.STATES)
    assert [s for s, g in boxes.items() if "current" in (g.get("class") or "")] == ["instruit"]
    assert {g.findtext("s:text", namespaces=ns) for g in boxes.values()} == set(d.STATE_LABELS.values())
    pairs = {(s, t.dest) for t in d.TRANSITIONS for s in t.sources}
    edges = [g for g in root.findall("s:g", ns) if g.get("class") == "lc-edge"]
    assert len(edges) == len(pairs)

    rects = []
    for g in boxes.values():
        r = g.find("s:rect", ns)
        assert r is not None
        x, y, w, h = (float(r.get(k) or 0) for k in ("x", "y", "width", "height"))
        rects.append((x, y, x + w, y + h))
    for i, a in enumerate(rects):  # no two boxes overlap
        for b in rects[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
    for g in edges:  # no bend of a line inside a box: lines go round them
        line = g.find("s:polyline", ns)
        assert line is not None
        points = [tuple(map(float, p.split(","))) for p in (line.get("points") or "").split()]
        for px, py in points[1:-1]:
            assert not any(x1 < px < x2 and y1 < py < y2 for x1, y1, x2, y2 in rects), (px, py)
    with pytest.raises(ValueError):
        d.svg("nulle_part")
