"""The lifecycle's service layer: races, the clock-driven transitions, extensions."""

import threading
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from aap.dossiers import service
from aap.errors import AppError, Conflict, PreconditionFailed
from aap.models import Campaign, Dossier, DossierEvent, User
from tests.conftest import campaign_elsewhere

PARIS = ZoneInfo("Europe/Paris")  # the demo territory's zone (`fuseau`)


def at(day, hour: int = 12) -> datetime:  # type: ignore[no-untyped-def]
    """That hour of that day on the demo territory's clock."""
    return datetime.combine(day, time(hour), tzinfo=PARIS)


def user(session: Session, email: str) -> User:
    return session.scalars(select(User).where(User.email == email)).one()


def open_campaign(session: Session) -> Campaign:
    return session.scalars(select(Campaign).order_by(Campaign.year.desc())).first()  # type: ignore[return-value]


def deposed_dossier(session: Session, today) -> Dossier:  # type: ignore[no-untyped-def]
    porteur = user(session, "porteur@demo.aap.test")
    campaign = open_campaign(session)
    for d in session.scalars(
        select(Dossier)
        .where(Dossier.campaign_id == campaign.id, Dossier.state == "brouillon")
        .order_by(Dossier.id)
    ):
        try:
            return service.fire_transition(session, porteur, d.id, "deposer", {}, at(today))
        except AppError:
            session.rollback()
    raise AssertionError("no depositable draft")


def race(engine: Engine, fn, n: int = 2) -> list[object]:  # type: ignore[no-untyped-def]
    """Runs fn(session) in n threads released together; returns each result or exception."""
    barrier = threading.Barrier(n)
    # (the caller's own session must not hold a transaction: on SQLite it would hold the write lock)
    results: list[object] = [None] * n
    factory = sessionmaker(bind=engine, expire_on_commit=False)

    def worker(i: int) -> None:
        with factory() as s:
            barrier.wait()
            try:
                results[i] = fn(s)
            except Exception as exc:
                results[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_two_instructeurs_racing_on_one_dossier_exactly_one_wins(
    db_engine: Engine, demo, session: Session
) -> None:
    dossier = deposed_dossier(session, demo)
    dossier_id, version = dossier.id, dossier.version
    session.rollback()

    def take(s: Session):  # type: ignore[no-untyped-def]
        return service.fire_transition(
            s,
            user(s, "instructeur@demo.aap.test"),
            dossier_id,
            "prendre_en_instruction",
            {},
            at(demo),
            if_match=version,
        )

    results = race(db_engine, take)
    wins = [r for r in results if isinstance(r, Dossier)]
    losses = [r for r in results if isinstance(r, (PreconditionFailed, Conflict))]
    assert len(wins) == 1 and len(losses) == 1, results
    session.expire_all()
    events = session.scalars(
        select(DossierEvent).where(
            DossierEvent.dossier_id == dossier_id, DossierEvent.transition == "prendre_en_instruction"
        )
    ).all()
    assert len(events) == 1


def test_racing_without_version_the_second_finds_the_state_moved(
    db_engine: Engine, demo, session: Session
) -> None:
    dossier_id = deposed_dossier(session, demo).id
    session.rollback()

    def take(s: Session):  # type: ignore[no-untyped-def]
        return service.fire_transition(
            s, user(s, "instructeur@demo.aap.test"), dossier_id, "prendre_en_instruction", {}, at(demo)
        )

    results = race(db_engine, take)
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "Dossier"], results


def test_drafts_left_after_the_deadline_become_non_depose_once(session: Session, demo) -> None:
    campaign = open_campaign(session)
    drafts = session.scalars(
        select(Dossier.id).where(Dossier.campaign_id == campaign.id, Dossier.state == "brouillon")
    ).all()
    assert drafts
    the_last_day = at(campaign.depot_cloture, 23)
    assert service.advance(session, the_last_day) == 0  # the deadline day is still open
    day_after = at(campaign.depot_cloture + timedelta(days=1), 6)
    assert service.advance(session, day_after) == len(drafts)
    assert service.advance(session, day_after) == 0  # idempotent
    session.expire_all()
    states = set(session.scalars(select(Dossier.state).where(Dossier.id.in_(drafts))))
    assert states == {"non_depose"}
    event = session.scalars(
        select(DossierEvent).where(DossierEvent.dossier_id == drafts[0], DossierEvent.transition == "expirer")
    ).one()
    assert event.role == "system" and event.from_state == "brouillon"


def test_an_extension_keeps_one_draft_open_past_the_deadline(session: Session, demo) -> None:
    campaign = open_campaign(session)
    instructeur = user(session, "instructeur@demo.aap.test")
    porteur = user(session, "porteur@demo.aap.test")
    draft = session.scalars(
        select(Dossier)
        .where(Dossier.campaign_id == campaign.id, Dossier.state == "brouillon")
        .order_by(Dossier.id)
    ).first()
    assert draft is not None
    with pytest.raises(AppError) as refused:
        service.grant_extension(
            session, instructeur, draft.id, campaign.depot_cloture + timedelta(days=5), " ", at(demo)
        )
    assert refused.value.errors and refused.value.errors[0]["path"] == "reason"
    session.rollback()
    service.grant_extension(
        session,
        instructeur,
        draft.id,
        campaign.depot_cloture + timedelta(days=5),
        "Président hospitalisé pendant la période de dépôt",
        at(demo),
    )
    later = at(campaign.depot_cloture + timedelta(days=2))
    service.advance(session, later)
    session.expire_all()
    assert session.get(Dossier, draft.id).state == "brouillon"
    try:
        moved = service.fire_transition(session, porteur, draft.id, "deposer", {}, later)
    except AppError as exc:  # an incomplete demo draft: the refusal must not be about the deadline
        assert all(e["code"] != "depot_closed" for e in exc.errors or []), exc.errors
    else:
        assert moved.state == "depose"


