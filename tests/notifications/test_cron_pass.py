"""The cron pass on the demo, delivering to a real SMTP server: reminders reach the right people once,
however many passes run, and nothing is lost while the server is down."""

import re
import threading
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from aap.db import make_engine
from aap.models import Campaign, Dossier, Membership, Notification, User
from aap.settings import Settings
from notifications.cron import run_pass
from tests.conftest import campaign_elsewhere, login
from tests.notifications.conftest import SmtpServer
from workflows.reasons import fr_date


def go(db_engine: Engine, session: Session, settings: Settings, smtp: SmtpServer, now: datetime):  # type: ignore[no-untyped-def]
    """One pass, after ending the test's own transaction (on SQLite every transaction holds the write
    lock from its BEGIN, as the app's do)."""
    session.commit()
    summary = run_pass(db_engine, with_smtp(settings, smtp), now)
    session.expire_all()
    return summary


def at(day: date, hour: int = 7) -> datetime:
    return datetime.combine(day, time(hour), UTC)


def open_campaign(session: Session) -> Campaign:
    return session.scalars(select(Campaign).order_by(Campaign.year.desc())).first()  # type: ignore[return-value]


def previous_campaign(session: Session) -> Campaign:
    return session.scalars(select(Campaign).order_by(Campaign.year)).first()  # type: ignore[return-value]


def drafts(session: Session, campaign: Campaign) -> list[Dossier]:
    return list(
        session.scalars(
            select(Dossier)
            .where(Dossier.campaign_id == campaign.id, Dossier.state == "brouillon")
            .order_by(Dossier.id)
        )
    )


def porteur_emails(session: Session, organisation_id: int) -> set[str]:
    return set(
        session.scalars(
            select(User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.organisation_id == organisation_id, User.role == "porteur")
        )
    )


def with_smtp(settings: Settings, smtp: SmtpServer) -> Settings:
    return settings.model_copy(update={"smtp_url": smtp.url})


def expected_draft_reminders(session: Session, campaign: Campaign) -> set[tuple[str, str]]:
    return {
        (email, d.number)
        for d in drafts(session, campaign)
        for email in porteur_emails(session, d.organisation_id)
    }


def received(smtp: SmtpServer, rule: str) -> list[tuple[str, str]]:
    return sorted((m["To"], m["X-Aap-Key"].split(":")[1]) for m in smtp.inbox.by_rule(rule))


def numbers_by_id(session: Session) -> dict[str, str]:
    return {f"d{d.id}": d.number for d in session.scalars(select(Dossier))}


def test_seven_days_before_the_close_each_porteur_is_reminded_of_each_draft_once(
    db_engine: Engine, session: Session, settings: Settings, demo: date, smtp: SmtpServer
) -> None:
    campaign = open_campaign(session)
    expected = expected_draft_reminders(session, campaign)
    assert len(expected) >= 3
    now = at(campaign.depot_cloture - timedelta(days=7))

    summary = go(db_engine, session, settings, smtp, now)

    ids = numbers_by_id(session)
    got = [(to, ids[d]) for to, d in received(smtp, "brouillon_avant_cloture")]
    assert sorted(got) == sorted(expected)  # one message per draft and porteur, no more
    assert summary.delivery.sent >= len(expected)
    deadline = fr_date(campaign.depot_cloture)
    for draft in drafts(session, campaign):
        [msg] = [
            m for m in smtp.inbox.by_rule("brouillon_avant_cloture") if f":d{draft.id}:" in m["X-Aap-Key"]
        ]
        body = smtp.inbox.text(msg)
        assert draft.number in msg["Subject"] and "NON DÉPOSÉ" in msg["Subject"]
        assert draft.title and draft.title in body
        assert deadline in body and deadline in msg["Subject"]
        assert f"{settings.base_url}/dossiers/{draft.id}" in body
        assert "n'est PAS DÉPOSÉ" in body and "Déposer le dossier" in body
        assert f"/dossiers/{draft.id}" in smtp.inbox.html(msg)

    # the same pass again: nothing more
    before = len(smtp.inbox.messages)
    again = go(db_engine, session, settings, smtp, now + timedelta(hours=1))
    assert len(smtp.inbox.messages) == before
    assert again.recorded_total == 0 and again.delivery.sent == 0


