"""The rules file: validated with every mistake at its line, and the arithmetic of what is due today."""

from datetime import date, timedelta
from pathlib import Path

import pytest

from notifications.preview import preview
from notifications.rules import RulesFileError, default_rules, parse_rules, parse_rules_file

D = date(2027, 1, 31)


def rule(**fields):  # type: ignore[no-untyped-def]
    base = {
        "code": "r",
        "label": "R",
        "subject": "S {{ dossier.number }}",
        "template": "brouillon_avant_cloture",
        "recipients": "porteurs",
        "anchor": "campaign.depot_cloture",
        "offsets": [-14, -7, -1],
        "grace_days": 2,
        "states": ["brouillon"],
    }
    return parse_rules({"version": 1, "rules": [{**base, **fields}]}).rules[0]


def test_the_shipped_rules_are_valid_and_cover_the_calendar() -> None:
    rules = default_rules().by_code()
    assert rules["brouillon_avant_cloture"].offsets == [-14, -7, -1]
    assert rules["complements_rappel"].offsets == [-3] and rules["complements_en_retard"].offsets == [1]
    assert rules["bilan_a_deposer"].offsets == [-30, -7] and rules["bilan_en_retard"].offsets[:3] == [
        1,
        8,
        15,
    ]
    assert (
        rules["bilan_a_corriger"].anchor == "bilan.correction_due"
        and rules["focus_beneficiaires"].anchor == "focus.date"
    )
    assert rules["financeurs_decisions_manquantes"].offsets == [-7, -1]
    assert rules["instructeurs_depots_en_attente"].digest and rules["financeurs_decisions_manquantes"].digest
    events = {r.event for r in default_rules().rules if r.event}
    assert {
        "deposer",
        "demander_complements",
        "decision_financeur",
        "conventionner",
        "renvoyer_bilan",
    } <= events
    assert not any(r.optional for r in default_rules().rules if r.event)


def test_each_occurrence_is_due_from_its_day_until_the_next_one() -> None:
    r = rule()
    assert r.occurrence(D, D - timedelta(days=15)) is None
    assert r.occurrence(D, D - timedelta(days=14)) == -14
    assert r.occurrence(D, D - timedelta(days=8)) == -14
    assert r.occurrence(D, D - timedelta(days=7)) == -7
    assert r.occurrence(D, D - timedelta(days=1)) == -1
    assert r.occurrence(D, D) == -1  # grace of 2 days: the closing day still reminds
    assert r.occurrence(D, D + timedelta(days=1)) is None


def test_a_missed_pass_sends_the_latest_occurrence_only() -> None:
    r = rule()
    # no pass from J-14 to J-6: on J-6 only the J-7 occurrence is due, never J-14
    assert r.occurrence(D, D - timedelta(days=6)) == -7


def test_the_anchor_window_is_exactly_the_anchors_with_an_occurrence_due() -> None:
    r = rule(offsets=[-30, -14], grace_days=14)
    today = date(2027, 3, 1)
    lo, hi = r.anchor_window(today)
    for delta in range(-90, 90):
        anchor = today + timedelta(days=delta)
        assert (lo <= anchor <= hi) == (r.occurrence(anchor, today) is not None), anchor


def test_keys_name_rule_dossier_recipient_and_occurrence() -> None:
    r = rule()
    assert r.item_key(12, 3, D, -7, D - timedelta(days=7)) == "r:d12:u3:2027-01-31-7"


def test_a_wrong_rules_file_is_refused_with_every_mistake_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(
        "version: 1\n"
        "rules:\n"
        "  - code: brouillon\n"  # 3
        "    label: Brouillon\n"
        '    subject: "{{ dossier.number "\n'  # 5: broken Jinja
        "    anchor: campaign.depot_cloture\n"
        "    offsets: [-1, -7]\n"  # 7: not increasing
        "    states: [brouillon, perdu]\n"  # 8: unknown state
        "    recipients: voisins\n"  # 9: unknown recipients
        "    template: brouillon_avant_cloture\n"
        "  - code: brouillon\n"  # 11: duplicate code
        "    label: Accusé\n"
        "    subject: Accusé\n"
        "    event: deposer\n"
        "    optional: true\n"  # 15: an event message cannot be optional
        "    recipients: porteurs\n"
        "    template: inexistant\n",  # 17: no such template
        encoding="utf-8",
    )
    with pytest.raises(RulesFileError) as refused:
        parse_rules_file(path)
    errors = {(e.line, e.code) for e in refused.value.errors}
    assert (5, "template_syntax") in errors
    assert (7, "order") in errors
    assert (8, "unknown_state") in errors
    assert any(line == 9 for line, _ in errors)
    assert (11, "duplicate_code") in errors
    assert (15, "event_optional") in errors
    assert (17, "template_missing") in errors
    assert all(e.file == str(path) for e in refused.value.errors)
    assert "rules.yaml:7" in str(refused.value)


