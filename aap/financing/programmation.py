"""The programme table of a campaign, for the comités: a row per dossier, columns per financer.

Rows are read by keyset pages of `CHUNK` dossiers (one statement for the dossiers and their lines,
one for their QPV, as plain integer cents) and each page is let go before the next one, so a
national-size campaign streams as CSV or JSON in constant memory; the XLSX's sheet XML is written
row by row into a spooled file (`aap.financing.xlsx`). The running totals and the subtotals per
commune are summed as the rows go (`Table.amounts`, the one place reading a row's figures). Which dossiers are rows by default: those whose instruction is
over and that are still in the programme (`DEFAULT_STATES`: instruit, avisé, programmé and after);
rejected, abandoned and earlier dossiers only on request (`state=`).

Where the QPV, the orientation and the budget sit in the answers is read from the form definition
(the fields whose options come from `qpvs` / `orientations`, the left side of its `balance` rule),
so another form needs no code.
"""

import csv
import io
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Integer, and_, case, func, select, type_coerce
from sqlalchemy.orm import Session, aliased

from aap.campaigns.service import get_campaign
from aap.dossiers.access import visible_dossiers
from aap.dossiers.answer_paths import (  # noqa: F401 (this module's names for them)
    FormPaths,
    _paths,
    answered_budget,
    has_budget,
    orientation_of,
    paths_of,
    qpvs_of,
)
from aap.errors import Forbidden, Invalid
from aap.financing import xlsx
from aap.financing.cells import neutralise
from aap.financing.communes import (
    CommuneNames,
    commune_names,
    commune_subtotals,
    commune_subtotals_json,
    in_commune,
)
from aap.financing.xlsx import EURO_FORMAT, Style  # noqa: F401 (EURO_FORMAT: this module's name for it)
from aap.models import (
    Campaign,
    Cofinancement,
    Dossier,
    DossierTarget,
    Financeur,
    Organisation,
    Orientation,
    Qpv,
    User,
)
from workflows import money
from workflows.dossier import STATE_LABELS, STATES
from workflows.labels import AVIS_LABELS

CHUNK = 1000
DEFAULT_STATES = ("instruit", "avise", "programme", "conventionne", "bilan_depose", "cloture")
AMOUNTS = (("demande", "demandé"), ("propose", "proposé"), ("accorde", "accordé"))
BUDGET = 6  # the index of the « Budget total » column in `headers`
ZERO = Decimal("0.00")


# --- where things are in the answers (aap.dossiers.answer_paths) ---------------------------------


def budget_total(dossier: Dossier) -> Decimal | None:
    """Total cost of the action (total des charges); the amounts requested when the form has no budget."""
    if has_budget(dossier):
        return answered_budget(dossier)
    requested = sum((line.montant_demande for line in dossier.cofinancements), ZERO)
    return requested or None


# --- rows ----------------------------------------------------------------------------------------


