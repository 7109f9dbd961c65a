"""The avis asked of partners in the daily digests: the partner's avis still awaited (late ones
marked), the instructeurs' avis received and overdue; through the real cron pass and a real SMTP server."""

from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from aap.accounts.service import create_user
from aap.models import User
from aap.settings import Settings
from notifications.cron import run_pass
from tests.api.helpers import Actor, complete_draft
from tests.dialogue.test_avis_partenaires import PARTNER, _partner
from tests.notifications.conftest import SmtpServer, smtp  # noqa: F401  (the real SMTP server fixture)
from tests.web.staff_helpers import ADMIN, INSTRUCTEUR

OTHER_PARTNER = "logement@bailleur.demo.aap.test"


def _other_partner(engine: Engine) -> None:
    with Session(engine) as session:
        admin = session.scalar(select(User).where(User.email == ADMIN))
        assert admin is not None
        create_user(
            session,
            email=OTHER_PARTNER,
            password="mot de passe du bailleur",
            role="partenaire",
            full_name="Bailleur social",
            territory_id=admin.territory_id,
        )
        session.commit()


def _ask(instructeur: Actor, dossier_id: int, due: date, partner: str = PARTNER) -> None:
    asked = instructeur.post(
        f"/api/v1/dossiers/{dossier_id}/avis-partenaires",
        json={
            "destinataire": partner,
            "question": "Ce public est-il suivi ?",
            "date_limite": due.isoformat(),
        },
    )
    assert asked.status_code == 201, asked.text


def _digests_to(smtp: SmtpServer, address: str) -> list[str]:  # noqa: F811
    return [smtp.inbox.text(m) for m in smtp.inbox.by_rule("digest") if m["To"] == address]


def _line_of(text: str, number: str, section: str = "") -> str:
    """The digest's line about one dossier (in a section), with the lines under it (state, deadline)."""
    lines = text[text.index(f"== {section}") :].splitlines()
    i = next(i for i, line in enumerate(lines) if line.startswith(f"- {number} "))
    return "\n".join(lines[i : i + 3])


def test_the_partner_gets_one_digest_of_its_avis_awaited_and_the_instructeur_the_avis_received(
    client: TestClient,
    demo: date,
    db_engine: Engine,
    settings: Settings,
    smtp: SmtpServer,  # noqa: F811
) -> None:
    _partner(db_engine)
    _other_partner(db_engine)
    porteur = Actor(client, "porteur@demo.aap.test")
    instructeur = Actor(client, INSTRUCTEUR)
    first = complete_draft(porteur)
    others = instructeur.get("/api/v1/dossiers", params={"state": "en_instruction"}).json()["items"]
    others += instructeur.get("/api/v1/dossiers", params={"state": "depose"}).json()["items"]
    second = next(d for d in others if d["id"] != first["id"])
    today = date.today()
    _ask(instructeur, first["id"], today + timedelta(days=2))  # late in five days
    _ask(instructeur, second["id"], today + timedelta(days=10))
    _ask(instructeur, first["id"], today + timedelta(days=9), partner=OTHER_PARTNER)  # not late
    live = settings.model_copy(update={"smtp_url": smtp.url})
    five_days_on = datetime.now(UTC).replace(hour=7) + timedelta(days=5)

    run_pass(db_engine, live, five_days_on)
    (digest,) = _digests_to(smtp, PARTNER)
    assert "Avis qui vous sont demandés et pas encore rendus (2)" in digest
    late, awaited = _line_of(digest, first["number"]), _line_of(digest, second["number"])
    assert "Service jeunesse" not in late  # its own avis: no need to name it
    assert "EN RETARD : avis attendu le" in late and "il y a 3 jours" in late
    assert "EN RETARD" not in awaited and "dans 5 jours" in awaited
    assert "/avis/" in late  # the line opens the page where the partner answers
    (theirs,) = _digests_to(smtp, OTHER_PARTNER)  # another partner sees its own avis only
    assert "pas encore rendus (1)" in theirs and second["number"] not in theirs
    assert "EN RETARD" not in theirs and "dans 4 jours" in _line_of(theirs, first["number"])
    (told,) = _digests_to(smtp, INSTRUCTEUR)
    assert "Avis des partenaires en retard (date limite passée sans réponse) (1)" in told
    overdue = _line_of(told, first["number"], "Avis des partenaires en retard")
    assert "Service jeunesse de la Ville" in overdue and "Bailleur" not in overdue

    before = len(smtp.inbox.messages)
    run_pass(db_engine, live, five_days_on + timedelta(hours=2))
    assert len(smtp.inbox.messages) == before  # the same day: nothing more

    partner = Actor(client, PARTNER, password="mot de passe du service jeunesse")
    rules = {p["rule"]: p["optional"] for p in partner.get("/api/v1/me/preferences").json()["items"]}
    assert rules.get("partenaire_avis_en_attente") is True and rules.get("avis_demande") is False
    assert "instructeurs_avis_recus" not in rules  # the team's rules are not the partner's
    pending = partner.get("/api/v1/avis-partenaires", params={"en_attente": True}).json()["items"]
    on_second = next(a for a in pending if a["dossier_id"] == second["id"])
    given = partner.post(
        f"/api/v1/avis-partenaires/{on_second['id']}/reponse",
        json={"avis": "favorable", "texte": "Public que nous ne touchons pas : bienvenu."},
    )
    assert given.status_code == 200, given.text

    run_pass(db_engine, live, five_days_on + timedelta(days=1))
    told_next = _digests_to(smtp, INSTRUCTEUR)[-1]
    assert "Avis des partenaires reçus (1)" in told_next
    received = _line_of(told_next, second["number"], "Avis des partenaires reçus")
    assert "avis rendu le" in received and "Service jeunesse de la Ville : Favorable" in received
    partner_next = _digests_to(smtp, PARTNER)[-1]
    assert len(_digests_to(smtp, PARTNER)) == 2
    assert "(1)" in partner_next and second["number"] not in partner_next and first["number"] in partner_next