def test_a_rule_needs_an_anchor_or_an_event_and_a_known_dossier_date() -> None:
    with pytest.raises(RulesFileError) as refused:
        parse_rules(
            {
                "rules": [
                    {
                        "code": "x",
                        "label": "X",
                        "subject": "X",
                        "template": "bilan_a_deposer",
                        "recipients": "porteurs",
                        "anchor": "dossier.naissance",
                        "offsets": [1],
                        "states": ["conventionne"],
                    },
                    {
                        "code": "y",
                        "label": "Y",
                        "subject": "Y",
                        "template": "bilan_a_deposer",
                        "recipients": "porteurs",
                    },
                ]
            }
        )
    messages = " | ".join(str(e) for e in refused.value.errors)
    assert "naissance" in messages and "anchor" in messages and "rules[1]" in messages


@pytest.mark.parametrize("code", [r.code for r in default_rules().rules])
def test_every_rule_renders_in_french_with_the_link_and_what_to_do(code: str) -> None:
    rendered = preview(code, base_url="https://aap.example.test", today=date(2027, 1, 10))
    assert rendered.subject and "{{" not in rendered.subject
    assert (
        "https://aap.example.test/dossiers" in rendered.text
        and "https://aap.example.test/dossiers" in rendered.html
    )
    assert "Bonjour" in rendered.text and '<html lang="fr">' in rendered.html
    assert "Ce qu'il vous reste à faire" in rendered.text or "Et maintenant" in rendered.text


def test_an_avis_reminder_names_a_known_avis_date_and_only_it_goes_to_the_partner_asked(
    tmp_path: Path,
) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(
        "version: 1\n"
        "rules:\n"
        "  - code: attendus\n"
        "    label: Avis attendus\n"
        "    anchor: avis.rendu_le\n"  # 5: no such avis date
        "    offsets: [-7]\n"
        "    states: [depose]\n"
        "    recipients: partenaire_sollicite\n"  # 8: the partner asked is known on avis.due_date only
        "    template: digest\n"
        "    digest: true\n"
        "  - code: deposes\n"
        "    label: Déposés\n"
        "    anchor: dossier.deposited_at\n"
        "    offsets: [5]\n"
        "    states: [depose]\n"
        "    recipients: partenaire_sollicite\n"  # 16: not an avis reminder
        "    template: digest\n"
        "    digest: true\n",
        encoding="utf-8",
    )
    with pytest.raises(RulesFileError) as refused:
        parse_rules_file(path)
    errors = {(e.line, e.path, e.code) for e in refused.value.errors}
    assert (5, "rules[0].anchor", "unknown_anchor") in errors
    assert (8, "rules[0].recipients", "partner_recipients") in errors
    assert (16, "rules[1].recipients", "partner_recipients") in errors
    assert "due_date, given_at" in str(refused.value)
    shipped = default_rules().get("partenaire_avis_en_attente")
    assert shipped is not None and shipped.anchor == "avis.due_date" and shipped.digest


def test_a_digest_on_a_step_of_the_history_names_a_known_step_and_when_only_where_it_is_known(
    tmp_path: Path,
) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(
        "version: 1\n"
        "rules:\n"
        "  - code: signatures\n"
        "    label: Conventions à signer\n"
        "    anchor: evenement.signer_convention\n"  # 5: no such step in the history
        "    offsets: [0]\n"
        "    states: [conventionne]\n"
        "    recipients: instructeurs\n"
        "    template: digest\n"
        "    digest: true\n"
        "  - code: budgets\n"
        "    label: Budgets ajustés\n"
        "    anchor: evenement.budget_ajuste\n"
        "    when: avec_convention\n"  # 14: the budget ajusté does not know whether a convention goes
        "    offsets: [0]\n"
        "    states: [programme]\n"
        "    recipients: destinataire\n"  # 17: a dated rule has no event naming its recipient
        "    template: digest\n"
        "    digest: true\n",
        encoding="utf-8",
    )
    with pytest.raises(RulesFileError) as refused:
        parse_rules_file(path)
    errors = {(e.line, e.path, e.code) for e in refused.value.errors}
    assert (5, "rules[0].anchor", "unknown_anchor") in errors
    assert (14, "rules[1].when", "when_anchor") in errors
    assert (17, "rules[1].recipients", "destinataire_recipients") in errors
    assert "budget_ajuste" in str(refused.value) and "evenement.conventionner" in str(refused.value)
    shipped = default_rules().by_code()
    assert shipped["instructeurs_conventions_a_signer"].anchor == "evenement.conventionner"
    assert shipped["instructeurs_conventions_a_signer"].when == "avec_convention"
    assert (
        shipped["instructeurs_budgets_ajustes"].digest
        and shipped["budget_ajuste_recu"].event == "budget_ajuste"
    )