@dataclass
class Table:
    """A campaign's table: its financer columns, and the running totals of the rows read so far."""

    campaign: Campaign
    financeurs: list[tuple[str, str]]  # (code, name) in the campaign's order
    qpv_names: dict[str, str]
    orientation_labels: dict[str, str]
    states: tuple[str, ...]
    commune: str | None = None  # `?commune=INSEE`: that commune's dossiers only
    communes: "CommuneNames" = field(default_factory=lambda: CommuneNames({}, {}))
    count: int = 0
    budget: int = 0  # cents, as every running total
    totals: dict[str, list[int]] = field(default_factory=dict)  # code -> [demandé, proposé, accordé]
    # INSEE -> [dossiers, then demandé, proposé, accordé per financer]: the subtotals per commune
    by_commune: dict[str | None, list[int]] = field(default_factory=dict)
    _communes_of: dict[tuple[str, ...], list[str | None]] = field(default_factory=dict, repr=False)
    financeur_ids: list[int] = field(default_factory=list)  # of `financeurs`, in their order

    def __post_init__(self) -> None:
        self.totals = {code: [0, 0, 0] for code, _ in self.financeurs}

    def amounts(self, source: "Source") -> tuple[int | None, list[int | None]]:
        """(budget, amounts) of a dossier's row in cents, the amounts per financer of the table as
        demandé, proposé, accordé (accordé only once decided so), counted in the running totals.
        The one place that reads a row's figures: the page, the CSV, the XLSX and the JSON."""
        per: list[int | None] = []
        lines = source.lines
        for i, (code, _) in enumerate(self.financeurs):
            demande, propose, decision, accorde = lines[4 * i : 4 * i + 4]
            if demande is None:  # no line for this financer
                per += (None, None, None)
                continue
            if decision != "accorde":
                accorde = None
            totals = self.totals[code]
            totals[0] += demande
            if propose is not None:
                totals[1] += propose
            if accorde is not None:
                totals[2] += accorde
            per += (demande, propose, accorde)
        budget = source.budget_total()
        self.budget += budget or 0
        self.count += 1
        self._count_in_communes(source, per)
        return budget, per

    def _count_in_communes(self, source: "Source", per: list[int | None]) -> None:
        """A dossier counts in every commune one of its QPV (or places) lies in (with `?commune=`,
        in that one only)."""
        key = tuple(source.qpvs)
        communes = self._communes_of.get(key)
        if communes is None:
            communes = [c for c in self.communes.of(source.qpvs) if self.commune in (None, c)]
            self._communes_of[key] = communes
        for insee in communes:
            sums = self.by_commune.get(insee)
            if sums is None:
                sums = self.by_commune[insee] = [0] * (1 + len(per))
            sums[0] += 1
            for i, value in enumerate(per, start=1):
                if value is not None:
                    sums[i] += value

    def row(self, source: "Source") -> dict[str, Any]:
        """A dossier's row as the page and the JSON show it (amounts as Decimal)."""
        budget, per = self.amounts(source)
        amounts: dict[str, dict[str, Any]] = {}
        for i, (code, _) in enumerate(self.financeurs):
            demande, propose, accorde = per[3 * i : 3 * i + 3]
            amounts[code] = {
                "demande": _decimal(demande),
                "propose": _decimal(propose),
                "accorde": _decimal(accorde),
                "decision": source.lines[4 * i + 2],
            }
        qpvs, orientation = source.qpvs, source.orientation
        return {
            "dossier_id": source.id,
            "numero": source.number,
            "porteur": source.porteur,
            "action": source.title,
            "qpv": qpvs,
            "qpv_noms": [self.qpv_names.get(q, q) for q in qpvs],
            "communes": self.communes.of(qpvs),
            "orientation": orientation,
            "orientation_label": self.orientation_labels.get(orientation or "", None),
            "budget_total": _decimal(budget),
            "avis": source.avis,
            "state": source.state,
            "state_label": STATE_LABELS.get(source.state, source.state),
            "financements": amounts,
        }

    def sums(self) -> dict[str, Any]:
        """The totals row: the budget and, per financer, what is requested, proposed, accorded."""
        per = {
            code: {k: _cents(v) for (k, _), v in zip(AMOUNTS, values, strict=True)}
            for code, values in self.totals.items()
        }
        return {
            "dossiers": self.count,
            "budget_total": _cents(self.budget),
            "financements": per,
            **{
                k: _cents(sum(values[i] for values in self.totals.values()))
                for i, (k, _) in enumerate(AMOUNTS)
            },
        }


def parse_states(value: str | None) -> tuple[str, ...]:
    """`state=` is one state, several separated by commas, or `tous`; absent: `DEFAULT_STATES`."""
    if value is None or not value.strip():
        return DEFAULT_STATES
    if value.strip() in ("tous", "all"):
        return tuple(STATES)
    wanted = tuple(s.strip() for s in value.split(",") if s.strip())
    unknown = [s for s in wanted if s not in STATES]
    if unknown:
        raise Invalid(
            f"État(s) inconnu(s) : {', '.join(unknown)}.",
            code="etat_inconnu",
            errors=[{"path": "state", "code": "enum", "message": "valeurs : " + ", ".join(STATES)}],
        )
    return wanted


