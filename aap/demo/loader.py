"""`aap demo`: the demo territory DLVAgglo / Manosque (seed 000) loaded through the same loaders and
services as real data, dated from today so it never goes stale.

Open campaign: drafts of both associations (complete and incomplete). Previous campaign: dossiers
walked through the whole year by the services themselves (dépôt, instruction, avis, decisions,
convention) at the dates of that year, so their history is real and their bilans are due.
"""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from aap.accounts.security import hash_password
from aap.accounts.service import create_user
from aap.campaigns.service import save_campaign
from aap.demo import cpo as demo_cpo
from aap.demo.bilans import year_end
from aap.demo.campaigns import demo_campaigns
from aap.demo.pieces import RENEWED_EACH_YEAR, store_demo_pieces
from aap.dossiers import service as dossiers
from aap.financing import service as financing
from aap.models import Base, Campaign, Dossier, Financeur, Organisation, Territory, User
from aap.rules_files import parse_campaign, parse_territory_file
from aap.settings import get_settings
from aap.territories.service import save_territory

HERE = Path(__file__).parent

ORGANISATIONS: dict[str, dict[str, Any]] = {
    "asso_horizon": dict(
        kind="association",
        name="Association Horizon Manosque",
        siret="44102356700015",
        rna="W041002345",
        address_line="12 avenue des Serrets",
        postal_code="04100",
        city="Manosque",
        representative_name="Benali",
        representative_first_name="Samira",
        representative_role="Présidente",
        representative_email="presidence@horizon-manosque.test",
        email="contact@horizon-manosque.test",
        phone="04 92 00 00 01",
    ),
    "asso_passerelles": dict(
        kind="association",
        name="Les Passerelles du Luberon",
        siret="51234567800027",
        rna="W041003456",
        address_line="3 place du Terreau",
        postal_code="04100",
        city="Manosque",
        representative_name="Martin",
        representative_first_name="Jean",
        representative_role="Président",
        representative_email="president@passerelles-luberon.test",
        email="accueil@passerelles-luberon.test",
        phone="04 92 00 00 02",
    ),
}

# (email, role, full name, financer code or None, organisation key or None)
ACCOUNTS = [
    ("admin@demo.aap.test", "admin", "Claire Dumas (cheffe de projet contrat de ville)", None, None),
    ("instructeur@demo.aap.test", "instructeur", "Karim Haddad (instructeur)", None, None),
    ("porteur@demo.aap.test", "porteur", "Samira Benali", None, "asso_horizon"),
    ("porteur2@demo.aap.test", "porteur", "Jean Martin", None, "asso_passerelles"),
    ("etat@demo.aap.test", "financeur", "Déléguée du préfet", "ETAT", None),
    ("agglo@demo.aap.test", "financeur", "Service politique de la ville DLVAgglo", "DLVA", None),
    ("ville@demo.aap.test", "financeur", "Ville de Manosque", "MANOSQUE", None),
    ("caf@demo.aap.test", "financeur", "CAF des Alpes-de-Haute-Provence", "CAF", None),
    ("partenaire@demo.aap.test", "partenaire", "Service jeunesse de la Ville de Manosque", None, None),
]


# Funded last year and not yet renewed this year: the demo shows « Reconduire » on it.
NOT_YET_RENEWED = {"horizon_paroles_ados"}


class DemoRefused(Exception):
    pass


def database_is_empty(engine: Engine) -> bool:
    with Session(engine) as session:
        return not session.scalar(select(func.count()).select_from(Territory))


