"""The programme table of a campaign, for the comités: a row per dossier, columns per financer.

Rows are read by keyset pages of `CHUNK` dossiers and each page is let go before the next one, so a
national-size campaign streams as CSV in constant memory; the XLSX is written by openpyxl's
write-only mode to a spooled file. Which dossiers are rows by default: those whose instruction is
over and that are still in the programme (`DEFAULT_STATES`: instruit, avisé, programmé and after);
rejected, abandoned and earlier dossiers only on request (`state=`).

Where the QPV, the orientation and the budget sit in the answers is read from the form definition
(the fields whose options come from `qpvs` / `orientations`, the left side of its `balance` rule),
so another form needs no code.
"""

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from aap.campaigns.service import get_campaign
from aap.dossiers.access import visible_dossiers
from aap.errors import Forbidden, Invalid
from aap.financing.communes import (
    CommuneNames,
    commune_names,
    commune_subtotals,
    commune_subtotals_json,
    in_commune,
)
from aap.models import Campaign, Cofinancement, Dossier, Orientation, Qpv, User
from forms import load_form
from forms.definition import FieldDef, FormDef
from forms.values import parse_amount
from forms.walk import get_path
from workflows import money
from workflows.dossier import STATE_LABELS, STATES
from workflows.labels import AVIS_LABELS

CHUNK = 500
DEFAULT_STATES = ("instruit", "avise", "programme", "conventionne", "bilan_depose", "cloture")
AMOUNTS = (("demande", "demandé"), ("propose", "proposé"), ("accorde", "accordé"))
EURO_FORMAT = '#,##0.00 "€"'
BUDGET = 6  # the index of the « Budget total » column in `headers`
ZERO = Decimal("0.00")


# --- where things are in the answers -------------------------------------------------------------


@dataclass(frozen=True)
class FormPaths:
    qpv: str | None
    orientation: str | None
    budget: tuple[str, ...]


def _walk(fields: list[FieldDef], prefix: str) -> Iterator[tuple[str, FieldDef]]:
    for f in fields:
        path = f"{prefix}.{f.key}"
        yield path, f
        if f.type == "group" and f.fields:
            yield from _walk(f.fields, path)


def paths_of(form: FormDef) -> FormPaths:
    found: dict[str, str] = {}
    for section in form.sections:
        for path, f in _walk(section.fields, section.key):
            if f.options_from in ("qpvs", "orientations"):
                found.setdefault(f.options_from, path)
    balance = next((r for r in form.rules if r.kind == "balance"), None)
    return FormPaths(found.get("qpvs"), found.get("orientations"), tuple(balance.left) if balance else ())


@lru_cache(maxsize=32)
def _paths(form_code: str, form_version: int) -> FormPaths:
    return paths_of(load_form(form_code, form_version).definition)


def _sum_amounts(value: Any) -> Decimal:
    if isinstance(value, list):
        return sum((_sum_amounts(v.get("montant") if isinstance(v, dict) else v) for v in value), ZERO)
    if isinstance(value, dict):
        return sum((_sum_amounts(v) for v in value.values()), ZERO)
    amount = parse_amount(value)
    return amount if amount is not None else ZERO


def budget_total(dossier: Dossier) -> Decimal | None:
    """Total cost of the action (total des charges); the amounts requested when the form has no budget."""
    paths = _paths(dossier.form_code, dossier.form_version)
    answers = dossier.answers or {}
    if paths.budget:
        total = sum((_sum_amounts(get_path(answers, p)) for p in paths.budget), ZERO)
        return total.quantize(Decimal("0.01")) if total else None
    requested = sum((line.montant_demande for line in dossier.cofinancements), ZERO)
    return requested or None