def open_table(
    session: Session, user: User, campaign_id: int, states: tuple[str, ...], commune: str | None = None
) -> Table:
    """Checks the caller may read the programme (staff and financers), and sets the columns."""
    if user.role not in ("admin", "instructeur", "financeur"):
        raise Forbidden(
            "La programmation est réservée aux partenaires du contrat de ville.", code="role_interdit"
        )
    campaign = get_campaign(session, user, campaign_id)
    territory_id = campaign.territory_id
    qpvs = {q.code: q.name for q in session.scalars(select(Qpv).where(Qpv.territory_id == territory_id))}
    orientations = {
        o.code: o.label
        for o in session.scalars(select(Orientation).where(Orientation.territory_id == territory_id))
    }
    return Table(
        campaign=campaign,
        financeurs=[(cf.financeur.code, cf.financeur.name) for cf in campaign.financeurs],
        financeur_ids=[cf.financeur.id for cf in campaign.financeurs],
        qpv_names=qpvs,
        orientation_labels=orientations,
        states=states,
        commune=commune,
        communes=commune_names(session, territory_id, commune),
    )


@dataclass
class Source:
    """What a row shows of a dossier, read as plain rows (no ORM objects: a page of a thousand
    costs two statements and little memory)."""

    id: int
    number: str
    title: str | None
    state: str
    avis: str | None
    porteur: str
    orientation: str | None
    budget: int | None  # cents, from the answers (`Dossier.budget_total`)
    form_has_budget: bool
    requested: int | None  # cents: the sum requested on every line of the dossier
    # per financer of the table, in its order: demandé, proposé, décision, accordé (cents); all None
    # when the dossier has no line for that financer
    lines: tuple[Any, ...] = ()
    qpvs: list[str] = field(default_factory=list)

    def budget_total(self) -> int | None:
        """As `budget_total` (in cents): the answers' budget, or the amounts requested when the form
        has none."""
        if self.form_has_budget:
            return self.budget
        return int(self.requested or 0) or None  # PostgreSQL's sum of bigint is a numeric


def _where(user: User, table: Table) -> list[Any]:
    """The table's rows: the campaign's visible dossiers in its states (and its commune's, if asked)."""
    visible = visible_dossiers(user).whereclause
    return [
        Dossier.campaign_id == table.campaign.id,
        Dossier.state.in_(table.states),
        *([visible] if visible is not None else []),
        *([in_commune(table.campaign.territory_id, table.commune)] if table.commune else []),
    ]


def _in_cents(column: Any) -> Any:
    """A `Money` column read as its stored integer cents (no Decimal per value)."""
    return type_coerce(column, BigInteger)


def read_sources(
    session: Session,
    user: User,
    table: Table,
    *,
    limit: int,
    offset: int = 0,
    after: int = 0,
    where: list[Any] | None = None,
) -> list[Source]:
    """One page of the table's dossiers by id (after `after`, skipping `offset`), with their lines and QPV.

    Two statements whatever the page's size: the dossiers with their line of each financer, then
    their QPV, read between the page's first and last id under the same conditions (no list of ids
    to bind)."""
    if where is None:
        where = _where(user, table)
    # one row per dossier: its line of each financer of the table by an outer join on the
    # (dossier, financer) unique index; aliases, as the visibility conditions hold their own
    lines = [aliased(Cofinancement) for _ in table.financeur_ids]
    every_line = aliased(Cofinancement)
    requested = (
        select(func.sum(_in_cents(every_line.montant_demande)))
        .where(every_line.dossier_id == Dossier.id)
        .scalar_subquery()
    )
    query = select(
        Dossier.id,
        Dossier.number,
        Dossier.title,
        Dossier.state,
        Dossier.avis,
        Dossier.form_code,
        Dossier.form_version,
        Dossier.orientation_code,
        _in_cents(Dossier.budget_total),
        Organisation.name,
        type_coerce(requested, BigInteger),
        *(
            column
            for line in lines
            for column in (
                _in_cents(line.montant_demande),
                _in_cents(line.montant_propose),
                line.decision,
                _in_cents(line.montant_accorde),
            )
        ),
    ).join(Organisation, Organisation.id == Dossier.organisation_id)
    for line, financeur_id in zip(lines, table.financeur_ids, strict=True):
        # `> after` on the line too: PostgreSQL's merge join then starts at the page, not the first line
        on = and_(line.dossier_id == Dossier.id, line.financeur_id == financeur_id, line.dossier_id > after)
        query = query.outerjoin(line, on)
    query = query.where(*where, Dossier.id > after).order_by(Dossier.id).limit(limit).offset(offset)
    has_budget: dict[tuple[str, int], bool] = {}
    sources: dict[int, Source] = {}
    connection = session.connection()  # plain rows: no ORM loading step per row
    for row in connection.execute(query).all():
        head, lines_of_row = row[:11], row[11:]
        id_, number, title, state, avis, form_code, form_version, orientation, budget, porteur, asked = head
        form = (form_code, form_version)
        if form not in has_budget:
            has_budget[form] = bool(_paths(form_code, form_version).budget)
        sources[id_] = Source(
            id_,
            number,
            title,
            state,
            avis,
            porteur,
            orientation,
            budget,
            has_budget[form],
            asked,
            lines_of_row,
        )
    if not sources:
        return []
    ids = list(sources)
    in_page = [*where, Dossier.id.between(ids[0], ids[-1])]
    target = aliased(DossierTarget)
    qpvs = connection.execute(
        select(target.dossier_id, target.code)
        .join(Dossier, Dossier.id == target.dossier_id)
        .where(*in_page, target.dossier_id.between(ids[0], ids[-1]), target.kind == "qpv")
        .order_by(target.dossier_id, target.code)
    )
    for dossier_id, code in qpvs.all():
        source = sources.get(dossier_id)
        if source is not None:
            source.qpvs.append(code)
    return list(sources.values())


