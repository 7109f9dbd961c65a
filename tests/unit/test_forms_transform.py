"""Merging drafts, prefill, reconduction, requested amounts, and the HTML form round trip."""

from __future__ import annotations

import copy
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from forms import FormContext, load_form
from forms.siret import luhn_valid
from forms.values import format_amount, french_amount, lenient_amount, parse_amount
from tests.unit.test_forms_engine import CTX, YEAR, complete_answers


@pytest.fixture(scope="module")
def form():
    return load_form("guichet_unique")


class _FormPost(HTMLParser):
    """What a browser would post for the rendered form, untouched."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def add(self, name: str, value: str) -> None:
        self.fields.setdefault(name, []).append(value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "input" and a.get("type") not in ("file",):
            if a.get("type") in ("radio", "checkbox"):
                if "checked" in a:
                    self.add(a["name"], a["value"])
            else:
                self.add(a["name"], a.get("value", ""))
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select and "selected" in a:
            self.add(self._select, a["value"])
        elif tag == "textarea":
            self._textarea = a["name"]
            self.add(a["name"], "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        if tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea][-1] += data

    def flat(self) -> dict[str, str | list[str]]:
        return {k: v[0] if len(v) == 1 else v for k, v in self.fields.items()}


def post_of(html: str) -> dict[str, str | list[str]]:
    parser = _FormPost()
    parser.feed(str(html))
    return parser.flat()


def test_merge_is_a_pure_deep_merge_where_lists_replace_and_none_removes(form):
    answers = {
        "organisation": {"nom": "A", "adresse": {"ligne": "1 rue", "commune": "Manosque"}},
        "action": {"qpv": ["QN00401M"]},
    }
    before = copy.deepcopy(answers)
    merged = form.merge(
        answers,
        {
            "organisation": {"adresse": {"commune": None, "code_postal": "04100"}},
            "action": {"qpv": ["QN00402M"], "titre": "T"},
        },
    )
    assert answers == before
    assert merged == {
        "organisation": {"nom": "A", "adresse": {"ligne": "1 rue", "code_postal": "04100"}},
        "action": {"qpv": ["QN00402M"], "titre": "T"},
    }
    assert form.merge(merged, {"action": None}) == {"organisation": merged["organisation"]}


def _reference_merge(answers: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """The merge as first written: copy everything, then apply the patch in place."""
    out = copy.deepcopy(answers)

    def into(base: dict[str, Any], part: dict[str, Any]) -> None:
        for key, value in part.items():
            if value is None:
                base.pop(key, None)
            elif isinstance(value, dict):
                if not isinstance(base.get(key), dict):
                    base[key] = {}
                into(base[key], value)
            else:
                base[key] = copy.deepcopy(value)

    into(out, patch)
    return out


_keys = st.sampled_from(["action", "budget", "titre", "qpv", "lignes", "montant"])
_leaf = st.one_of(st.text(max_size=3), st.integers(), st.lists(st.text(max_size=2), max_size=2))
_tree = st.recursive(_leaf, lambda inner: st.dictionaries(_keys, inner, max_size=4), max_leaves=12)
_patch = st.recursive(
    st.one_of(_leaf, st.none()), lambda inner: st.dictionaries(_keys, inner, max_size=4), max_leaves=8
)


@given(st.dictionaries(_keys, _tree, max_size=4), st.dictionaries(_keys, _patch, max_size=4))
def test_merge_gives_what_copying_everything_gave_and_changes_neither_input(
    answers: dict[str, Any], patch: dict[str, Any]
) -> None:
    from forms import transform

    answers_before, patch_before = copy.deepcopy(answers), copy.deepcopy(patch)
    merged = transform.merge(answers, patch)
    assert merged == _reference_merge(answers, patch)
    assert answers == answers_before and patch == patch_before
    merged_again = transform.merge(merged, patch)  # what it shares with `answers` is not changed either
    assert answers == answers_before and merged_again == _reference_merge(merged, patch)


def test_requested_amounts_per_financer_only_above_zero(form):
    answers = complete_answers()
    answers["budget"]["financements"]["DLVA"] = "0.00"
    assert form.requested_amounts(answers, CTX) == {
        "ETAT": Decimal("7000.00"),
        "MANOSQUE": Decimal("5400.00"),
        "CAF": Decimal("4000.00"),
    }
    assert form.requested_amounts({}, CTX) == {}


def test_prefill_from_the_organisation_profile_is_a_valid_draft(form):
    profile = {
        "name": "Association Horizon Manosque",
        "siret": "812 345 678 00013",
        "rna": "w043001257",
        "kind": "association",
        "address_line": "12 avenue de la Libération",
        "postal_code": "04100",
        "city": "Manosque",
        "representative_name": "Martin",
        "representative_first_name": "Claire",
        "representative_role": "Présidente",
        "representative_email": "presidence@horizon.example.org",
        "phone": "04 92 72 10 20",
        "email": "contact@horizon.example.org",
    }
    answers = form.prefill(profile)
    org = answers["organisation"]
    assert org["siret"] == "81234567800013" and org["rna"] == "W043001257" and org["statut"] == "association"
    assert org["adresse"] == {
        "ligne": "12 avenue de la Libération",
        "code_postal": "04100",
        "commune": "Manosque",
    }
    assert org["representant"]["prenom"] == "Claire"
    assert org["contact"] == {"email": "contact@horizon.example.org", "telephone": "04 92 72 10 20"}
    assert form.check_partial(answers, CTX) == []
    assert form.prefill({"kind": "fondation", "name": ""}) == {}


def test_reconduct_keeps_descriptions_and_drops_dates_amounts_and_attestation(form):
    previous = complete_answers()
    next_ctx = FormContext(
        year=YEAR + 1,
        financeurs=(("ETAT", "État"), ("CAF", "CAF")),
        qpvs=CTX.qpvs,
        orientations=CTX.orientations,
        priorites=CTX.priorites,
    )
    draft = form.reconduct(previous, next_ctx)
    action = draft["action"]
    assert action["titre"] == previous["action"]["titre"]
    assert action["description"] == previous["action"]["description"]
    assert "date_debut" not in action and "date_fin" not in action
    assert action["nouvelle"] is False and "reconduction_resultats" not in action
    assert draft["organisation"] == previous["organisation"]
    assert "attestation" not in draft
    assert [line.get("montant") for line in draft["budget"]["charges"]] == [None] * 4
    assert draft["budget"]["charges"][0] == {
        "compte": "64",
        "libelle": "Salaires et charges de deux animatrices (0,8 ETP)",
    }
    assert draft["budget"]["financements"] == {"ETAT": "0.00", "CAF": "0.00"}
    assert form.check_partial(draft, next_ctx) == []
    assert form.requested_amounts(draft, next_ctx) == {}


def test_a_rendered_form_posted_back_gives_the_same_answers(form):
    answers = complete_answers()
    del answers["pieces"]
    flat = post_of(form.render_html(answers, CTX))
    assert flat["organisation.siret"] == "81234567800013"
    assert flat["budget.charges.1.montant"] == "1200.00"
    assert form.answers_from_form(flat, CTX) == answers


def test_answers_from_form_types_values_and_reads_french_amounts(form):
    flat = {
        "action.public.femmes": "12",
        "action.nouvelle": "false",
        "action.qpv": ["QN00401M", "QN00402M"],
        "action.priorites": "jeunesse",
        "action.titre": "  Atelier  ",
        "budget.charges.0.compte": "64",
        "budget.charges.0.libelle": "Salaires",
        "budget.charges.0.montant": "1 234,5",
        "budget.charges.1.compte": "",
        "budget.charges.1.libelle": "",
        "budget.financements.ETAT": "500",
        "budget.financements.CAF": "",
        "organisation.siret": "812 345 678 00013",
    }
    answers = form.answers_from_form(flat, CTX)
    assert answers == {
        "organisation": {"siret": "81234567800013"},
        "action": {
            "titre": "Atelier",
            "public": {"femmes": 12},
            "qpv": ["QN00401M", "QN00402M"],
            "priorites": ["jeunesse"],
            "nouvelle": False,
        },
        "budget": {
            "charges": [{"compte": "64", "libelle": "Salaires", "montant": "1234.50"}],
            "financements": {"ETAT": "500.00"},
        },
    }
    assert form.answers_from_form(flat, CTX, section="budget").keys() == {"budget"}


def test_a_section_post_is_a_patch_that_clears_erased_fields(form):
    answers = complete_answers()
    flat = post_of(form.render_html(answers, CTX, section="action"))
    flat["action.partenaires"] = ""
    flat["action.qpv"] = []
    patch = form.answers_from_form(flat, CTX, section="action")
    assert set(patch) == {"action"}
    assert patch["action"]["partenaires"] is None
    merged = form.merge(answers, patch)
    assert "partenaires" not in merged["action"] and "qpv" not in merged["action"]
    assert merged["action"]["titre"] == answers["action"]["titre"]
    assert merged["organisation"] == answers["organisation"]


def test_invalid_typed_input_is_kept_for_the_checker_to_report(form):
    answers: dict[str, Any] = form.answers_from_form(
        {"action.public.femmes": "douze", "budget.financements.ETAT": "mille"}, CTX
    )
    assert answers["action"]["public"]["femmes"] == "douze"
    assert {e.code for e in form.check_partial(answers, CTX)} == {"integer", "amount"}


@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False))
def test_amounts_round_trip_exactly_through_answers_and_french_typing(amount):
    text = format_amount(amount)
    assert parse_amount(text) == amount
    assert lenient_amount(french_amount(amount)) == text


@given(st.text(alphabet="0123456789", min_size=13, max_size=13), st.integers(0, 12), st.integers(1, 9))
def test_luhn_catches_every_single_digit_typo(base, position, shift):
    siret = next(base + d for d in "0123456789" if luhn_valid(base + d))
    typo = siret[:position] + str((int(siret[position]) + shift) % 10) + siret[position + 1 :]
    assert luhn_valid(siret) and not luhn_valid(typo)
