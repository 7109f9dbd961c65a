"""The guichet unique engine: schema, validation of drafts and dépôts, the demo dossiers."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from forms import FieldError, FormContext, FormNotFound, form_versions, load_form
from forms.siret import luhn_valid, rna_valid, siret_valid

YEAR = 2026
CTX = FormContext(
    year=YEAR,
    financeurs=(("ETAT", "État"), ("DLVA", "DLVAgglo"), ("MANOSQUE", "Ville de Manosque"), ("CAF", "CAF")),
    qpvs=(("QN00401M", "Quartier Ouest"), ("QN00402M", "Quartier Est")),
    orientations=tuple(
        (code, code)
        for code in [
            "A",
            "A.1",
            "A.2",
            "A.3",
            "B",
            "B.1",
            "B.2",
            "C",
            "C.1",
            "C.2",
            "C.3",
            "C.4",
            "D",
            "D.1",
            "D.2",
        ]
    ),
    priorites=(
        ("jeunesse", "Jeunesse"),
        ("egalite_femmes_hommes", "Égalité femmes-hommes"),
        ("lutte_discriminations", "Lutte contre les discriminations"),
        ("citoyennete", "Citoyenneté"),
    ),
)
DEMO = Path(__file__).resolve().parents[2] / "aap" / "demo" / "actions.yaml"


def with_year(value: Any, year: int = YEAR) -> Any:
    if isinstance(value, str):
        return value.replace("{year}", str(year))
    if isinstance(value, dict):
        return {k: with_year(v, year) for k, v in value.items()}
    if isinstance(value, list):
        return [with_year(v, year) for v in value]
    return value


def demo_actions(completeness: str) -> list[dict[str, Any]]:
    data = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    return [a for a in data["actions"] if a["completeness"] == completeness]


def complete_answers() -> dict[str, Any]:
    action = next(a for a in demo_actions("complete") if a["key"] == "horizon_scolarite")
    return with_year(copy.deepcopy(action["answers"]))


def codes(errors: list[FieldError]) -> set[tuple[str, str]]:
    return {(e.path, e.code) for e in errors}


@pytest.fixture(scope="module")
def form():
    return load_form("guichet_unique")


def test_published_schema_is_valid_draft_2020_12(form):
    schema = form.json_schema(CTX)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["x-section-order"] == ["organisation", "action", "budget", "pieces", "attestation"]
    action = schema["properties"]["action"]["properties"]
    assert action["qpv"]["items"]["enum"] == ["QN00401M", "QN00402M"]
    assert list(schema["properties"]["budget"]["properties"]["financements"]["properties"]) == [
        "ETAT",
        "DLVA",
        "MANOSQUE",
        "CAF",
    ]
    assert action["contact_prealable"]["x-show-when"] == {
        "field": "nouvelle",
        "path": "action.nouvelle",
        "equals": True,
    }
    assert schema["properties"]["organisation"]["properties"]["siret"]["x-label"] == "SIRET"


def test_every_complete_demo_action_passes_the_engine_and_the_schema(form):
    validator = Draft202012Validator(form.json_schema(CTX))
    actions = demo_actions("complete")
    assert len(actions) >= 4
    for action in actions:
        answers = with_year(action["answers"])
        assert form.check_complete(answers, CTX) == [], action["key"]
        assert [e.message for e in validator.iter_errors(answers)] == [], action["key"]
        assert len(form.requested_amounts(answers, CTX)) >= 2


def test_every_incomplete_demo_action_is_a_valid_draft_missing_required_answers(form):
    validator = Draft202012Validator(form.json_schema(CTX))
    actions = demo_actions("incomplete")
    assert actions
    for action in actions:
        answers = with_year(action["answers"])
        assert form.check_partial(answers, CTX) == [], action["key"]
        errors = form.check_complete(answers, CTX)
        assert any(e.code == "required" for e in errors), action["key"]
        assert not validator.is_valid(answers)
        assert len(form.requested_amounts(answers, CTX)) >= 2


def test_demo_organisations_each_have_their_share_of_dossiers():
    data = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    per_org: dict[str, list[str]] = {}
    for a in data["actions"]:
        per_org.setdefault(a["organisation"], []).append(a["completeness"])
    assert per_org["asso_horizon"].count("complete") >= 2
    assert per_org["asso_horizon"].count("incomplete") >= 1
    assert len(per_org["asso_passerelles"]) >= 2
    assert set(per_org) == set(data["organisations"])


def test_a_three_digit_siret_is_refused_in_french_naming_the_field(form):
    errors = form.check_partial({"organisation": {"siret": "123"}}, CTX)
    assert errors == [FieldError("organisation.siret", "siret", "SIRET : 14 chiffres attendus, 3 reçus")]


def test_siret_key_is_checked_with_luhn_and_la_poste_rule(form):
    assert luhn_valid("81234567800013")
    assert siret_valid("81234567800013")
    assert not siret_valid("81234567800014")
    assert siret_valid("35600000000048")  # La Poste head office: passes Luhn
    assert siret_valid("35600000049837")  # a La Poste office: digit sum 50, Luhn would refuse it
    assert not luhn_valid("35600000049837")
    assert not siret_valid("35600000049838")
    errors = form.check_partial({"organisation": {"siret": "81234567800014"}}, CTX)
    assert codes(errors) == {("organisation.siret", "siret_checksum")}
    assert errors[0].message.startswith("SIRET : ")


def test_rna_is_w_and_nine_characters_and_only_required_for_associations(form):
    assert rna_valid("W043001257")
    assert rna_valid("W2A1234567")
    assert not rna_valid("W04300125")
    assert not rna_valid("043001257X")
    errors = form.check_partial({"organisation": {"rna": "X12"}}, CTX)
    assert codes(errors) == {("organisation.rna", "rna")}
    answers = complete_answers()
    del answers["organisation"]["rna"]
    assert codes(form.check_complete(answers, CTX)) == {("organisation.rna", "required")}
    answers["organisation"]["statut"] = "ccas"
    assert form.check_complete(answers, CTX) == []


def test_unknown_sections_and_fields_are_refused_even_in_a_draft(form):
    errors = form.check_partial({"organisation": {"nom": "X", "couleur": "bleu"}, "divers": {}}, CTX)
    assert codes(errors) == {("organisation.couleur", "unknown_field"), ("divers", "unknown_field")}


def test_a_draft_may_miss_required_answers_but_not_hold_wrong_types(form):
    assert form.check_partial({}, CTX) == []
    errors = form.check_partial(
        {
            "action": {"public": {"femmes": "beaucoup"}, "date_debut": "01/03/2026", "qpv": ["QN99999X"]},
            "budget": {"charges": [{"montant": 12.345}], "financements": {"REGION": "10"}},
        },
        CTX,
    )
    assert codes(errors) == {
        ("action.public.femmes", "integer"),
        ("action.date_debut", "date"),
        ("action.qpv.0", "choice"),
        ("budget.charges.0.montant", "amount"),
        ("budget.financements.REGION", "unknown_field"),
    }
    montant = next(e for e in errors if e.path == "budget.charges.0.montant")
    assert montant.message.startswith("Charges, ligne 1 — Montant : ")


def test_empty_answers_list_every_required_field_for_the_depot(form):
    errors = form.check_complete({}, CTX)
    assert {e.code for e in errors} == {"required"}
    paths = {e.path for e in errors}
    assert {
        "organisation.nom",
        "organisation.siret",
        "organisation.adresse.code_postal",
        "organisation.representant.email",
        "action.titre",
        "action.public.age_65_plus",
        "action.qpv",
        "action.nouvelle",
        "action.focus_beneficiaires",
        "budget.charges",
        "budget.financements",
        "attestation.sur_l_honneur",
    } <= paths
    # conditional questions only once their condition holds; organisation pieces are checked elsewhere
    assert not paths & {"organisation.rna", "action.contact_prealable.date", "action.reconduction_resultats"}
    assert not any(p.startswith("pieces") for p in paths)
    assert form.missing({}, CTX) == errors


def test_a_new_action_requires_the_prior_contact(form):
    answers = complete_answers()
    answers["action"]["nouvelle"] = True
    assert codes(form.check_complete(answers, CTX)) == {
        ("action.contact_prealable.date", "required"),
        ("action.contact_prealable.interlocuteur", "required"),
    }


def test_an_unbalanced_budget_is_refused_with_both_totals(form):
    answers = complete_answers()
    answers["budget"]["financements"]["CAF"] = "3500.00"
    errors = form.check_complete(answers, CTX)
    assert codes(errors) == {("budget", "budget_unbalanced")}
    message = errors[0].message
    assert "17\u202f000,00\u00a0€" in message and "16\u202f500,00\u00a0€" in message
    assert form.check_partial(answers, CTX) == []


def test_financements_may_not_exceed_the_charges(form):
    answers = complete_answers()
    answers["budget"]["produits"] = []
    answers["budget"]["charges"] = [{"compte": "64", "libelle": "Salaires", "montant": "1000.00"}]
    answers["budget"]["financements"] = {"ETAT": "1500.00"}
    assert ("budget.financements", "financements_exceed_charges") in codes(form.check_complete(answers, CTX))


def test_amounts_accept_json_numbers_and_are_normalised_without_floats(form):
    answers = complete_answers()
    answers["budget"]["financements"] = {"ETAT": 7000, "MANOSQUE": 5400.0, "CAF": "4000"}
    assert form.check_complete(answers, CTX) == []
    merged = form.merge(
        answers, {"budget": {"produits": [{"compte": "75", "libelle": "Dons", "montant": 600.1}]}}
    )
    assert merged["budget"]["financements"] == {"ETAT": "7000.00", "MANOSQUE": "5400.00", "CAF": "4000.00"}
    assert merged["budget"]["produits"][0]["montant"] == "600.10"


def test_dates_must_be_ordered_and_start_in_the_campaign_year(form):
    answers = complete_answers()
    answers["action"]["date_debut"] = f"{YEAR}-10-01"
    answers["action"]["date_fin"] = f"{YEAR}-09-30"
    assert codes(form.check_complete(answers, CTX)) == {("action.date_fin", "dates_order")}
    answers["action"]["date_debut"] = f"{YEAR - 1}-12-01"
    errors = form.check_complete(answers, CTX)
    assert ("action.date_debut", "date_out_of_year") in codes(errors)
    assert not Draft202012Validator(form.json_schema(CTX)).is_valid(answers)


def test_the_engagements_must_be_given(form):
    answers = complete_answers()
    answers["attestation"]["sur_l_honneur"] = False
    answers["action"]["focus_beneficiaires"] = False
    assert codes(form.check_complete(answers, CTX)) == {
        ("attestation.sur_l_honneur", "must_be_true"),
        ("action.focus_beneficiaires", "must_be_true"),
    }


def test_checklist_groups_errors_by_section(form):
    answers = complete_answers()
    del answers["attestation"]
    checklist = form.checklist(answers, CTX)
    assert list(checklist) == ["organisation", "action", "budget", "pieces", "attestation"]
    assert checklist["organisation"] == [] and len(checklist["attestation"]) == 4


def test_versions_and_unknown_forms(form):
    assert form_versions("guichet_unique") == [1]
    assert load_form("guichet_unique", 1) is form
    assert (form.code, form.version) == ("guichet_unique", 1)
    assert [s.key for s in form.sections][:2] == ["organisation", "action"]
    assert form.sections[0].label == "Identification de l'organisme"
    with pytest.raises(FormNotFound):
        load_form("cerfa_inexistant")
    with pytest.raises(KeyError):
        load_form("guichet_unique", 9)


def test_title_and_pieces(form):
    assert form.title_of(complete_answers()) == "Accompagnement à la scolarité et café des parents"
    assert form.title_of({}) is None
    pieces = {f.key: f.scope for f in form.pieces()}
    assert set(pieces) == {
        "statuts",
        "liste_dirigeants",
        "rib",
        "comptes_approuves",
        "rapport_activite",
        "delegation_signature",
    }
    assert set(pieces.values()) == {"organisation"}
    assert form.check_partial({"pieces": {"statuts": 12, "rib": "x"}}, CTX) == [
        FieldError(
            "pieces.rib", "attachment", "Relevé d'identité bancaire : référence de pièce jointe invalide"
        )
    ]