def iter_sources(session: Session, user: User, table: Table, chunk: int = CHUNK) -> Iterator[Source]:
    """Every dossier of the table, by keyset pages of `chunk`, each page let go after use.

    Each page is its own short read transaction: a long download never holds a lock (SQLite's
    BEGIN IMMEDIATE would otherwise block every writer until the last row), and memory stays one
    page whatever the campaign's size."""
    after = 0
    where = _where(user, table)  # built once: the caller and the campaign are not read again per page
    while page := read_sources(session, user, table, limit=chunk, after=after, where=where):
        yield from page
        after = page[-1].id
        session.rollback()


def rows(session: Session, user: User, table: Table, chunk: int = CHUNK) -> Iterator[dict[str, Any]]:
    for source in iter_sources(session, user, table, chunk):
        yield table.row(source)


def page_rows(session: Session, user: User, table: Table, *, limit: int, offset: int) -> list[dict[str, Any]]:
    """One page of rows, for the comité page (its totals come from `sql_sums`)."""
    return [table.row(s) for s in read_sources(session, user, table, limit=limit, offset=offset)]


def sql_sums(session: Session, user: User, table: Table) -> dict[str, Any]:
    """The totals row of the whole table (as `Table.sums`), by two grouped queries."""
    where = _where(user, table)
    count, budget = session.execute(
        select(func.count(), func.sum(type_coerce(Dossier.budget_total, Integer))).where(*where)
    ).one()
    accorde = case((Cofinancement.decision == "accorde", Cofinancement.montant_accorde), else_=None)
    # the requested amounts stand for the budget of a dossier whose form has none
    no_budget = case((Dossier.budget_total.is_(None), Cofinancement.montant_demande), else_=None)
    per = {code: {k: ZERO for k, _ in AMOUNTS} for code, _ in table.financeurs}
    fallback = ZERO
    rows_ = session.execute(
        select(
            Financeur.code,
            func.sum(type_coerce(Cofinancement.montant_demande, Integer)),
            func.sum(type_coerce(Cofinancement.montant_propose, Integer)),
            func.sum(type_coerce(accorde, Integer)),
            func.sum(type_coerce(no_budget, Integer)),
        )
        .select_from(Cofinancement)
        .join(Dossier, Dossier.id == Cofinancement.dossier_id)
        .join(Financeur, Financeur.id == Cofinancement.financeur_id)
        .where(*where)
        .group_by(Financeur.code)
    )
    for code, demande, propose, accorde_sum, requested in rows_:
        per[code] = {
            k: _cents(v) for k, v in (("demande", demande), ("propose", propose), ("accorde", accorde_sum))
        }
        fallback += _cents(requested)
    return {
        "dossiers": count or 0,
        "budget_total": _cents(budget) + fallback,
        "financements": per,
        **{k: sum((v[k] for v in per.values()), ZERO) for k, _ in AMOUNTS},
    }


def _cents(value: Any) -> Decimal:
    return Decimal(int(value or 0)).scaleb(-2)


def _decimal(cents: int | None) -> Decimal | None:
    """Cents as the euro amount (``Decimal('1234.50')``)."""
    return None if cents is None else Decimal(cents).scaleb(-2)