def test_three_passes_at_once_send_each_message_once(
    db_engine: Engine, session: Session, settings: Settings, demo: date, smtp: SmtpServer
) -> None:
    campaign = open_campaign(session)
    expected = expected_draft_reminders(session, campaign)
    now = at(campaign.depot_cloture - timedelta(days=7))
    url = db_engine.url.render_as_string(hide_password=False)
    engines = [make_engine(url) for _ in range(3)]
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def one_pass(engine: Engine) -> None:
        try:
            barrier.wait()
            run_pass(engine, with_smtp(settings, smtp), now)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    session.commit()
    threads = [threading.Thread(target=one_pass, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for e in engines:
        e.dispose()
    assert not errors, errors

    keys = [m["X-Aap-Key"] for m in smtp.inbox.messages]
    assert len(keys) == len(set(keys)), "a message was sent twice"
    ids = numbers_by_id(session)
    assert sorted((to, ids[d]) for to, d in received(smtp, "brouillon_avant_cloture")) == sorted(expected)
    rows = session.scalars(select(Notification).where(Notification.rule == "brouillon_avant_cloture")).all()
    assert len(rows) == len(expected) and all(r.status == "sent" for r in rows)


def test_smtp_down_nothing_is_lost_and_once_back_each_message_goes_out_once(
    db_engine: Engine, session: Session, settings: Settings, demo: date, smtp: SmtpServer
) -> None:
    campaign = open_campaign(session)
    expected = expected_draft_reminders(session, campaign)
    now = at(campaign.depot_cloture - timedelta(days=7))
    smtp.stop()

    down = go(db_engine, session, settings, smtp, now)

    assert down.delivery.sent == 0 and down.delivery.server_error
    assert "injoignable" in down.text()
    pending = session.scalars(
        select(Notification).where(Notification.rule == "brouillon_avant_cloture")
    ).all()
    assert len(pending) == len(expected) and {n.status for n in pending} == {"pending"}

    # still down a few minutes later: still pending, still not failed
    go(db_engine, session, settings, smtp, now + timedelta(minutes=5))
    session.expire_all()
    assert {
        n.status
        for n in session.scalars(select(Notification).where(Notification.rule == "brouillon_avant_cloture"))
    } == {"pending"}

    smtp.start()
    back = go(db_engine, session, settings, smtp, now + timedelta(hours=2))
    # every waiting message went out: the draft reminders, and what the demo's dépôts of last week left
    assert back.delivery.sent == len(smtp.inbox.messages) > len(expected)
    ids = numbers_by_id(session)
    assert sorted((to, ids[d]) for to, d in received(smtp, "brouillon_avant_cloture")) == sorted(expected)
    go(db_engine, session, settings, smtp, now + timedelta(hours=3))
    keys = [m["X-Aap-Key"] for m in smtp.inbox.messages]
    assert len(keys) == len(set(keys))


def test_bilans_due_in_two_weeks_bring_reminders_to_their_porteurs(
    db_engine: Engine, session: Session, settings: Settings, demo: date, smtp: SmtpServer
) -> None:
    previous = previous_campaign(session)
    conventionnes = list(
        session.scalars(
            select(Dossier).where(
                Dossier.campaign_id == previous.id,
                Dossier.state == "conventionne",
                Dossier.bilan_due == demo + timedelta(days=14),
            )
        )
    )
    # the demo's bilans still to write (one late, one sent back: theirs are other reminders)
    assert conventionnes

    go(db_engine, session, settings, smtp, at(demo))

    expected = {(e, d.number) for d in conventionnes for e in porteur_emails(session, d.organisation_id)}
    ids = numbers_by_id(session)
    assert {(to, ids[d]) for to, d in received(smtp, "bilan_a_deposer")} == expected
    msg = smtp.inbox.by_rule("bilan_a_deposer")[0]
    assert fr_date(demo + timedelta(days=14)) in msg["Subject"]
    assert "dans 14 jours" in smtp.inbox.text(msg)


def test_the_day_after_the_close_drafts_left_are_non_depose_and_their_porteurs_told(
    db_engine: Engine, session: Session, settings: Settings, demo: date, smtp: SmtpServer
) -> None:
    campaign = open_campaign(session)
    left = drafts(session, campaign)
    summary = go(db_engine, session, settings, smtp, at(campaign.depot_cloture + timedelta(days=1)))

    assert summary.expired == len(left)
    session.expire_all()
    states = {
        d.id: d.state for d in session.scalars(select(Dossier).where(Dossier.id.in_([d.id for d in left])))
    }
    assert set(states.values()) == {"non_depose"}
    told = smtp.inbox.by_rule("brouillon_non_depose")
    assert {m["X-Aap-Key"].split(":")[1] for m in told} == {f"d{d.id}" for d in left}
    assert not smtp.inbox.by_rule("brouillon_avant_cloture")  # no stale "J-1" after the close


def test_each_dossier_lists_what_was_sent_about_it(
    db_engine: Engine, session: Session, settings: Settings, demo: date, smtp: SmtpServer, client: TestClient
) -> None:
    campaign = open_campaign(session)
    draft = drafts(session, campaign)[0]
    go(db_engine, session, settings, smtp, at(campaign.depot_cloture - timedelta(days=7)))
    [owner] = sorted(porteur_emails(session, draft.organisation_id))
    cloture, draft_id, number = campaign.depot_cloture, draft.id, draft.number
    session.commit()

    answer = client.get(f"/api/v1/dossiers/{draft_id}/notifications", headers=login(client, owner))
    assert answer.status_code == 200
    body = answer.json()
    assert body["total"] == len(body["items"]) >= 1
    [item] = [i for i in body["items"] if i["rule"] == "brouillon_avant_cloture"]
    assert item["recipient"] == owner and item["status"] == "sent" and item["sent_at"]
    assert item["deadline"] == cloture.isoformat() and number in item["subject"]

    staff = client.get(
        f"/api/v1/dossiers/{draft_id}/notifications", headers=login(client, "instructeur@demo.aap.test")
    )
    assert staff.status_code == 200 and staff.json()["total"] >= 1
    other = "porteur2@demo.aap.test" if owner != "porteur2@demo.aap.test" else "porteur@demo.aap.test"
    hidden = client.get(f"/api/v1/dossiers/{draft_id}/notifications", headers=login(client, other))
    assert hidden.status_code == 404

    mine = client.get("/api/v1/me/notifications", headers=login(client, owner)).json()
    assert mine["total"] >= 1 and all(i["recipient"] == owner for i in mine["items"])


def test_a_porteur_who_turned_off_draft_reminders_still_gets_the_acknowledgement_of_depot(
    db_engine: Engine, session: Session, settings: Settings, demo: date, smtp: SmtpServer, client: TestClient
) -> None:
    from aap.dossiers import service

    campaign = open_campaign(session)
    owner = session.scalar(select(User).where(User.email == "porteur@demo.aap.test"))
    assert owner is not None
    session.commit()
    headers = login(client, owner.email)
    off = client.put(
        "/api/v1/me/preferences/brouillon_avant_cloture", json={"enabled": False}, headers=headers
    )
    assert off.status_code == 200 and off.json()["enabled"] is False
    legal = client.put("/api/v1/me/preferences/accuse_depot", json={"enabled": False}, headers=headers)
    assert legal.status_code == 422 and legal.json()["detail"]["code"] == "regle_obligatoire"
    prefs = {p["rule"]: p for p in client.get("/api/v1/me/preferences", headers=headers).json()["items"]}
    assert prefs["brouillon_avant_cloture"]["enabled"] is False and prefs["accuse_depot"]["optional"] is False

    now = at(campaign.depot_cloture - timedelta(days=7))
    go(db_engine, session, settings, smtp, now)
    reminded = {m["To"] for m in smtp.inbox.by_rule("brouillon_avant_cloture")}
    assert owner.email not in reminded and "porteur2@demo.aap.test" in reminded

    # the porteur deposits one of its complete drafts: the acknowledgement comes all the same
    mine = [d for d in drafts(session, campaign) if d.organisation_id in {o.id for o in owner.organisations}]
    deposited = None
    for draft in mine:
        try:
            deposited = service.fire_transition(
                session, owner, draft.id, "deposer", {}, now + timedelta(hours=2)
            )
            break
        except Exception:
            session.rollback()
    assert deposited is not None, "the demo should hold a complete draft"
    go(db_engine, session, settings, smtp, now + timedelta(hours=3))
    [ack] = [m for m in smtp.inbox.by_rule("accuse_depot") if deposited.number in m["Subject"]]
    assert ack["To"] == owner.email
    body = smtp.inbox.text(ack)
    assert "bien été DÉPOSÉ" in body and fr_date((now + timedelta(hours=2)).date()) in body


def test_instructeurs_get_one_daily_digest_of_dossiers_waiting_to_be_taken(
    db_engine: Engine, session: Session, settings: Settings, demo: date, smtp: SmtpServer, client: TestClient
) -> None:
    from aap.dossiers import service

    campaign = open_campaign(session)
    deposit_day = campaign.depot_ouverture + timedelta(days=1)
    factory = sessionmaker(bind=db_engine, expire_on_commit=False)
    deposited = []
    candidates = drafts(session, campaign)
    session.commit()
    for draft in candidates:
        with factory() as s:
            porteur = s.scalar(
                select(User)
                .join(Membership, Membership.user_id == User.id)
                .where(Membership.organisation_id == draft.organisation_id)
            )
            try:
                service.fire_transition(s, porteur, draft.id, "deposer", {}, at(deposit_day, 10))
                deposited.append(draft)
            except Exception:
                s.rollback()
    assert len(deposited) >= 2

    day5 = deposit_day + timedelta(days=5)
    go(db_engine, session, settings, smtp, at(day5))
    digests = [m for m in smtp.inbox.messages if m["X-Aap-Rule"] == "digest"]
    assert [m["To"] for m in digests] == ["instructeur@demo.aap.test"]  # one message, not one per dossier
    body = smtp.inbox.text(digests[0])
    for d in deposited:
        assert d.number in body and f"/dossiers/{d.id}" in body
    from urllib.parse import urlsplit

    from tests.web.staff_helpers import web_login

    session.commit()  # the test's own session lets the web app write (SQLite)
    web_login(client, "instructeur@demo.aap.test")
    for link in set(re.findall(r"https?://[^\s<>\"]+", body)):  # each link the instructeur may click
        assert client.get(urlsplit(link).path).status_code == 200, link

    go(db_engine, session, settings, smtp, at(day5, 15))  # same day: nothing more
    assert len([m for m in smtp.inbox.messages if m["X-Aap-Rule"] == "digest"]) == 1
    go(db_engine, session, settings, smtp, at(day5 + timedelta(days=1)))  # next day: still waiting
    assert len([m for m in smtp.inbox.messages if m["X-Aap-Rule"] == "digest"]) == 2

    # the digest shows in the log of each dossier it lists (for the instructeur)
    listed = session.scalars(select(Notification).where(Notification.rule == "digest")).all()
    assert len(listed) == 2
    from notifications.log import dossier_notifications

    instructeur = session.scalar(select(User).where(User.email == "instructeur@demo.aap.test"))
    assert any(n.rule == "digest" for n in dossier_notifications(session, instructeur, deposited[0].id))


def test_a_draft_given_more_time_is_reminded_of_its_own_deadline(
    db_engine: Engine, session: Session, settings: Settings, demo: date, smtp: SmtpServer
) -> None:
    campaign = open_campaign(session)
    extended = drafts(session, campaign)[0]
    extended.extension_until = campaign.depot_cloture + timedelta(days=10)
    extended.extension_reason = "Président hospitalisé"

    def reminders_of(number: str) -> list[str]:
        ids = numbers_by_id(session)
        return [
            smtp.inbox.text(m)
            for m in smtp.inbox.by_rule("brouillon_avant_cloture")
            if ids[m["X-Aap-Key"].split(":")[1]] == number
        ]

    go(db_engine, session, settings, smtp, at(campaign.depot_cloture - timedelta(days=1)))
    others = [d for d in drafts(session, campaign) if d.id != extended.id]
    assert all(fr_date(campaign.depot_cloture) in reminders_of(d.number)[0] for d in others)
    first = reminders_of(extended.number)
    assert len(first) == 1  # its J-14: eleven days before its own deadline
    assert fr_date(extended.extension_until) in first[0] and fr_date(campaign.depot_cloture) not in first[0]

    go(db_engine, session, settings, smtp, at(extended.extension_until - timedelta(days=1)))
    assert len(reminders_of(extended.number)) == 2  # and its J-1
    assert session.get(Dossier, extended.id).state == "brouillon"  # past the call's close, not expired


def test_financers_still_to_decide_get_a_digest_a_week_before_validation(
    db_engine: Engine, session: Session, settings: Settings, demo: date, smtp: SmtpServer
) -> None:
    from aap.dossiers import service
    from aap.financing import service as financing

    def by_email(email: str) -> User:
        return session.scalars(select(User).where(User.email == email)).one()

    campaign = open_campaign(session)
    instructeur = by_email("instructeur@demo.aap.test")
    dossier = session.scalars(
        select(Dossier).where(Dossier.campaign_id == campaign.id, Dossier.state == "depose")
    ).first()
    assert dossier is not None, "the demo holds a deposited dossier of Les Passerelles"
    when = at(demo, 10)
    service.fire_transition(session, instructeur, dossier.id, "prendre_en_instruction", {}, when)
    for line in service.get_dossier(session, instructeur, dossier.id).cofinancements:
        financing.propose(session, instructeur, dossier.id, line.financeur.code, line.montant_demande, when)
    service.fire_transition(session, instructeur, dossier.id, "terminer_instruction", {}, when)
    service.fire_transition(session, instructeur, dossier.id, "rendre_avis", {"avis": "favorable"}, when)
    lines = service.get_dossier(session, instructeur, dossier.id).cofinancements
    decided, *waiting = [line.financeur.code for line in lines]
    agent = {"ETAT": "etat", "DLVA": "agglo", "MANOSQUE": "ville", "CAF": "caf"}
    first = by_email(f"{agent[decided]}@demo.aap.test")
    amount = lines[0].montant_demande
    financing.decide(session, first, dossier.id, decided, "accorde", amount, None, when)

    go(db_engine, session, settings, smtp, at(campaign.date_of("validation") - timedelta(days=7)))

    digests = [m for m in smtp.inbox.messages if m["X-Aap-Rule"] == "digest"]
    to = sorted(m["To"] for m in digests)
    assert to == sorted(f"{agent[code]}@demo.aap.test" for code in waiting)  # not the one who decided
    assert all(dossier.number in smtp.inbox.text(m) for m in digests)


def test_a_pass_counts_days_in_the_app_s_calendar_not_in_utc(
    db_engine: Engine, session: Session, settings: Settings, demo: date, smtp: SmtpServer
) -> None:
    """23:30 UTC on the closing day is already the next day in Paris (`AAP_TIMEZONE`): the drafts left
    are non déposés, and the summary says the hour of Paris, not an hour of Paris labelled UTC."""
    campaign = open_campaign(session)
    left = drafts(session, campaign)
    assert left
    closing = campaign.depot_cloture
    before = go(db_engine, session, settings, smtp, datetime.combine(closing, time(21, 30), UTC))
    assert before.expired == 0  # 22:30 or 23:30 in Paris: the closing day still

    after = go(db_engine, session, settings, smtp, datetime.combine(closing, time(23, 30), UTC))

    assert after.expired == len(left)
    next_day = closing + timedelta(days=1)
    assert after.text().startswith(f"Passe du {fr_date(next_day)} à 0")
    assert "UTC" not in after.text().splitlines()[0]


def test_one_pass_reminds_each_contract_on_its_own_day(
    db_engine: Engine, session: Session, settings: Settings, demo: date, smtp: SmtpServer
) -> None:
    """At 07:00 in Paris it is 20:00 the day before in Papeete: the pass that sends Manosque's « last
    day » reminder still sends Papeete's drafts the one of the week before; the next morning brings
    Papeete its « last day », and Manosque nothing twice."""
    manosque = open_campaign(session)
    left = drafts(session, manosque)
    assert len(left) >= 2
    papeete = campaign_elsewhere(session, manosque, "papeete", "Pacific/Tahiti")
    far = {d.id for d in left[: len(left) // 2]}
    session.execute(update(Dossier).where(Dossier.id.in_(far)).values(campaign_id=papeete.id))
    closing = manosque.depot_cloture
    paris = ZoneInfo("Europe/Paris")

    def offsets() -> dict[int, set[str]]:
        """dossier id -> the occurrences received (`-7`, `-1`: days before the close)"""
        out: dict[int, set[str]] = {}
        for m in smtp.inbox.by_rule("brouillon_avant_cloture"):
            _rule, dossier, _user, occurrence = m["X-Aap-Key"].split(":", 3)
            out.setdefault(int(dossier[1:]), set()).add(occurrence.removeprefix(closing.isoformat()))
        return out

    go(db_engine, session, settings, smtp, datetime.combine(closing - timedelta(days=1), time(7), paris))
    got = offsets()
    assert {d for d in got} == {d.id for d in left}
    assert all(got[d] == {"-7"} for d in far), got  # the eve of their eve in Papeete
    assert all(got[d.id] == {"-1"} for d in left if d.id not in far), got

    go(db_engine, session, settings, smtp, datetime.combine(closing, time(7), paris))
    got = offsets()
    assert all(got[d] == {"-7", "-1"} for d in far), got
    assert all(got[d.id] == {"-1"} for d in left if d.id not in far), got  # nothing twice