# --- a deadline is midnight where the contract is ---------------------------------------------------

CAYENNE = ZoneInfo("America/Cayenne")  # UTC-3: its midnight comes four hours after Paris's in winter


def test_one_pass_closes_each_contract_s_drafts_at_its_own_midnight(session: Session, demo) -> None:
    manosque = open_campaign(session)
    drafts = list(
        session.scalars(
            select(Dossier.id)
            .where(Dossier.campaign_id == manosque.id, Dossier.state == "brouillon")
            .order_by(Dossier.id)
        )
    )
    assert len(drafts) >= 2
    cayenne = campaign_elsewhere(session, manosque, "cacl", "America/Cayenne")
    far = drafts[: len(drafts) // 2]
    session.execute(update(Dossier).where(Dossier.id.in_(far)).values(campaign_id=cayenne.id))
    session.commit()
    last_day = manosque.depot_cloture

    # 00:30 in Manosque the day after, 20:30 of the last day in Cayenne
    assert service.advance(
        session, datetime.combine(last_day + timedelta(days=1), time(0, 30), PARIS)
    ) == len(drafts) - len(far)
    session.expire_all()
    assert set(session.scalars(select(Dossier.state).where(Dossier.id.in_(far)))) == {"brouillon"}

    # 00:30 in Cayenne the day after (04:30 in Paris, the app's clock)
    assert service.advance(
        session, datetime.combine(last_day + timedelta(days=1), time(0, 30), CAYENNE).astimezone(PARIS)
    ) == len(far)
    session.expire_all()
    assert set(session.scalars(select(Dossier.state).where(Dossier.id.in_(drafts)))) == {"non_depose"}


def test_a_porteur_in_cayenne_saves_until_midnight_in_cayenne(session: Session, demo) -> None:
    campaign = open_campaign(session)
    campaign.territory.fuseau = "America/Cayenne"
    session.commit()
    session.expire_all()
    campaign = open_campaign(session)
    porteur = user(session, "porteur@demo.aap.test")
    draft = session.scalars(
        select(Dossier)
        .where(
            Dossier.campaign_id == campaign.id,
            Dossier.state == "brouillon",
            Dossier.organisation_id.in_([o.id for o in porteur.organisations]),
        )
        .order_by(Dossier.id)
    ).first()
    assert draft is not None
    # the moments as the app's clock gives them (AAP_TIMEZONE, Paris): 22:00 in Cayenne is 02:00 the next day
    evening = datetime.combine(campaign.depot_cloture, time(22, 0), CAYENNE).astimezone(PARIS)
    assert evening.date() > campaign.depot_cloture
    saved = service.update_answers(
        session, porteur, draft.id, {"action": {"lieux": "Maison de quartier"}}, draft.version, evening
    )
    assert saved.answers["action"]["lieux"] == "Maison de quartier"
    assert service.create_dossier(session, porteur, campaign.id, evening).state == "brouillon"
    try:
        service.fire_transition(session, porteur, draft.id, "deposer", {}, evening)
    except AppError as exc:  # an incomplete demo draft: the refusal must not be about the deadline
        session.rollback()
        assert all(e["code"] != "depot_closed" for e in exc.errors or []), exc.errors

    after_midnight = datetime.combine(campaign.depot_cloture + timedelta(days=1), time(0, 5), CAYENNE)
    after_midnight = after_midnight.astimezone(PARIS)
    with pytest.raises(Conflict) as closed:
        service.update_answers(
            session, porteur, draft.id, {"action": {"lieux": "Trop tard"}}, saved.version, after_midnight
        )
    assert closed.value.code == "depot_clos"
    session.rollback()
    with pytest.raises(AppError) as refused:
        service.create_dossier(session, porteur, campaign.id, after_midnight)
    assert refused.value.code == "depot_ferme"


def test_a_call_shows_open_until_midnight_in_its_territory(session: Session, demo) -> None:
    from aap.campaigns.endpoints import campaign_out
    from aap.web.porteur_views import campaign_card

    campaign = open_campaign(session)
    night = datetime.combine(campaign.depot_cloture, time(22, 0), CAYENNE).astimezone(PARIS)
    assert campaign_out(campaign, night)["depot_ouvert"] is False  # 02:00 the next day in Manosque
    assert campaign_card(campaign, night)["open"] is False

    campaign.territory.fuseau = "America/Cayenne"
    session.commit()
    session.expire_all()
    campaign = open_campaign(session)
    assert campaign_out(campaign, night)["depot_ouvert"] is True  # what the API says, the service does
    card = campaign_card(campaign, night)
    assert card["open"] is True and card["days_left"] == 0