def _texts_of(cents: list[int | None], comma: bool) -> list[str]:
    """Cents as text, ``1234.50`` (or ``1234,50``), "" for None: what ``f"{Decimal:.2f}"`` gives.

    Through a float: exact to the cent for any amount below a hundred billion euros (a double holds
    15 significant digits), and one C call per amount instead of Decimal arithmetic."""
    texts = ["" if c is None else "%.2f" % (c / 100) for c in cents]
    return [t.replace(".", ",") for t in texts] if comma else texts


# --- formats -------------------------------------------------------------------------------------


def _fr(amount: Decimal | None) -> str:
    """An amount for French spreadsheets: decimal comma, no thousands separator (``1234,50``)."""
    return "" if amount is None else f"{amount:.2f}".replace(".", ",")


# the columns before the amounts per financer (`BUDGET` is the index of « Budget total »)
_TEXT_COLUMNS = (
    "Numéro",
    "Porteur",
    "Action",
    "QPV",
    "Commune",
    "Orientation",
    "Budget total",
    "Avis du comité technique",
    "État",
)


def headers(table: Table) -> list[str]:
    cols = list(_TEXT_COLUMNS)
    for code, _ in table.financeurs:
        cols += [f"{code} {label}" for _, label in AMOUNTS]
    cols += [f"Total {label}" for _, label in AMOUNTS]
    return cols


class _Cells:
    """A row's cells in the column order of `headers`: the text cells (neutralised: typed by porteurs,
    never a formula in the export) and the amounts in cents. The labels a campaign repeats on every
    row (orientation, commune, avis, state) are worked out once each."""

    def __init__(self, table: Table):
        self.table = table
        self._orientations: dict[str | None, str] = {}
        self._communes: dict[tuple[str, ...], str] = {}
        self._tails: dict[tuple[str | None, str], tuple[str, str]] = {}

    def orientation(self, code: str | None) -> str:
        if code not in self._orientations:
            label = self.table.orientation_labels.get(code or "")
            self._orientations[code] = neutralise(f"{code} – {label}" if label else code or "")
        return self._orientations[code]

    def commune(self, qpvs: tuple[str, ...]) -> str:
        if qpvs not in self._communes:
            names = self.table.communes.names
            self._communes[qpvs] = neutralise(
                ", ".join(names.get(i, i) for i in self.table.communes.of(list(qpvs)))
            )
        return self._communes[qpvs]

    def tail(self, avis: str | None, state: str) -> tuple[str, str]:
        key = (avis, state)
        if key not in self._tails:
            avis_label = neutralise(AVIS_LABELS.get(avis or "", avis or ""))
            self._tails[key] = (avis_label, STATE_LABELS.get(state, state))
        return self._tails[key]

    def of(self, source: Source) -> tuple[list[str], int | None, list[str], list[int | None]]:
        """(the text cells before the budget, the budget, the two after it, the amounts): the
        amounts per financer (`Table.amounts`) then the row's demandé, proposé, accordé."""
        budget, per = self.table.amounts(source)
        qpvs = tuple(source.qpvs)
        text = [
            neutralise(source.number),
            neutralise(source.porteur),
            neutralise(source.title or ""),
            neutralise(", ".join(qpvs)),
            self.commune(qpvs),
            self.orientation(source.orientation),
        ]
        sums = [sum(v for v in per[k::3] if v is not None) for k in range(3)]
        return text, budget, list(self.tail(source.avis, source.state)), [*per, *sums]


def _totals_cells(table: Table) -> tuple[list[Any], list[Decimal | None]]:
    sums = table.sums()
    text = [f"Total ({sums['dossiers']} dossiers)", "", "", "", "", "", sums["budget_total"], "", ""]
    per = [sums["financements"][code][k] for code, _ in table.financeurs for k, _ in AMOUNTS]
    return text, [*per, *(sums[k] for k, _ in AMOUNTS)]