def wipe(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(text(f"DELETE FROM {table.name}"))


def demo_actions(year: int) -> list[dict[str, Any]]:
    """The demo actions of `aap/demo/actions.yaml`, their dates in `year`."""
    raw = (HERE / "actions.yaml").read_text(encoding="utf-8").replace("{year}", str(year))
    return yaml.safe_load(raw)["actions"]


def load_demo(
    engine: Engine,
    *,
    reset: bool = False,
    if_empty: bool = False,
    today: date | None = None,
    password: str | None = None,
    data_dir: Path | None = None,
) -> str:
    if not database_is_empty(engine):
        if if_empty:
            return "La base contient déjà des données : démo non rechargée."
        if not reset:
            raise DemoRefused(
                "La base n'est pas vide : relancez avec --reset pour la vider et recharger la démo."
            )
        wipe(engine)
    today = today or date.today()
    password = password if password is not None else get_settings().demo_password
    session = sessionmaker(bind=engine, expire_on_commit=False)()
    try:
        return _load(session, today, password, data_dir or get_settings().data_dir)
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=UTC)


def _load(session: Session, today: date, password: str, data_dir: Path) -> str:
    territory = save_territory(session, parse_territory_file(HERE / "territory_dlva.yaml"))
    campaigns = [save_campaign(session, parse_campaign(data, "démo")) for data in demo_campaigns(today)]
    orgs = {key: Organisation(territory_id=territory.id, **fields) for key, fields in ORGANISATIONS.items()}
    session.add_all(orgs.values())
    session.flush()
    financeurs = {
        f.code: f for f in session.scalars(select(Financeur).where(Financeur.territory_id == territory.id))
    }
    users: dict[str, User] = {}
    shared_hash = hash_password(password)  # one argon2 run: the demo accounts share their password
    for email, role, name, financeur, org in ACCOUNTS:
        users[email] = create_user(
            session,
            email=email,
            password_hash=shared_hash,
            role=role,
            full_name=name,
            financeur_id=financeurs[financeur].id if financeur else None,
            territory_id=territory.id if role in ("admin", "instructeur", "partenaire") else None,
            organisation_ids=(orgs[org].id,) if org else (),
        )
    session.commit()
    open_campaign, previous = campaigns
    porteurs = {
        "asso_horizon": users["porteur@demo.aap.test"],
        "asso_passerelles": users["porteur2@demo.aap.test"],
    }
    members = [(orgs[key], porteur) for key, porteur in porteurs.items()]
    store_demo_pieces(session, members, previous.depot_ouverture - timedelta(days=10), data_dir)
    last_year = _previous_year(session, previous, porteurs, users, data_dir)
    year_end(session, last_year, porteurs, users, today, data_dir)
    store_demo_pieces(session, members, open_campaign.depot_ouverture, data_dir, kinds=RENEWED_EACH_YEAR)
    drafts = _open_drafts(session, open_campaign, porteurs, users, today, last_year)
    demo_cpo.load(session, users, open_campaign, previous, last_year, demo_actions(previous.year), today)
    return (
        f"Démo chargée : territoire {territory.name}, {len(campaigns)} appels à projets, "
        f"{len(users)} comptes (mot de passe : celui de AAP_DEMO_PASSWORD), "
        f"{drafts} dossiers dans l'appel ouvert, {len(last_year)} dossiers conventionnés l'an passé, "
        "une CPO de 3 ans en cours et un dossier programmé prêt à devenir une CPO."
    )


