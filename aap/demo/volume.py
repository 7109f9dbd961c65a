"""`aap bench generate`: one more campaign of the demo territory holding N dossiers, for trying the
pages and exports at national size and for `make bench`.

The dossiers are deposited and beyond, in the proportions of a campaign after its comité (some still
waiting for an instructeur, most programmed or conventioned, a few rejected), each soliciting K of
the territory's financers, with the dates, proposals, decisions, payments and history rows their
state implies. They are written by bulk inserts (explicit ids, a few thousand rows a statement):
30 000 dossiers take seconds, not the hours the services would. Answers come from a complete demo
action, varied in title, QPV, orientation and amounts, with a balanced budget; the list columns
(`aap.dossiers.search_columns`) are filled as a save would fill them.
"""

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Engine, Table, func, insert, select, text
from sqlalchemy.orm import Session

from aap.campaigns.service import save_campaign
from aap.demo.campaigns import TERRITORY, demo_campaigns
from aap.demo.loader import demo_actions
from aap.dossiers.numbering import skip_dossier_numbers
from aap.dossiers.search_columns import facts_of
from aap.dossiers.targets import target_rows
from aap.financing import summary
from aap.models import (
    Campaign,
    Cofinancement,
    Dossier,
    DossierEvent,
    DossierTarget,
    Financeur,
    Organisation,
    Orientation,
    Payment,
    Qpv,
    Territory,
    User,
)
from aap.rules_files import parse_campaign

BATCH = 2000
# (state, weight): a campaign some weeks after its comité
STATE_MIX = (
    ("depose", 6),
    ("en_instruction", 8),
    ("complements_demandes", 5),
    ("instruit", 6),
    ("avise", 10),
    ("programme", 15),
    ("rejete", 5),
    ("conventionne", 33),
    ("bilan_depose", 7),
    ("cloture", 5),
)
# the transitions that lead to each state, in order (after `creer` and `deposer`)
PATH = {
    "depose": [],
    "en_instruction": ["prendre_en_instruction"],
    "complements_demandes": ["prendre_en_instruction", "demander_complements"],
    "instruit": ["prendre_en_instruction", "terminer_instruction"],
    "avise": ["prendre_en_instruction", "terminer_instruction", "rendre_avis"],
    "programme": ["prendre_en_instruction", "terminer_instruction", "rendre_avis", "programmer"],
    "rejete": ["prendre_en_instruction", "terminer_instruction", "rendre_avis", "rejeter"],
    "conventionne": [
        "prendre_en_instruction",
        "terminer_instruction",
        "rendre_avis",
        "programmer",
        "conventionner",
    ],
}
PATH["bilan_depose"] = [*PATH["conventionne"], "deposer_bilan"]
PATH["cloture"] = [*PATH["bilan_depose"], "valider_bilan"]
DEST = {
    "deposer": "depose",
    "prendre_en_instruction": "en_instruction",
    "demander_complements": "complements_demandes",
    "terminer_instruction": "instruit",
    "rendre_avis": "avise",
    "programmer": "programme",
    "rejeter": "rejete",
    "conventionner": "conventionne",
    "deposer_bilan": "bilan_depose",
    "valider_bilan": "cloture",
}
WORDS = (
    "Accompagnement",
    "Ateliers",
    "Médiation",
    "Chantier",
    "Parcours",
    "Permanence",
    "Festival",
    "Club",
    "École",
    "Café",
)
TOPICS = (
    "numérique",
    "sociolinguistique",
    "sportif des jeunes",
    "d'accès aux droits",
    "de la parentalité",
    "culturel de quartier",
    "d'insertion",
    "santé et prévention",
    "citoyen",
    "éducatif",
)


class GenerateRefused(Exception):
    pass


@dataclass
class Context:
    campaign: Campaign
    financeurs: list[Financeur]
    qpvs: list[str]
    orientations: list[str]
    template: dict[str, Any]
    dates: dict[str, date]
    instructeur: User | None
    admin: User | None
    agents: dict[int, User]
    mix: tuple[tuple[str, int], ...] | None = None  # (state, weight); None: STATE_MIX


def _at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def _next_code(session: Session, dossiers: int) -> str:
    base = f"{TERRITORY}-volume-{dossiers}"
    taken = set(session.scalars(select(Campaign.code).where(Campaign.code.like(base + "%"))))
    n = 1
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _campaign(session: Session, dossiers: int, financeurs: list[Financeur], today: date) -> Campaign:
    """A campaign shaped like last year's demo call (validated, conventions under way), its envelopes
    sized to the money the dossiers ask for."""
    data = demo_campaigns(today)[1]
    code = _next_code(session, dossiers)
    data["code"] = code
    data["title"] = f"Appel à projets {data['year']} – volume de {dossiers} dossiers ({code})"
    envelope = Decimal(dossiers) * Decimal("6000.00")
    data["financeurs"] = [{"code": f.code, "enveloppe": f"{envelope:.2f}"} for f in financeurs]
    return save_campaign(session, parse_campaign(data, "aap bench generate"), source="aap bench generate")