def csv_stream(session: Session, user: User, table: Table, chunk: int = CHUNK) -> Iterator[bytes]:
    """The CSV for French spreadsheets: UTF-8 with BOM, `;` separated, decimal commas, a totals row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")

    def flush() -> bytes:
        data = buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
        return data

    writer.writerow(headers(table))
    yield "\ufeff".encode() + flush()
    cells = _Cells(table)
    for n, source in enumerate(iter_sources(session, user, table, chunk), start=1):
        front, budget, tail, amounts = cells.of(source)
        writer.writerow([*front, *_texts_of([budget], True), *tail, *_texts_of(amounts, True)])
        if n % 500 == 0:
            yield flush()
    for text, sub in commune_subtotals(table):
        writer.writerow(text + [_fr(a) for a in sub])
    text, sub = _totals_cells(table)
    writer.writerow([_fr(c) if i == BUDGET else c for i, c in enumerate(text)] + [_fr(a) for a in sub])
    yield flush()


def xlsx_file(
    session: Session, user: User, table: Table, chunk: int = CHUNK
) -> "tempfile.SpooledTemporaryFile[bytes]":
    """The XLSX (`aap.financing.xlsx`, the sheet's XML streamed into the zip): euro cells typed as
    numbers, frozen header, commune subtotals and a bold totals row."""
    names = headers(table)
    widths = [12, 32, 40, 20, 20, 28, 14, 16, 16] + [14] * (len(names) - 9)
    out = xlsx.spooled()
    sheet = xlsx.SheetWriter(out, "Programmation", widths)
    sheet.row((n, Style.HEADER) for n in names)
    columns = xlsx.Columns(
        [(i == BUDGET, Style.EURO if i == BUDGET else Style.DEFAULT) for i in range(len(_TEXT_COLUMNS))]
        + [(True, Style.EURO)] * (len(names) - len(_TEXT_COLUMNS))
    )
    cells = _Cells(table)
    for source in iter_sources(session, user, table, chunk):
        front, budget, tail, amounts = cells.of(source)
        sheet.typed_row(columns, [*front, *_texts_of([budget], False), *tail, *_texts_of(amounts, False)])
    for text, sub in commune_subtotals(table):
        sheet.row([*((c, Style.DEFAULT) for c in text), *((a, Style.EURO_BOLD) for a in sub)])
    text, sub = _totals_cells(table)
    sheet.row(
        [
            *((c, Style.EURO_BOLD if i == BUDGET else Style.DEFAULT) for i, c in enumerate(text)),
            *((a, Style.EURO_BOLD) for a in sub),
        ]
    )
    sheet.close()
    out.seek(0)
    return out


def _euros(value: Decimal | None) -> str | None:
    return None if value is None else money.wire(value)


def _json_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **{k: v for k, v in row.items() if k not in ("budget_total", "financements")},
        "budget_total": _euros(row["budget_total"]),
        "financements": {
            code: {k: (_euros(v) if k != "decision" else v) for k, v in amounts.items()}
            for code, amounts in row["financements"].items()
        },
    }


def _json_totals(table: Table) -> dict[str, Any]:
    sums = table.sums()
    return {
        "dossiers": sums["dossiers"],
        "budget_total": _euros(sums["budget_total"]),
        "financements": {
            code: {k: _euros(v) for k, v in values.items()} for code, values in sums["financements"].items()
        },
        **{k: _euros(sums[k]) for k, _ in AMOUNTS},
    }


def json_stream(session: Session, user: User, table: Table, chunk: int = CHUNK) -> Iterator[bytes]:
    """The table as JSON (`ProgrammeOut`), written as the rows are read: the head, each row, then the
    count, the totals and the commune subtotals (known once every row is read). Memory stays one page
    of rows whatever the campaign's size."""

    def dumps(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    head = {
        "campaign": {"id": table.campaign.id, "code": table.campaign.code, "title": table.campaign.title},
        "states": list(table.states),
        "commune": table.commune,
        "financeurs": [{"code": c, "name": n} for c, n in table.financeurs],
    }
    buffer = [dumps(head)[:-1] + ',"items":[']
    for n, row in enumerate(rows(session, user, table, chunk)):
        buffer.append(("," if n else "") + dumps(_json_row(row)))
        if len(buffer) >= 200:
            yield "".join(buffer).encode("utf-8")
            buffer.clear()
    tail = {
        "total": table.count,
        "totaux": _json_totals(table),
        "sous_totaux_communes": commune_subtotals_json(table),
    }
    buffer.append("]," + dumps(tail)[1:])
    yield "".join(buffer).encode("utf-8")


def stream_chunks(file: Any, size: int = 64 * 1024) -> Iterator[bytes]:
    try:
        while data := file.read(size):
            yield data
    finally:
        file.close()
