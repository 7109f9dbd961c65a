"""`aap notifications preview RULE`: one message rendered with demo-like facts, no database needed."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from notifications import render
from notifications.rules import RulesFile, default_rules
from workflows.labels import avis_label

SAMPLE_DOSSIERS = [
    dict(
        dossier_id=12,
        number="2027-00012",
        title="Ateliers sociolinguistiques aux Serrets",
        state="brouillon",
        organisation="Association Horizon Manosque",
        campaign_title="Appel à projets 2027 du contrat de ville DLVAgglo – Manosque",
    ),
    dict(
        dossier_id=15,
        number="2027-00015",
        title="Chantier éducatif jeunes de Saint-Lazare",
        state="depose",
        organisation="Les Passerelles du Luberon",
        campaign_title="Appel à projets 2027 du contrat de ville DLVAgglo – Manosque",
    ),
]


def preview(
    code: str,
    *,
    base_url: str = "http://127.0.0.1:8000",
    today: date | None = None,
    rules: RulesFile | None = None,
) -> render.Rendered:
    rules = rules or default_rules()
    rule = rules.get(code)
    if rule is None:
        raise KeyError(code)
    today = today or date.today()
    offset = rule.offsets[-1] if rule.offsets else 0
    deadline = today - timedelta(days=offset) if rule.scheduled else today + timedelta(days=21)
    if rule.digest:
        sections = [
            {
                "label": rule.label,
                "lines": [
                    {
                        "number": d["number"],
                        "title": d["title"],
                        "organisation": d["organisation"],
                        "state_label": render.STATE_LABELS.get("depose", ""),
                        "deadline_fr": render.fr_date(deadline),
                        "when": f"échéance : {render.fr_date(deadline)} ({render.days_left_text(deadline, today)})",
                        "extra": "",
                        "link": render.dossier_link(base_url, int(d["dossier_id"])),  # type: ignore[call-overload]
                    }
                    for d in SAMPLE_DOSSIERS
                ],
            }
        ]
        ctx = render.context(
            {},
            base_url=base_url,
            today=today,
            deadline=None,
            recipient_name="Karim Haddad",
            optional=rule.optional,
        )
        return render.render_digest(sections, ctx)
    facts = render.dossier_facts(**SAMPLE_DOSSIERS[0])  # type: ignore[arg-type]
    event_at = datetime.combine(today, time(14, 32), UTC)
    extra = {
        **render.event_facts(event_at, "Europe/Paris"),  # the demo contract's zone
        "comite_fr": render.fr_date(today + timedelta(days=40)),
        "complements_message": "Merci de joindre le budget prévisionnel signé et le dernier rapport d'activité.",
        "bilan_message": "Merci d'expliquer l'écart sur les frais de personnel et de joindre les factures.",
        "focus_lieu": "Maison d'animation de proximité du Quartier Ouest",
        "focus_heure": "18 h 00",
        "pieces_demandees": ["Devis du traiteur", "Convention avec le collège"],
        "pieces_transmises": ["Devis du traiteur"],
        **render.decision_facts("Ville de Manosque", "accorde", "4500.00", None),
        "commune": {"insee": "04112", "name": "Manosque", "dossiers": 7},
        "message_texte": "Le devis du traiteur arrive lundi : pouvons-nous l'ajouter ensuite ?",
        "message_auteur": "Mme Durand (Les Passerelles)",
        "avis_question": "Le public visé est-il déjà suivi par vos services ?",
        "avis_service": "Service jeunesse de la Ville",
        "avis_label": avis_label("favorable"),
        "avis_texte": "Action complémentaire de notre accueil de loisirs.",
        "budget_version": 1,
        "cout_depose": "18 400,00 €",
        "cout_ajuste": "15 200,00 €",
        "subventions": [
            render.subsidy_facts("État (ANCT)", Decimal("8000.00"), "accorde", Decimal("4800.00")),
            render.subsidy_facts("Ville de Manosque", Decimal("3000.00"), "accorde", Decimal("3000.00")),
        ],
    }
    if rule.event in (
        "deposer",
        "decision_financeur",
        "completer",
        "message_du_porteur",
        "message_de_l_equipe",
        "budget_ajuste",
    ):
        deadline = None  # type: ignore[assignment]
    ctx = render.context(
        facts,
        base_url=base_url,
        today=today,
        deadline=deadline,
        recipient_name="Samira Benali",
        optional=rule.optional,
        **extra,
    )
    return render.render(rule, ctx)