def _context(session: Session, dossiers: int, k: int, today: date) -> Context:
    territory = session.scalar(select(Territory).where(Territory.code == TERRITORY))
    if territory is None:
        raise GenerateRefused(
            "Le territoire de démonstration n'est pas chargé : lancez d'abord « aap demo »."
        )
    all_financeurs = list(
        session.scalars(
            select(Financeur).where(Financeur.territory_id == territory.id).order_by(Financeur.id)
        )
    )
    if not 1 <= k <= len(all_financeurs):
        raise GenerateRefused(
            f"--financeurs doit être compris entre 1 et {len(all_financeurs)} "
            f"(les financeurs du territoire {territory.code})."
        )
    financeurs = all_financeurs[:k]
    campaign = _campaign(session, dossiers, financeurs, today)
    users = list(session.scalars(select(User).where(User.active.is_(True))))
    by_role = {u.role: u for u in users if u.territory_id == territory.id}
    template = next(a for a in demo_actions(campaign.year) if a["completeness"] == "complete")
    return Context(
        campaign=campaign,
        financeurs=financeurs,
        qpvs=list(session.scalars(select(Qpv.code).where(Qpv.territory_id == territory.id))),
        orientations=list(
            session.scalars(
                select(Orientation.code).where(
                    Orientation.territory_id == territory.id, Orientation.parent_code.is_not(None)
                )
            )
        )
        or ["A"],
        template=template["answers"],
        dates=campaign.parsed_dates(),
        instructeur=by_role.get("instructeur"),
        admin=by_role.get("admin"),
        agents={u.financeur_id: u for u in users if u.financeur_id is not None},
    )


def _answers(
    ctx: Context, rng: random.Random, org_name: str, title: str, asked: dict[str, Decimal]
) -> dict[str, Any]:
    # a copy of the parts that change; the rest is shared (read-only, written out as JSON)
    answers = dict(ctx.template)
    answers["organisation"] = {**answers["organisation"], "nom": org_name}
    action = answers["action"] = dict(answers["action"])
    action["titre"] = title
    action["qpv"] = rng.sample(ctx.qpvs, k=1 if rng.random() < 0.7 or len(ctx.qpvs) < 2 else 2)
    action["orientation"] = rng.choice(ctx.orientations)
    produits = Decimal(rng.randrange(0, 40)) * 50
    requested = sum(asked.values(), Decimal(0))
    answers["budget"] = {
        "charges": [
            {
                "compte": "64",
                "libelle": "Salaires et charges",
                "montant": f"{(requested + produits) * Decimal('0.8'):.2f}",
            },
            {
                "compte": "60",
                "libelle": "Achats et fournitures",
                "montant": f"{(requested + produits) * Decimal('0.2'):.2f}",
            },
        ],
        "produits": [{"compte": "75", "libelle": "Cotisations", "montant": f"{produits:.2f}"}],
        "financements": {code: f"{amount:.2f}" for code, amount in asked.items()},
    }
    return answers


def _state(rng: random.Random, mix: tuple[tuple[str, int], ...] = STATE_MIX) -> str:
    total = sum(w for _, w in mix)
    pick = rng.uniform(0, total)
    for state, weight in mix:
        pick -= weight
        if pick <= 0:
            return state
    return mix[-1][0]


@dataclass
class Rows:
    organisations: list[dict[str, Any]]
    dossiers: list[dict[str, Any]]
    lines: list[dict[str, Any]]
    payments: list[dict[str, Any]]
    events: list[dict[str, Any]]
    targets: list[dict[str, Any]] = field(default_factory=list)  # `dossier_targets`, as a save writes them


