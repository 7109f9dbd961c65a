"""The programme by commune: the `Commune` column, `?commune=INSEE`, and a subtotal row per commune
(summed as the rows the caller may see are read). A dossier belongs to every commune one of its
QPV (or places) lies in: the subtotals of an action across two communes overlap, the grand total
counts it once."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from aap.communes.service import dossier_communes
from aap.errors import Invalid
from aap.models import Commune, Dossier, Qpv

if TYPE_CHECKING:
    from aap.financing.programmation import Table

ZERO = Decimal("0.00")
KINDS = ("demande", "propose", "accorde")


@dataclass(frozen=True)
class CommuneNames:
    qpv_commune: dict[str, str]  # QPV (or place) code -> INSEE
    names: dict[str, str]  # INSEE -> name, in the territory's order

    def of(self, qpvs: list[str]) -> list[str]:
        """The communes of these QPV, once each, in the order of the QPV."""
        return list(dict.fromkeys(self.qpv_commune[q] for q in qpvs if q in self.qpv_commune))


def commune_names(session: Session, territory_id: int, commune: str | None = None) -> CommuneNames:
    names = dict(
        session.execute(
            select(Commune.insee, Commune.name)
            .where(Commune.territory_id == territory_id)
            .order_by(Commune.id)
        ).all()
    )
    if commune is not None and commune not in names:
        raise Invalid(
            f"Commune « {commune} » inconnue dans ce contrat de ville.",
            code="commune_inconnue",
            errors=[
                {
                    "path": "commune",
                    "code": "commune_inconnue",
                    "message": "codes INSEE possibles : " + ", ".join(names),
                }
            ],
        )
    places = dict(
        session.execute(select(Qpv.code, Qpv.commune_insee).where(Qpv.territory_id == territory_id)).all()
    )
    return CommuneNames(places, names)


def in_commune(territory_id: int, insee: str) -> ColumnElement[bool]:
    """The dossiers with a QPV (or place) in this commune."""
    where = dossier_communes(territory_id).subquery()
    return Dossier.id.in_(select(where.c.dossier_id).where(where.c.commune_insee == insee))


@dataclass
class CommuneSums:
    insee: str
    name: str
    dossiers: int = 0
    financements: dict[str, dict[str, Decimal]] = field(default_factory=dict)

    def total(self, kind: str) -> Decimal:
        return sum((values[kind] for values in self.financements.values()), ZERO)


def subtotals(table: Table) -> list[CommuneSums]:
    """Per commune of the territory with rows: dossiers, and per financer what is requested, proposed,
    accorded, as counted while the rows were read (`Table.amounts`): call once every row is read."""
    out = []
    for insee, name in table.communes.names.items():
        sums = table.by_commune.get(insee)
        if sums is None:
            continue
        financements = {
            code: {k: Decimal(sums[1 + 3 * i + j]).scaleb(-2) for j, k in enumerate(KINDS)}
            for i, (code, _) in enumerate(table.financeurs)
        }
        out.append(CommuneSums(insee, name, sums[0], financements))
    return out


def commune_subtotals(table: Table) -> list[tuple[list[Any], list[Decimal | None]]]:
    """The subtotal rows of the CSV and XLSX, in the columns of `programmation.headers`."""
    out: list[tuple[list[Any], list[Decimal | None]]] = []
    for sums in subtotals(table):
        text = [f"Sous-total {sums.name} ({sums.dossiers} dossiers)", "", "", "", sums.name, "", "", "", ""]
        per = [sums.financements[code][k] for code, _ in table.financeurs for k in KINDS]
        out.append((text, [*per, *(sums.total(k) for k in KINDS)]))
    return out


def commune_subtotals_json(table: Table) -> list[dict[str, Any]]:
    return [
        {
            "commune": sums.insee,
            "name": sums.name,
            "dossiers": sums.dossiers,
            "financements": {
                code: {k: f"{v:.2f}" for k, v in values.items()} for code, values in sums.financements.items()
            },
            **{k: f"{sums.total(k):.2f}" for k in KINDS},
        }
        for sums in subtotals(table)
    ]
