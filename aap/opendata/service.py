"""Transparency: the SCDL « subventions » export, the directory of funded actions, the public calls.

Every public read goes through `repository` (which dossiers and columns may be shown) and every
refusal is a French 404 naming what is unknown. The exports stream from a server-side cursor
(`yield_per`): memory stays one batch of rows, whatever the number of lines.
"""

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from aap.campaigns.forms import campaign_form
from aap.campaigns.service import calendar_of, depot_open
from aap.clock import in_zone, territory_today
from aap.errors import NotFound
from aap.models import Campaign, Orientation, Qpv, Territory
from aap.opendata import repository
from aap.opendata.repository import Filters

SCHEMA_PATH = Path(__file__).parent / "schema" / "scdl-subventions-2.1.1.json"
STREAM_BATCH = 500
PAGE_SIZE = 25
QPV_ACTIONS_SHOWN = 50
_SIRET = re.compile(r"^\d{14}$")
_RNA = re.compile(r"^W\d{9}$")


@cache
def scdl_schema() -> dict[str, Any]:
    """The SCDL « subventions » Table Schema kept in the repository (`schema/`)."""
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


def scdl_fields() -> list[str]:
    return [f["name"] for f in scdl_schema()["fields"]]


# --- filters --------------------------------------------------------------------------------------


def _territory(session: Session, code: str | None) -> Territory | None:
    if code is None or code == "":
        return None
    territory = repository.territory_by_code(session, code)
    if territory is None:
        raise NotFound(f"Territoire inconnu : « {code} ».", code="territoire_inconnu")
    return territory


def _year(session: Session, value: str | None, territory: Territory | None) -> int | None:
    if value is None or value == "":
        return None
    where = f" pour le territoire « {territory.code} »" if territory else ""
    year = int(value) if value.isdigit() and len(value) == 4 else None
    if year is None or not repository.year_exists(session, year, territory.id if territory else None):
        raise NotFound(f"Année inconnue : « {value} » (aucun appel à projets{where}).", code="annee_inconnue")
    return year


def subvention_filters(
    session: Session, territoire: str | None, financeur: str | None, annee: str | None
) -> Filters:
    """The export's filters by code, each checked: an unknown one is a 404 that names it."""
    territory = _territory(session, territoire)
    tid = territory.id if territory else None
    if financeur and not repository.financeur_exists(session, financeur, tid):
        raise NotFound(f"Financeur inconnu : « {financeur} ».", code="financeur_inconnu")
    return Filters(territory_id=tid, financeur_code=financeur or None, year=_year(session, annee, territory))


# --- the SCDL export --------------------------------------------------------------------------------


def _versement(row: Any, convention: date, campaign_dates: dict[str, str]) -> tuple[str, str]:
    """`conditionsVersement` and `datesPeriodeVersement` from the payments recorded: one solde alone
    is a single payment on its day; otherwise staggered (an avance, then the solde after the bilan),
    from the first payment (or the convention) to the last one (or the bilan deadline)."""
    if row.payments == 1 and not row.has_avance:
        return "unique", row.first_payment.isoformat()
    start = row.first_payment or convention
    if row.payments and row.payments > 1:
        end = row.last_payment
    else:
        limit = campaign_dates.get("bilan_limite")
        end = date.fromisoformat(limit) if limit else date(row.year + 1, 12, 31)
    return "échelonné", f"{start.isoformat()}/{max(start, end).isoformat()}"


def scdl_record(row: Any) -> dict[str, str]:
    """One SCDL « subventions » line (every value a string, as in the CSV)."""
    convention = in_zone(row.fuseau, row.conventionne_at).date()  # the day it was in the territory
    conditions, dates = _versement(row, convention, row.campaign_dates or {})
    siret, rna = row.organisation_siret or "", row.organisation_rna or ""
    return {
        "nomAttribuant": row.financeur_name,
        "idAttribuant": row.financeur_siret,
        "dateConvention": convention.isoformat(),
        "referenceDecision": f"{row.number}-{row.financeur_code}",
        "nomBeneficiaire": row.organisation_name,
        "idBeneficiaire": siret if _SIRET.match(siret) else "",
        "rnaBeneficiaire": rna if _RNA.match(rna) else "",
        "objet": (row.title or "")[:256],
        "montant": f"{row.montant_accorde:.2f}",
        "nature": "aide en numéraire",
        "conditionsVersement": conditions,
        "datesPeriodeVersement": dates,
        "idRAE": "",
        "notificationUE": "non",
        "pourcentageSubvention": "1.00",
        "dispositifAide": row.campaign_title,
    }