def _dossier_rows(
    ctx: Context, rng: random.Random, dossier_id: int, org: dict[str, Any], line_id: int
) -> Rows:
    """One dossier, its lines, payments and history, as rows (ids given by the caller)."""
    d = ctx.dates
    state = _state(rng, ctx.mix or STATE_MIX)
    steps = PATH[state]
    deposited = _at(
        d["depot_ouverture"] + timedelta(days=rng.randrange(0, 40)), rng.randrange(8, 18), rng.randrange(60)
    )
    stamps: dict[str, datetime] = {"deposer": deposited}
    clock = max(deposited, _at(d["depot_cloture"]))
    for name in steps:
        gap = {
            "programmer": 30,
            "rejeter": 30,
            "conventionner": 25,
            "deposer_bilan": 200,
            "valider_bilan": 20,
        }
        clock = clock + timedelta(days=rng.randrange(1, gap.get(name, 12)), hours=rng.randrange(0, 6))
        stamps[name] = clock
    asked = {f.code: Decimal(rng.randrange(10, 200)) * 50 for f in ctx.financeurs}
    title = f"{rng.choice(WORDS)} {rng.choice(TOPICS)} n° {dossier_id}"
    answers = _answers(ctx, rng, org["name"], title, asked)
    decided = "programmer" in stamps or "rejeter" in stamps
    row: dict[str, Any] = {
        "id": dossier_id,
        "number": f"{ctx.campaign.year}-{dossier_id:05d}",
        "campaign_id": ctx.campaign.id,
        "organisation_id": org["id"],
        "state": state,
        "version": 2 + len(steps),
        "form_code": ctx.campaign.form_code,
        "form_version": ctx.campaign.form_version,
        "answers": answers,
        "title": title,
        "created_at": deposited - timedelta(days=rng.randrange(1, 20)),
        "updated_at": max(stamps.values()),
        "avis": rng.choice(("favorable", "favorable", "favorable", "reserve"))
        if "rendre_avis" in stamps
        else None,
        "deposited_at": deposited,
        "instruction_started_at": stamps.get("prendre_en_instruction"),
        "instruit_at": stamps.get("terminer_instruction"),
        "avis_at": stamps.get("rendre_avis"),
        "decided_at": stamps.get("programmer") or stamps.get("rejeter"),
        "conventionne_at": stamps.get("conventionner"),
        "bilan_deposited_at": stamps.get("deposer_bilan"),
        "closed_at": stamps.get("valider_bilan"),
        "complements_due": None,
        "complements_message": None,
        "bilan_due": d.get("bilan_limite") if "conventionner" in stamps and state == "conventionne" else None,
    }
    if state == "rejete":
        row["avis"] = "defavorable"
    if state == "complements_demandes":
        # a third of them are late (the overdue filter has something to find)
        row["complements_due"] = stamps["demander_complements"].date() + timedelta(
            days=rng.choice((-10, 15, 30))
        )
        row["complements_message"] = "Merci de joindre le budget détaillé de l'action."
    facts = facts_of(Dossier(form_code=row["form_code"], form_version=row["form_version"], answers=answers))
    row["orientation_code"], row["budget_total"] = facts.orientation, facts.budget
    lines, payments = [], []
    for i, f in enumerate(ctx.financeurs):
        line = _line(ctx, rng, state, stamps, asked[f.code], f, decided)
        line.update({"id": line_id + i, "dossier_id": dossier_id, "financeur_id": f.id})
        lines.append(line)
        if (
            state in ("conventionne", "bilan_depose", "cloture")
            and line["decision"] == "accorde"
            and rng.random() < 0.7
        ):
            paid_on = (stamps["conventionner"] + timedelta(days=rng.randrange(5, 60))).date()
            payments.append(
                {
                    "cofinancement_id": line["id"],
                    "kind": "avance",
                    "paid_on": paid_on,
                    "montant": (line["montant_accorde"] / 2).quantize(Decimal("0.01")),
                    "recorded_by_id": ctx.agents[f.id].id if f.id in ctx.agents else None,
                    "recorded_at": _at(paid_on),
                }
            )
    programmed = state in ("programme", "conventionne", "bilan_depose", "cloture")
    if programmed and not any(line["decision"] == "accorde" for line in lines):  # one accorde at least
        lines[0].update(
            state="accorde", decision="accorde", montant_accorde=lines[0]["montant_propose"], motif=None
        )
    events = list(_events(ctx, dossier_id, row["created_at"], stamps))
    targets = target_rows(dossier_id, set(facts.targets))
    return Rows([], [row], lines, payments, events, targets)


def _line(
    ctx: Context,
    rng: random.Random,
    state: str,
    stamps: dict[str, datetime],
    asked: Decimal,
    f: Financeur,
    decided: bool,
) -> dict[str, Any]:
    proposed = (
        (asked * Decimal("0.9") / 100).quantize(Decimal("1")) * 100
        if "terminer_instruction" in stamps
        else None
    )
    line: dict[str, Any] = {
        "state": "propose" if proposed is not None else "sollicite",
        "montant_demande": asked,
        "montant_propose": proposed,
        "proposed_at": stamps.get("prendre_en_instruction"),
        "proposed_by_id": ctx.instructeur.id if ctx.instructeur and proposed is not None else None,
        "decision": None,
        "montant_accorde": None,
        "motif": None,
        "decided_at": None,
        "decided_by_id": None,
    }
    partly = state == "avise" and rng.random() < 0.4
    if decided or partly:
        when = (stamps.get("programmer") or stamps.get("rejeter") or stamps["rendre_avis"]) - timedelta(
            days=rng.randrange(0, 5)
        )
        accorde = state != "rejete" and rng.random() < 0.85
        line.update(
            state="accorde" if accorde else "refuse",
            decision="accorde" if accorde else "refuse",
            montant_accorde=proposed if accorde else None,
            motif=None if accorde else "Action hors des priorités de ce financeur cette année.",
            decided_at=when,
            decided_by_id=ctx.agents[f.id].id if f.id in ctx.agents else None,
        )
    return line


