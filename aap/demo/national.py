"""`aap bench generate --national`: the data set of a national instance, for `make bench` and for anyone
who wants to try the pages at the size of France.

Every contrat de ville (435 by default) is a territory loaded through the territory service, with its
communes, its QPV (1 500 in all, a few per contract and many in the big cities), the demo's orientation
tree and priorities, four financers (État, EPCI, ville, CAF) and its staff accounts (an admin, an
instructeur and one agent per financer, `<role>@<code>.national.aap.test`, with the password of the
demo's accounts). The organisations (12 000) are shared out between the contracts like the QPV. Each
contract then has ten years of annual calls on the `annuel` calendar, the newest shaped like the demo's
previous call (some weeks after its comité: dossiers still in instruction, most programmed or
conventioned), the older ones closed (bilans validated, a few rejected, some bilans still awaited).
About 25 000 dossiers a year, each soliciting the four financers: ~250 000 dossiers and ~1 M financing
lines over ten years.

Rows are written by bulk inserts with explicit ids (`aap.demo.volume`), the dossiers built by the same
code as a single volume campaign, the search columns by `facts_of`, the kept totals rebuilt per
campaign (`aap.financing.summary.rebuild`). Seeded: the same arguments give the same data.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Engine, Table, insert, select, text
from sqlalchemy.orm import Session

from aap.demo.campaigns import FORM, demo_campaigns
from aap.demo.loader import HERE, demo_actions
from aap.demo.volume import (
    BATCH,
    Context,
    GenerateRefused,
    Rows,
    _dossier_rows,
    _flush,
    _next_id,
    _reset_sequences,
)
from aap.dossiers.numbering import skip_dossier_numbers
from aap.financing import summary
from aap.models import (
    Campaign,
    CampaignFinanceur,
    Cofinancement,
    Dossier,
    EnveloppeChange,
    Financeur,
    Organisation,
    Territory,
    User,
)
from aap.rules_files import parse_campaign
from aap.rules_files.territory import parse_territory, parse_territory_file
from aap.territories.service import save_territory

DOMAIN = "national.aap.test"
# the demo accounts' password: the generated staff accounts share its hash
PASSWORD_OF = "instructeur@demo.aap.test"
FINANCEURS = (
    ("ETAT", "État (programme 147)", "etat"),
    ("EPCI", "Agglomération", "epci"),
    ("VILLE", "Ville", "commune"),
    ("CAF", "Caisse d'allocations familiales", "caf"),
)
# (state, weight) of a call some years back: closed, a few bilans still awaited
PAST_MIX = (("cloture", 78), ("rejete", 12), ("conventionne", 4), ("bilan_depose", 6))


@dataclass(frozen=True)
class Scale:
    """The size of the data set; `scaled` keeps its proportions for a smaller one (tests)."""

    territories: int = 435
    qpv: int = 1500
    organisations: int = 12_000
    dossiers_per_year: int = 25_000
    years: int = 10

    def scaled(self, territories: int) -> Scale:
        ratio = territories / self.territories
        return replace(
            self,
            territories=territories,
            qpv=max(territories, round(self.qpv * ratio)),
            organisations=max(territories, round(self.organisations * ratio)),
            dossiers_per_year=max(2 * territories, round(self.dossiers_per_year * ratio)),
        )


NATIONAL = Scale()


@dataclass
class Report:
    territories: int = 0
    qpv: int = 0
    organisations: int = 0
    campaigns: int = 0
    dossiers: int = 0
    lines: int = 0
    # the newest call of the biggest contract, and its instructeur: where to look at the pages
    biggest_campaign_id: int = 0
    biggest_dossiers: int = 0
    biggest_instructeur: str = ""


def _shares(rng: random.Random, total: int, weights: list[float], floor: int) -> list[int]:
    """`total` split in proportion to `weights` (each at least `floor`), by largest remainders."""
    spare = total - floor * len(weights)
    exact = [w / sum(weights) * spare for w in weights]
    out = [floor + int(x) for x in exact]
    by_rest = sorted(range(len(weights)), key=lambda i: (int(exact[i]) - exact[i], rng.random()))
    for i in by_rest[: total - sum(out)]:
        out[i] += 1
    return out


def _territory_data(n: int, qpv: int, template: dict[str, Any]) -> dict[str, Any]:
    """Contract `n` as a territory file: its communes (one per three QPV), QPV and four financers."""
    code = f"cv{n:03d}"
    communes = [
        {"insee": f"{n:03d}{c:02d}", "name": f"Commune {n}-{c + 1}"} for c in range(1 + (qpv - 1) // 3)
    ]
    return {
        "code": code,
        "name": f"Contrat de ville n° {n}",
        "epci": f"Agglomération n° {n}",
        "periode": {"debut": 2024, "fin": 2030},
        "communes": communes,
        "qpv": [
            {
                "code": f"QN{n:03d}{q:02d}X",
                "name": f"Quartier {q + 1} du contrat {n}",
                "commune": communes[q // 3]["insee"],
                "population": 1500 + (n * 37 + q * 101) % 6000,
            }
            for q in range(qpv)
        ],
        "orientations": template["orientations"],
        "priorites": template["priorites"],
        "financeurs": [
            {"code": c, "name": f"{name} – contrat {n}", "kind": kind} for c, name, kind in FINANCEURS
        ],
    }


def _campaign_dates(today: date, back: int) -> dict[str, str]:
    """The calendar of the demo's previous call, `back` years earlier."""
    dates = demo_campaigns(today)[1]["dates"]
    out = {}
    for name, value in dates.items():
        day = date.fromisoformat(value)
        try:
            day = day.replace(year=day.year - back)
        except ValueError:  # 29 February
            day = day.replace(year=day.year - back, day=28)
        out[name] = day.isoformat()
    return out