def _open_drafts(
    session: Session,
    campaign: Campaign,
    porteurs: dict[str, User],
    users: dict[str, User],
    today: date,
    last_year: dict[str, Dossier],
) -> int:
    """The open call: Horizon's drafts (complete and incomplete); Les Passerelles deposited its complete
    dossiers a week ago, and the instructeur already asked compléments on one of them. The actions
    funded last year are renewed (reconduites) from last year's dossiers."""
    now = _at(max(campaign.depot_ouverture, min(today, campaign.depot_cloture)))
    deposited_on = max(campaign.depot_ouverture, today - timedelta(days=6))
    instructeur = users["instructeur@demo.aap.test"]
    count = 0
    for action in demo_actions(campaign.year):
        if action["key"] in NOT_YET_RENEWED:
            continue
        porteur = porteurs[action["organisation"]]
        if action["organisation"] == "asso_passerelles" and action["completeness"] == "complete":
            d = dossiers.create_dossier(
                session,
                porteur,
                campaign.id,
                _at(deposited_on, 9),
                answers=action["answers"],
                reconducted_from=last_year.get(action["key"]),
            )
            dossiers.fire_transition(session, porteur, d.id, "deposer", {}, _at(deposited_on, 11))
            if count % 2:
                dossiers.fire_transition(
                    session,
                    instructeur,
                    d.id,
                    "prendre_en_instruction",
                    {},
                    _at(deposited_on + timedelta(days=2)),
                )
                dossiers.fire_transition(
                    session,
                    instructeur,
                    d.id,
                    "demander_complements",
                    {
                        "comment": "Merci de préciser le nombre d'habitants des QPV parmi les participants "
                        "attendus et de joindre le devis de l'intervenant.",
                        "due_date": today + timedelta(days=7),
                    },
                    _at(deposited_on + timedelta(days=2), 15),
                )
        else:
            dossiers.create_dossier(
                session,
                porteur,
                campaign.id,
                now,
                answers=action["answers"],
                reconducted_from=last_year.get(action["key"]),
            )
        count += 1
    return count


def _previous_year(
    session: Session, campaign: Campaign, porteurs: dict[str, User], users: dict[str, User], data_dir: Path
) -> dict[str, Dossier]:
    """Walk last year's complete actions through the whole year with the real services; returns the
    dossiers by action key."""
    instructeur, admin = users["instructeur@demo.aap.test"], users["admin@demo.aap.test"]
    agents = {u.financeur.code: u for u in users.values() if u.financeur is not None}
    dates = campaign.parsed_dates()
    count, done = 0, {}
    for action in demo_actions(campaign.year):
        if action["completeness"] != "complete":
            continue
        porteur = porteurs[action["organisation"]]
        day = dates["depot_ouverture"] + timedelta(days=3 + count)
        d = dossiers.create_dossier(session, porteur, campaign.id, _at(day), answers=action["answers"])
        dossiers.fire_transition(session, porteur, d.id, "deposer", {}, _at(day, 15))
        day = dates["depot_cloture"] + timedelta(days=2)
        dossiers.fire_transition(session, instructeur, d.id, "prendre_en_instruction", {}, _at(day))
        for line in d.cofinancements:
            # the instructeur proposes 90 % of the request, rounded to the hundred
            proposal = (line.montant_demande * Decimal("0.9") / 100).quantize(Decimal("1")) * 100
            financing.propose(session, instructeur, d.id, line.financeur.code, proposal, _at(day, 11))
        dossiers.fire_transition(
            session,
            instructeur,
            d.id,
            "terminer_instruction",
            {},
            _at(dates["comite_technique"] - timedelta(days=7)),
        )
        dossiers.fire_transition(
            session,
            admin,
            d.id,
            "rendre_avis",
            {"avis": "favorable", "comment": "Action cohérente avec les orientations du contrat de ville."},
            _at(dates["comite_technique"]),
        )
        d = dossiers.get_dossier(session, admin, d.id)
        for line in d.cofinancements:
            agent = agents[line.financeur.code]
            financing.decide(
                session,
                agent,
                d.id,
                line.financeur.code,
                "accorde",
                line.montant_propose,
                None,
                _at(dates["validation"] + timedelta(days=7)),
            )
        dossiers.fire_transition(
            session,
            instructeur,
            d.id,
            "conventionner",
            {},
            _at(dates["validation"] + timedelta(days=30)),
            data_dir=data_dir,
        )
        # each financer pays an avance of half its subsidy, the solde waits for the bilan
        paid_on = dates["validation"] + timedelta(days=45 + 5 * count)
        for line in dossiers.get_dossier(session, admin, d.id).cofinancements:
            assert line.montant_accorde is not None
            financing.record_payment(
                session,
                agents[line.financeur.code],
                d.id,
                line.financeur.code,
                "avance",
                paid_on,
                (line.montant_accorde / 2).quantize(Decimal("0.01")),
                _at(paid_on),
            )
        done[action["key"]] = d
        count += 1
    return done