def _events(
    ctx: Context, dossier_id: int, created: datetime, stamps: dict[str, datetime]
) -> Iterator[dict[str, Any]]:
    yield _event(dossier_id, "creer", None, "brouillon", created, None, "porteur")
    previous = "brouillon"
    for name, at in stamps.items():
        dest = DEST[name]
        by = (
            None
            if name in ("programmer", "rejeter")
            else ctx.admin
            if name == "rendre_avis"
            else ctx.instructeur
        )
        role = "porteur" if name in ("deposer", "deposer_bilan") else "system" if by is None else by.role
        yield _event(dossier_id, name, previous, dest, at, by if role != "porteur" else None, role)
        previous = dest


def _event(
    dossier_id: int, name: str, source: str | None, dest: str, at: datetime, by: User | None, role: str
) -> dict[str, Any]:
    return {
        "dossier_id": dossier_id,
        "transition": name,
        "from_state": source,
        "to_state": dest,
        "user_id": by.id if by else None,
        "email": by.email if by else None,
        "role": role,
        "at": at,
        "comment": None,
        "data": {},
    }


def _next_id(session: Session, model: Any) -> int:
    return (session.scalar(select(func.max(model.id))) or 0) + 1


def _flush(session: Session, rows: Rows) -> None:
    for model, items in (
        (Organisation, rows.organisations),
        (Dossier, rows.dossiers),
        (DossierTarget, rows.targets),
        (Cofinancement, rows.lines),
        (Payment, rows.payments),
        (DossierEvent, rows.events),
    ):
        if items:  # Core executemany (the driver batches it), not the ORM's bulk path
            session.connection().execute(insert(cast(Table, model.__table__)), items)
            items.clear()


WRITTEN = ("organisations", "dossiers", "cofinancements", "payments", "dossier_events")


def _reset_sequences(session: Session, tables: tuple[str, ...] = WRITTEN) -> None:
    """PostgreSQL: the serial sequences past the ids written explicitly."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        session.execute(
            text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        )


def generate(
    engine: Engine, dossiers: int, financeurs: int = 4, *, today: date | None = None, seed: int = 17
) -> Campaign:
    """Adds the campaign and its dossiers; returns the campaign."""
    if dossiers < 1:
        raise GenerateRefused("--dossiers doit être un entier positif.")
    rng = random.Random(seed)
    with Session(engine, expire_on_commit=False) as session:
        ctx = _context(session, dossiers, financeurs, today or date.today())
        territory_id = ctx.campaign.territory_id
        org_id, dossier_id = _next_id(session, Organisation), _next_id(session, Dossier)
        line_id = _next_id(session, Cofinancement)
        batch = Rows([], [], [], [], [], [])
        orgs: list[dict[str, Any]] = []
        for n in range(max(1, dossiers // 3)):
            org = {
                "id": org_id + n,
                "territory_id": territory_id,
                "kind": "association",
                "name": f"Association de volume {ctx.campaign.id}-{n + 1}",
                "siret": f"{90000000000000 + ctx.campaign.id * 100000 + n}"[:14],
                "city": "Manosque",
                "postal_code": "04100",
            }
            orgs.append(org)
            batch.organisations.append(dict(org))
        _flush(session, batch)
        for n in range(dossiers):
            one = _dossier_rows(
                ctx, rng, dossier_id + n, orgs[n % len(orgs)], line_id + n * len(ctx.financeurs)
            )
            batch.dossiers += one.dossiers
            batch.targets += one.targets
            batch.lines += one.lines
            batch.payments += one.payments
            batch.events += one.events
            if len(batch.dossiers) >= BATCH:
                _flush(session, batch)
        _flush(session, batch)
        _reset_sequences(session)
        # the numbers given here are `year-<id>`: the territory's counter moves past them
        skip_dossier_numbers(session, territory_id, ctx.campaign.year, dossier_id + dossiers - 1)
        summary.rebuild(session, ctx.campaign.id)  # written past the session hook that keeps them
        session.commit()
        return ctx.campaign