def _insert(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        session.connection().execute(insert(cast(Table, model.__table__)), rows[start : start + BATCH])


@dataclass
class Contract:
    territory: Territory
    qpvs: list[str]
    financeurs: list[Financeur] = field(default_factory=list)
    staff: dict[str, User] = field(default_factory=dict)  # admin, instructeur, f<financer id>
    organisations: list[dict[str, Any]] = field(default_factory=list)
    yearly: int = 0


class _Builder:
    def __init__(self, session: Session, scale: Scale, today: date, seed: int):
        self.session, self.scale, self.today = session, scale, today
        self.rng = random.Random(seed)
        self.now = datetime.now(UTC)
        self.template = parse_territory_file(HERE / "territory_dlva.yaml").model_dump(mode="json")
        self.report = Report()

    def contracts(self, password_hash: str) -> list[Contract]:
        """The territories through the territory service (validated like a territory file), then their
        staff accounts in bulk."""
        s, scale = self.session, self.scale
        first = 1 + (s.scalar(select(Territory.id).order_by(Territory.id.desc()).limit(1)) or 0)
        if s.scalar(select(Territory.id).where(Territory.code.like("cv%"))) is not None:
            raise GenerateRefused("Le jeu national est déjà chargé dans cette base.")
        # a few big cities, many small contracts (Pareto weights, the biggest capped at 20 × the mean)
        weights = [min(self.rng.paretovariate(1.4), 70.0) for _ in range(scale.territories)]
        qpvs = _shares(self.rng, scale.qpv, weights, 1)
        orgs = _shares(self.rng, scale.organisations, weights, 1)
        yearly = _shares(self.rng, scale.dossiers_per_year, weights, 2)
        out = []
        for i in range(scale.territories):
            number = first + i
            data = parse_territory(
                _territory_data(number, qpvs[i], self.template), f"national cv{number:03d}"
            )
            out.append(Contract(save_territory(s, data), [q.code for q in data.qpv], yearly=yearly[i]))
        s.flush()
        by_id = {c.territory.id: c for c in out}
        for f in s.scalars(select(Financeur).where(Financeur.territory_id.in_(by_id)).order_by(Financeur.id)):
            by_id[f.territory_id].financeurs.append(f)
        self.report.territories, self.report.qpv = len(out), sum(qpvs)
        self._accounts(out, password_hash)
        self._organisations(out, orgs)
        return out

    def _accounts(self, contracts: list[Contract], password_hash: str) -> None:
        user_id, rows = _next_id(self.session, User), []
        for c in contracts:
            t = c.territory
            for role, f in [
                ("admin", None),
                ("instructeur", None),
                *(("financeur", f) for f in c.financeurs),
            ]:
                u = User(
                    id=user_id,
                    email=f"{f.code.lower() if f else role}@{t.code}.{DOMAIN}",
                    role=role,
                    full_name=f"{role.capitalize()} {t.code}",
                    financeur_id=f.id if f else None,
                    territory_id=None if f else t.id,
                )
                c.staff[f"f{f.id}" if f else role] = u
                rows.append(
                    {
                        k: getattr(u, k)
                        for k in ("id", "email", "role", "full_name", "financeur_id", "territory_id")
                    }
                    | {
                        "password_hash": password_hash,
                        "active": True,
                        "session_generation": 1,
                        "email_verified_at": self.now,
                        "created_at": self.now,
                    }
                )
                user_id += 1
        _insert(self.session, User, rows)

    def _organisations(self, contracts: list[Contract], counts: list[int]) -> None:
        org_id, rows = _next_id(self.session, Organisation), []
        for c, count in zip(contracts, counts, strict=True):
            t = c.territory
            for k in range(count):
                c.organisations.append(
                    {
                        "id": org_id,
                        "territory_id": t.id,
                        "kind": "association",
                        "name": f"Association {k + 1} du contrat {t.code}",
                        "siret": f"{80000000000000 + org_id}",
                        "city": f"Commune {t.code}",
                        "postal_code": f"{t.id % 95 + 1:02d}000",
                    }
                )
                org_id += 1
            rows += c.organisations
        _insert(self.session, Organisation, rows)
        self.report.organisations = len(rows)

    def calls(self, contracts: list[Contract], newest: int) -> list[tuple[Campaign, Contract, int]]:
        """One annual call a year per contract, validated like a campaign file, written in bulk; with the
        number of dossiers each receives."""
        campaign_id, cf_id = _next_id(self.session, Campaign), _next_id(self.session, CampaignFinanceur)
        rows: dict[Any, list[dict[str, Any]]] = {Campaign: [], CampaignFinanceur: [], EnveloppeChange: []}
        out = []
        for back in range(self.scale.years - 1, -1, -1):
            year, dates = newest - back, _campaign_dates(self.today, back)
            for c in contracts:
                count = max(1, round(c.yearly * self.rng.uniform(0.9, 1.1)))
                envelope = Decimal(count) * Decimal("6000.00")
                campaign = _campaign(campaign_id, c, year, dates, envelope)
                rows[Campaign].append(
                    {k: getattr(campaign, k) for k in CAMPAIGN_COLUMNS}
                    | {"late_completion": False, "inhabitant_groups": False, "validation": "globale"}
                    | {"created_at": self.now}
                )
                for pos, f in enumerate(c.financeurs):
                    rows[CampaignFinanceur].append(
                        {
                            "id": cf_id,
                            "campaign_id": campaign_id,
                            "financeur_id": f.id,
                            "enveloppe": envelope,
                            "position": pos,
                        }
                    )
                    rows[EnveloppeChange].append(
                        {
                            "campaign_financeur_id": cf_id,
                            "old_amount": None,
                            "new_amount": envelope,
                            "user_id": None,
                            "at": self.now,
                            "comment": "chargement aap bench generate --national",
                        }
                    )
                    cf_id += 1
                out.append((campaign, c, count))
                campaign_id += 1
        for model, items in rows.items():
            _insert(self.session, model, items)
        self.report.campaigns = len(out)
        return out

    def dossiers(self, calls: list[tuple[Campaign, Contract, int]], newest: int) -> None:
        """The dossiers of each call, built like a volume campaign's, flushed by thousands."""
        s, rng, report = self.session, self.rng, self.report
        dossier_id, line_id = _next_id(s, Dossier), _next_id(s, Cofinancement)
        answers = {
            y: next(a for a in demo_actions(y) if a["completeness"] == "complete")["answers"]
            for y in {campaign.year for campaign, _, _ in calls}
        }
        leaves = [x["code"] for o in self.template["orientations"] for x in o.get("children", [])]
        batch = Rows([], [], [], [], [], [])
        for campaign, c, count in calls:
            ctx = Context(
                campaign=campaign,
                financeurs=c.financeurs,
                qpvs=c.qpvs,
                orientations=leaves,
                template=answers[campaign.year],
                dates=campaign.parsed_dates(),
                instructeur=c.staff["instructeur"],
                admin=c.staff["admin"],
                agents={f.id: c.staff[f"f{f.id}"] for f in c.financeurs},
                mix=None if campaign.year == newest else PAST_MIX,
            )
            for _ in range(count):
                org = c.organisations[rng.randrange(len(c.organisations))]
                one = _dossier_rows(ctx, rng, dossier_id, org, line_id)
                batch.dossiers += one.dossiers
                batch.targets += one.targets
                batch.lines += one.lines
                batch.payments += one.payments
                batch.events += one.events
                dossier_id += 1
                line_id += len(c.financeurs)
                if len(batch.dossiers) >= BATCH:
                    _flush(s, batch)
            report.dossiers += count
            report.lines += count * len(c.financeurs)
            skip_dossier_numbers(s, c.territory.id, campaign.year, dossier_id - 1)
            if campaign.year == newest and count > report.biggest_dossiers:
                report.biggest_campaign_id, report.biggest_dossiers = campaign.id, count
                report.biggest_instructeur = c.staff["instructeur"].email
        _flush(s, batch)


CAMPAIGN_COLUMNS = (
    "id",
    "territory_id",
    "code",
    "kind",
    "year",
    "title",
    "calendar",
    "dates",
    "depot_ouverture",
    "depot_cloture",
    "form_code",
    "form_version",
)


def _campaign(campaign_id: int, c: Contract, year: int, dates: dict[str, str], envelope: Decimal) -> Campaign:
    code = c.territory.code
    parsed = parse_campaign(
        {
            "territory": code,
            "code": f"{code}-{year}-fonctionnement",
            "kind": "fonctionnement",
            "year": year,
            "title": f"Appel à projets {year} du contrat de ville n° {code[2:]}",
            "calendar": "annuel",
            "dates": dates,
            "form": dict(FORM),
            "completion_apres_cloture": False,
            "financeurs": [{"code": f.code, "enveloppe": f"{envelope:.2f}"} for f in c.financeurs],
        },
        "aap bench generate --national",
    )
    return Campaign(
        id=campaign_id,
        territory_id=c.territory.id,
        code=parsed.code,
        kind=parsed.kind,
        year=parsed.year,
        title=parsed.title,
        calendar=parsed.calendar,
        dates={k: v.isoformat() for k, v in parsed.dates.items()},
        depot_ouverture=parsed.dates["depot_ouverture"],
        depot_cloture=parsed.dates["depot_cloture"],
        form_code=parsed.form.code,
        form_version=parsed.form.version,
    )


def generate_national(
    engine: Engine, scale: Scale = NATIONAL, *, today: date | None = None, seed: int = 435
) -> Report:
    """Adds the contracts, their accounts, organisations, calls and dossiers; returns what it wrote."""
    if scale.territories < 1 or scale.years < 1:
        raise GenerateRefused("--territoires et --years doivent être des entiers positifs.")
    today = today or date.today()
    with Session(engine, expire_on_commit=False) as session:
        demo_user = session.scalar(select(User).where(User.email == PASSWORD_OF))
        if demo_user is None:
            raise GenerateRefused(
                "Le territoire de démonstration n'est pas chargé : lancez d'abord « aap demo »."
            )
        build = _Builder(session, scale, today, seed)
        newest = demo_campaigns(today)[1]["year"]
        contracts = build.contracts(demo_user.password_hash)
        calls = build.calls(contracts, newest)
        build.dossiers(calls, newest)
        _reset_sequences(session, SEQUENCES)
        session.execute(text("ANALYZE"))  # statistics for the planner after a bulk load (and the rebuild)
        for campaign, _, _ in calls:  # written past the session hook that keeps them
            summary.rebuild(session, campaign.id)
        session.commit()
    return build.report


SEQUENCES = (
    "users",
    "organisations",
    "campaigns",
    "campaign_financeurs",
    "dossiers",
    "cofinancements",
    "payments",
    "dossier_events",
)
