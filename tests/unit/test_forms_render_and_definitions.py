"""Accessible HTML, the FPH form through the same engine, and refusal of broken definitions."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from forms import DefinitionError, FieldError, load_form, parse_definition
from forms.form import DEFINITIONS
from tests.unit.test_forms_engine import CTX, YEAR, complete_answers


@pytest.fixture(scope="module")
def form():
    return load_form("guichet_unique")


def test_every_input_has_a_label_and_sections_are_fieldsets(form):
    html = str(form.render_html({}, CTX))
    ids = re.findall(r'<(?:input|select|textarea)[^>]* id="([^"]+)"', html)
    assert len(ids) > 50
    for element_id in ids:
        assert f'<label for="{element_id}"' in html, element_id
    for label in (
        "Identification de l'organisme",
        "Description de l'action",
        "Budget prévisionnel de l'action",
    ):
        assert f"<legend>{label}</legend>" in html.replace("&#39;", "'")
    assert 'name="budget.charges.0.montant"' in html
    assert 'name="budget.financements.MANOSQUE"' in html
    assert 'aria-describedby="f-organisation-siret-help"' in html


def test_errors_sit_next_to_their_field_and_the_summary_links_to_them(form):
    answers = {"organisation": {"siret": "123"}}
    errors = form.check_partial(answers, CTX) + [
        FieldError("budget", "budget_unbalanced", "Budget : déséquilibré")
    ]
    html = str(form.render_html(answers, CTX, errors))
    assert 'class="error-summary" role="alert"' in html
    assert '<a href="#f-organisation-siret">SIRET : 14 chiffres attendus, 3 reçus</a>' in html
    assert '<a href="#f-budget">Budget : déséquilibré</a>' in html
    siret_input = re.search(r'<input[^>]*id="f-organisation-siret"[^>]*>', html)
    assert siret_input is not None
    assert 'aria-invalid="true"' in siret_input.group(0)
    assert 'aria-describedby="f-organisation-siret-help f-organisation-siret-error"' in siret_input.group(0)
    assert '<p class="field-error" id="f-organisation-siret-error">' in html
    assert 'value="123"' in html


def test_one_section_can_be_rendered_alone_with_its_own_errors(form):
    errors = form.check_complete({}, CTX)
    html = str(form.render_html({}, CTX, errors, section="budget"))
    assert 'name="organisation.nom"' not in html and 'name="budget.charges.0.compte"' in html
    assert "#f-budget-charges" in html and "#f-organisation-nom" not in html


def test_values_are_escaped(form):
    html = str(form.render_html({"action": {"titre": '<script>alert("x")</script>'}}, CTX))
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_readonly_shows_answers_in_words_and_skips_what_does_not_apply(form):
    html = str(form.render_html(complete_answers(), CTX, readonly=True))
    assert "<input" not in html and "<select" not in html
    assert "Accompagnement à la scolarité" in html
    assert "7\u202f000,00\u00a0€" in html
    assert "Association" in html and "Quartier Ouest" in html
    assert "Contact préalable" not in html  # a reconducted action: the prior contact does not apply


def test_the_fph_form_runs_on_the_same_engine():
    fph = load_form("fph")
    schema = fph.json_schema(CTX)
    Draft202012Validator.check_schema(schema)
    answers: dict[str, Any] = {
        "collectif": {
            "nom": "Les voisins de la Ponsonne",
            "qpv": "QN00402M",
            "membres": 6,
            "referent": {"nom": "Diallo", "prenom": "Awa", "telephone": "06 11 22 33 44"},
        },
        "projet": {
            "titre": "Repas partagé de la rentrée",
            "description": "Un repas entre voisins au pied des immeubles, chacun apporte un plat.",
            "date": f"{YEAR}-09-12",
            "lieu": "Square de la Ponsonne",
            "participants": 80,
        },
        "demande": {
            "financeur": "DLVA",
            "montant": 450,
            "depenses": [
                {"libelle": "Location de tables et barnums", "montant": "300.00"},
                {"libelle": "Boissons et vaisselle compostable", "montant": "200.00"},
            ],
            "autres_ressources": "50.00",
        },
        "engagement": {"nom": "Awa Diallo", "sur_l_honneur": True},
    }
    assert fph.check_complete(answers, CTX) == []
    assert Draft202012Validator(schema).is_valid(answers)
    assert {k: str(v) for k, v in fph.requested_amounts(answers, CTX).items()} == {"DLVA": "450.00"}
    assert fph.title_of(answers) == "Repas partagé de la rentrée"

    too_much = copy.deepcopy(answers)
    too_much["demande"]["montant"] = "2000.00"
    too_much["demande"]["depenses"][0]["montant"] = "1850.00"
    errors = fph.check_complete(too_much, CTX)
    assert [(e.path, e.code) for e in errors] == [("demande.montant", "max")]
    assert errors[0].message == "Montant demandé : 1\u202f500,00\u00a0€ au plus"

    unbalanced = fph.merge(answers, {"demande": {"autres_ressources": None}})
    assert [(e.path, e.code) for e in fph.check_complete(unbalanced, CTX)] == [
        ("demande", "budget_unbalanced")
    ]
    assert "collectif.referent.nom" in {e.path for e in fph.check_complete({}, CTX)}
    assert 'name="demande.depenses.0.libelle"' in str(fph.render_html(answers, CTX))


def _guichet_raw() -> dict[str, Any]:
    return yaml.safe_load((DEFINITIONS / "guichet_unique.v1.yaml").read_text(encoding="utf-8"))


def test_a_typo_in_a_definition_is_refused_with_its_location():
    raw = _guichet_raw()
    raw["sections"][0]["fields"][1]["type"] = "sirett"
    raw["sections"][1]["fields"][0]["lable"] = "Titre"
    with pytest.raises(DefinitionError) as caught:
        parse_definition(raw, "guichet_unique.v1.yaml")
    report = str(caught.value)
    assert "sections[0] (organisation).fields[1] (siret).type" in report
    assert "sections[1] (action).fields[0] (titre).lable" in report


def test_definitions_refuse_dangling_conditions_and_rule_paths():
    raw = _guichet_raw()
    raw["sections"][0]["fields"][3]["shown_when"]["field"] = "forme"
    with pytest.raises(DefinitionError, match="forme"):
        parse_definition(raw)
    raw = _guichet_raw()
    raw["rules"][0]["left"] = ["budget.depenses"]
    with pytest.raises(DefinitionError, match="budget.depenses"):
        parse_definition(raw)
    raw = _guichet_raw()
    raw["sections"][1]["fields"][1]["options"] = [{"value": "x", "label": "X"}]
    with pytest.raises(DefinitionError, match="options"):
        parse_definition(raw)


def test_every_shipped_definition_loads():
    for path in DEFINITIONS.glob("*.yaml"):
        code, version = path.name.removesuffix(".yaml").split(".v")
        assert load_form(code, int(version)).version == int(version)