def qpvs_of(dossier: Dossier) -> list[str]:
    path = _paths(dossier.form_code, dossier.form_version).qpv
    value = get_path(dossier.answers or {}, path) if path else None
    if isinstance(value, str) and value:
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def orientation_of(dossier: Dossier) -> str | None:
    path = _paths(dossier.form_code, dossier.form_version).orientation
    value = get_path(dossier.answers or {}, path) if path else None
    if isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, str) and value else None


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
    budget: Decimal = ZERO
    totals: dict[str, dict[str, Decimal]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.totals = {code: {k: ZERO for k, _ in AMOUNTS} for code, _ in self.financeurs}

    def row(self, dossier: Dossier) -> dict[str, Any]:
        lines = {line.financeur.code: line for line in dossier.cofinancements}
        amounts: dict[str, dict[str, Any]] = {}
        for code, _ in self.financeurs:
            line = lines.get(code)
            values = {
                "demande": line.montant_demande if line else None,
                "propose": line.montant_propose if line else None,
                "accorde": line.montant_accorde if line and line.decision == "accorde" else None,
            }
            for k, v in values.items():
                if v is not None:
                    self.totals[code][k] += v
            amounts[code] = {**values, "decision": line.decision if line else None}
        budget = budget_total(dossier)
        self.budget += budget or ZERO
        self.count += 1
        qpvs, orientation = qpvs_of(dossier), orientation_of(dossier)
        return {
            "dossier_id": dossier.id,
            "numero": dossier.number,
            "porteur": dossier.organisation.name,
            "action": dossier.title,
            "qpv": qpvs,
            "qpv_noms": [self.qpv_names.get(q, q) for q in qpvs],
            "communes": self.communes.of(qpvs),
            "orientation": orientation,
            "orientation_label": self.orientation_labels.get(orientation or "", None),
            "budget_total": budget,
            "avis": dossier.avis,
            "state": dossier.state,
            "state_label": STATE_LABELS.get(dossier.state, dossier.state),
            "financements": amounts,
        }

    def sums(self) -> dict[str, Any]:
        """The totals row: the budget and, per financer, what is requested, proposed, accorded."""
        per = {code: dict(values) for code, values in self.totals.items()}
        return {
            "dossiers": self.count,
            "budget_total": self.budget,
            "financements": per,
            **{k: sum((v[k] for v in per.values()), ZERO) for k, _ in AMOUNTS},
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
        qpv_names=qpvs,
        orientation_labels=orientations,
        states=states,
        commune=commune,
        communes=commune_names(session, territory_id, commune),
    )


def iter_dossiers(
    session: Session,
    user: User,
    campaign_id: int,
    states: Iterable[str],
    chunk: int = CHUNK,
    commune: tuple[int, str] | None = None,
) -> Iterator[Dossier]:
    """The campaign's visible dossiers in these states, by pages of `chunk`, each page let go after use.

    Each page is its own short read transaction: a long download never holds a lock (SQLite's
    BEGIN IMMEDIATE would otherwise block every writer until the last row)."""
    query = (
        visible_dossiers(user)
        .where(Dossier.campaign_id == campaign_id, Dossier.state.in_(tuple(states)))
        .options(
            selectinload(Dossier.cofinancements).selectinload(Cofinancement.financeur),
            selectinload(Dossier.cofinancements).selectinload(Cofinancement.payments),
            selectinload(Dossier.organisation),
        )
        .order_by(Dossier.id)
        .limit(chunk)
    )
    if commune is not None:  # (territory_id, insee)
        query = query.where(in_commune(*commune))
    after = 0
    while page := list(session.scalars(query.where(Dossier.id > after))):
        yield from page
        after = page[-1].id
        for dossier in page:
            session.expunge(dossier)  # cascades to its lines: memory stays one page
        session.rollback()


def rows(session: Session, user: User, table: Table, chunk: int = CHUNK) -> Iterator[dict[str, Any]]:
    commune = (table.campaign.territory_id, table.commune) if table.commune else None
    for dossier in iter_dossiers(session, user, table.campaign.id, table.states, chunk, commune):
        yield table.row(dossier)


# --- formats -------------------------------------------------------------------------------------


def _fr(amount: Decimal | None) -> str:
    """An amount for French spreadsheets: decimal comma, no thousands separator (``1234,50``)."""
    return "" if amount is None else f"{amount:.2f}".replace(".", ",")


def headers(table: Table) -> list[str]:
    cols = [
        "Numéro",
        "Porteur",
        "Action",
        "QPV",
        "Commune",
        "Orientation",
        "Budget total",
        "Avis du comité technique",
        "État",
    ]
    for code, _ in table.financeurs:
        cols += [f"{code} {label}" for _, label in AMOUNTS]
    cols += [f"Total {label}" for _, label in AMOUNTS]
    return cols


def _cells(table: Table, row: dict[str, Any]) -> tuple[list[Any], list[Decimal | None]]:
    """(text cells, amount cells) of a row, in the column order of `headers`."""
    orientation = row["orientation"] or ""
    if row["orientation_label"]:
        orientation = f"{orientation} – {row['orientation_label']}"
    commune = ", ".join(table.communes.names.get(i, i) for i in row["communes"])
    text = [row["numero"], row["porteur"], row["action"] or "", ", ".join(row["qpv"]), commune, orientation]
    amounts: list[Decimal | None] = [row["budget_total"]]
    tail = [AVIS_LABELS.get(row["avis"] or "", row["avis"] or ""), row["state_label"]]
    per: list[Decimal | None] = []
    sums = dict.fromkeys((k for k, _ in AMOUNTS), ZERO)
    for code, _ in table.financeurs:
        for k, _ in AMOUNTS:
            v = row["financements"][code][k]
            per.append(v)
            sums[k] += v or ZERO
    return [*text, *amounts, *tail], [*per, *sums.values()]


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
    for n, row in enumerate(rows(session, user, table, chunk), start=1):
        text, amounts = _cells(table, row)
        writer.writerow(
            [_fr(c) if i == BUDGET else c for i, c in enumerate(text)] + [_fr(a) for a in amounts]
        )
        if n % 200 == 0:
            yield flush()
    for text, amounts in commune_subtotals(session, user, table):
        writer.writerow(text + [_fr(a) for a in amounts])
    text, amounts = _totals_cells(table)
    writer.writerow([_fr(c) if i == BUDGET else c for i, c in enumerate(text)] + [_fr(a) for a in amounts])
    yield flush()


def xlsx_file(
    session: Session, user: User, table: Table, chunk: int = CHUNK
) -> tempfile.SpooledTemporaryFile:  # type: ignore[type-arg]
    """The XLSX (write-only openpyxl): euro cells typed as numbers, frozen header, a bold totals row."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Programmation")
    ws.freeze_panes = "A2"
    names = headers(table)
    widths = [12, 32, 40, 20, 20, 28, 14, 16, 16] + [14] * (len(names) - 9)
    for i, width in enumerate(widths):
        ws.column_dimensions[_column(i)].width = width
    bold = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="DDE5F0")

    def header_cell(value: str) -> WriteOnlyCell:
        c = WriteOnlyCell(ws, value=value)
        c.font, c.fill, c.alignment = bold, header_fill, Alignment(wrap_text=True, vertical="top")
        return c

    def euro(value: Decimal | None, font: Font | None = None) -> WriteOnlyCell:
        c = WriteOnlyCell(ws, value=value)
        c.number_format = EURO_FORMAT
        if font is not None:
            c.font = font
        return c

    ws.append([header_cell(n) for n in names])
    for row in rows(session, user, table, chunk):
        text, amounts = _cells(table, row)
        ws.append([euro(c) if i == BUDGET else c for i, c in enumerate(text)] + [euro(a) for a in amounts])
    for text, amounts in commune_subtotals(session, user, table):
        ws.append([WriteOnlyCell(ws, value=c) for c in text] + [euro(a, bold) for a in amounts])
    text, amounts = _totals_cells(table)
    ws.append(
        [euro(c, bold) if i == BUDGET else WriteOnlyCell(ws, value=c) for i, c in enumerate(text)]
        + [euro(a, bold) for a in amounts]
    )
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 (closed by stream_chunks)
    wb.save(out)
    out.seek(0)
    return out


def _column(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def _euros(value: Decimal | None) -> str | None:
    return None if value is None else money.wire(value)


def as_json(session: Session, user: User, table: Table) -> dict[str, Any]:
    """For the web page: every row, amounts as two-decimal strings, and the totals row."""
    items = []
    for row in rows(session, user, table):
        items.append(
            {
                **{k: v for k, v in row.items() if k not in ("budget_total", "financements")},
                "budget_total": _euros(row["budget_total"]),
                "financements": {
                    code: {k: (_euros(v) if k != "decision" else v) for k, v in amounts.items()}
                    for code, amounts in row["financements"].items()
                },
            }
        )
    sums = table.sums()
    return {
        "campaign": {"id": table.campaign.id, "code": table.campaign.code, "title": table.campaign.title},
        "states": list(table.states),
        "commune": table.commune,
        "sous_totaux_communes": commune_subtotals_json(session, user, table),
        "financeurs": [{"code": c, "name": n} for c, n in table.financeurs],
        "items": items,
        "total": len(items),
        "totaux": {
            "dossiers": sums["dossiers"],
            "budget_total": _euros(sums["budget_total"]),
            "financements": {
                code: {k: _euros(v) for k, v in values.items()}
                for code, values in sums["financements"].items()
            },
            **{k: _euros(sums[k]) for k, _ in AMOUNTS},
        },
    }


def stream_chunks(file: Any, size: int = 64 * 1024) -> Iterator[bytes]:
    try:
        while data := file.read(size):
            yield data
    finally:
        file.close()