def stream_records(engine: Engine, filters: Filters, batch: int = STREAM_BATCH) -> Iterator[dict[str, str]]:
    """The lines, read through a server-side cursor `batch` rows at a time, in their own session.

    On SQLite the read takes no write lock (`aap_read_only`): a slow download never blocks writers."""
    reader = engine.execution_options(aap_read_only=True)
    with Session(bind=reader) as session:
        result = session.execute(repository.subvention_lines(filters).execution_options(yield_per=batch))
        for partition in result.partitions():
            for row in partition:
                yield scdl_record(row)


def csv_stream(records: Iterator[dict[str, str]]) -> Iterator[bytes]:
    """RFC 4180 CSV, UTF-8 without BOM, comma separated, the schema's columns in order."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=scdl_fields(), lineterminator="\r\n")
    writer.writeheader()
    for count, record in enumerate(records, start=1):
        writer.writerow(record)
        if count % 200 == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def json_stream(records: Iterator[dict[str, str]]) -> Iterator[bytes]:
    """`{"items": [...], "total": n}`, written as the lines come (the total last)."""
    yield b'{"schema": "scdl-subventions-2.1.1", "items": ['
    total = 0
    for record in records:
        yield (b"," if total else b"") + json.dumps(record, ensure_ascii=False).encode("utf-8")
        total += 1
    yield f'], "total": {total}}}'.encode()


# --- the directory of funded actions -----------------------------------------------------------------


@dataclass
class DirectoryQuery:
    territory: Territory | None
    filters: Filters
    page: int


def _codes(text: str | None) -> list[str]:
    value = json.loads(text) if text else None
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _text(text: str | None) -> str | None:
    value = json.loads(text) if text else None
    return value.strip() or None if isinstance(value, str) else None


def directory_query(
    session: Session,
    territoire: str | None,
    quartier: str | None,
    orientation: str | None,
    annee: str | None,
    page: str | None,
) -> DirectoryQuery:
    territory = _territory(session, territoire)
    tid = territory.id if territory else None
    if quartier:
        query = select(Qpv.id).where(Qpv.code == quartier)
        if tid is not None:
            query = query.where(Qpv.territory_id == tid)
        if session.scalar(query.limit(1)) is None:
            raise NotFound(f"Quartier inconnu : « {quartier} ».", code="quartier_inconnu")
    if orientation:
        query = select(Orientation.id).where(Orientation.code == orientation)
        if tid is not None:
            query = query.where(Orientation.territory_id == tid)
        if session.scalar(query.limit(1)) is None:
            raise NotFound(f"Orientation inconnue : « {orientation} ».", code="orientation_inconnue")
    number = int(page) if page and page.isdigit() else (1 if not page else 0)
    if number < 1:
        raise NotFound(f"Page inconnue : « {page} ».", code="page_inconnue")
    filters = Filters(
        territory_id=tid,
        year=_year(session, annee, territory),
        qpv=quartier or None,
        orientation=orientation or None,
    )
    return DirectoryQuery(territory, filters, number)


def _labels(session: Session, territory_ids: set[int]) -> tuple[dict[tuple[int, str], str], ...]:
    qpvs = session.execute(
        select(Qpv.territory_id, Qpv.code, Qpv.name).where(Qpv.territory_id.in_(territory_ids))
    )
    orientations = session.execute(
        select(Orientation.territory_id, Orientation.code, Orientation.label).where(
            Orientation.territory_id.in_(territory_ids)
        )
    )
    return {(t, c): n for t, c, n in qpvs}, {(t, c): n for t, c, n in orientations}


def directory(session: Session, query: DirectoryQuery, page_size: int = PAGE_SIZE) -> dict[str, Any]:
    """One page of funded actions: association, title, public summary, QPV, orientation, accorded."""
    total = repository.count_actions(session, query.filters)
    pages = max(1, -(-total // page_size))
    if query.page > pages:
        raise NotFound(f"Page inconnue : « {query.page} » (il y a {pages} page(s)).", code="page_inconnue")
    rows = repository.page_of_actions(session, query.filters, page_size, (query.page - 1) * page_size)
    qpv_names, orientation_labels = _labels(session, {r.territory_id for r in rows})
    items = []
    for r in rows:
        tid = r.territory_id
        orientation = next(iter(_codes(r.orientation_json)), None)
        items.append(
            {
                "title": r.title,
                "association": r.association,
                "summary": _text(r.summary_json),
                "qpv": [{"code": q, "name": qpv_names.get((tid, q), q)} for q in _codes(r.qpv_json)],
                "orientation": orientation,
                "orientation_label": orientation_labels.get((tid, orientation)) if orientation else None,
                "accorde": r.accorde,
                "year": r.year,
                "appel": r.appel,
                "territory": r.territory_name,
            }
        )
    return {"items": items, "total": total, "page": query.page, "pages": pages, "page_size": page_size}


def filter_options(session: Session, territory: Territory | None) -> dict[str, Any]:
    """The choices of the directory's filter form (the territory's QPV, orientations, years)."""
    territories = list(session.scalars(select(Territory).order_by(Territory.name)))
    qpvs: list[Qpv] = []
    orientations: list[Orientation] = []
    if territory is not None:
        qpvs = list(session.scalars(select(Qpv).where(Qpv.territory_id == territory.id).order_by(Qpv.name)))
        orientations = list(
            session.scalars(
                select(Orientation)
                .where(Orientation.territory_id == territory.id)
                .order_by(Orientation.position)
            )
        )
    years = repository.years_with_actions(session, territory.id if territory else None)
    return {"territories": territories, "qpvs": qpvs, "orientations": orientations, "years": years}


# --- per quartier ------------------------------------------------------------------------------------


def quartiers(session: Session, territoire: str | None, annee: str | None) -> dict[str, Any]:
    """Per QPV of the territory: the year's funded actions, the money accorded, and how it spreads
    over the contract's orientations. A dossier aimed at two QPV counts in full in each (as on the
    dashboard); the figures are the grouped query of `repository.qpv_orientation_totals`."""
    territory = _territory(session, territoire)
    if territory is None:
        raise NotFound("Précisez le territoire (« territoire=… »).", code="territoire_manquant")
    years = repository.years_with_actions(session, territory.id)
    year = _year(session, annee, territory) if annee else (years[0] if years else None)
    roots = {
        o.code: o.label
        for o in session.scalars(
            select(Orientation).where(Orientation.territory_id == territory.id, Orientation.depth == 0)
        )
    }
    totals = repository.qpv_orientation_totals(session, territory.id, year) if year else []
    by_qpv: dict[str, list[Any]] = {}
    for row in totals:
        by_qpv.setdefault(row.qpv, []).append(row)
    places = []
    for qpv in session.scalars(select(Qpv).where(Qpv.territory_id == territory.id).order_by(Qpv.name)):
        rows = by_qpv.get(qpv.code, [])
        accorde = sum((r.accorde for r in rows), Decimal("0.00"))
        actions = sum(r.actions for r in rows)
        shares = [
            {
                "orientation": r.orientation,
                "label": roots.get(r.orientation, "Sans orientation")
                if r.orientation
                else "Sans orientation",
                "actions": r.actions,
                "accorde": r.accorde,
                "part": (r.accorde / accorde) if accorde else Decimal(0),
            }
            for r in rows
        ]
        listed = (
            repository.page_of_actions(
                session, Filters(territory_id=territory.id, year=year, qpv=qpv.code), QPV_ACTIONS_SHOWN, 0
            )
            if actions
            else []
        )
        places.append(
            {
                "code": qpv.code,
                "name": qpv.name,
                "population": qpv.population,
                "actions": actions,
                "accorde": accorde,
                "orientations": shares,
                "list": [
                    {"title": r.title, "association": r.association, "accorde": r.accorde} for r in listed
                ],
                "more": actions > len(listed),
            }
        )
    return {"territory": territory, "year": year, "years": years, "places": places}


# --- the calls -----------------------------------------------------------------------------------------


def published_on(campaign: Campaign) -> date:
    """The day a call becomes public: its lancement, or the opening of the dépôt."""
    return campaign.date_of("lancement") or campaign.depot_ouverture


def public_calls(session: Session, territoire: str, now: datetime) -> tuple[Territory, list[Campaign]]:
    """The calls a territory has published by the day it is there at `now`."""
    territory = _territory(session, territoire)
    assert territory is not None
    today = territory_today(territory, now)
    calls = [c for c in repository.campaigns_of(session, territory.id) if published_on(c) <= today]
    return territory, calls


def call_page(session: Session, territoire: str, code: str, now: datetime) -> dict[str, Any]:
    """A call's public page: its calendar, the pièces to attach, how to apply (on the territory's day)."""
    territory = _territory(session, territoire)
    assert territory is not None
    today = territory_today(territory, now)
    campaign = repository.campaign_by_code(session, territory.id, code)
    if campaign is None or published_on(campaign) > today:
        raise NotFound(f"Appel à projets inconnu : « {code} ».", code="campagne_introuvable")
    calendar = calendar_of(campaign)
    dates = [
        {"name": name, "label": calendar.date_label(name), "date": value}
        for name, value in sorted(campaign.parsed_dates().items(), key=lambda kv: kv[1])
    ]
    form = campaign_form(campaign)
    pieces = [{"label": f.label, "required": bool(f.required), "help": f.help} for f in form.pieces()]
    return {
        "territory": territory,
        "campaign": campaign,
        "dates": dates,
        "timeline": calendar.timeline(campaign.parsed_dates(), today),
        "depot_open": depot_open(campaign, now),
        "form_title": form.definition.title,
        "pieces": pieces,
        "financeurs": [line.financeur.name for line in campaign.financeurs],
    }
