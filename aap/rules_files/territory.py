"""The territory file: a contrat de ville, its communes, QPV, orientation tree, priorities, financers.

A new territory is a new file, never new code. See ``docs/territory-files.md``.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field

from aap.rules_files.validation import (
    CODE_SNAKE,
    CODE_UPPER,
    INSEE,
    ORIENTATION_CODE,
    QPV_CODE,
    SIRET,
    SLUG,
    RulesModel,
    duplicate_error,
    get_list,
    items_with,
    unique_codes,
    validate,
)
from aap.rules_files.yaml_locations import Loc, LocatedDocument, LocatedError, from_data, read_document
from forms.siret import siret_valid
from workflows.cofinancement import CONVENTION_THRESHOLD

FinanceurKind = Literal["etat", "epci", "commune", "departement", "region", "caf", "bailleur", "autre"]
FINANCEUR_KINDS: tuple[str, ...] = FinanceurKind.__args__  # type: ignore[attr-defined]


class Periode(RulesModel):
    debut: int = Field(ge=2000, le=2100)
    fin: int = Field(ge=2000, le=2100)


class CommuneSpec(RulesModel):
    insee: str = Field(pattern=INSEE)
    name: str = Field(min_length=1, max_length=200)


class QpvSpec(RulesModel):
    code: str = Field(pattern=QPV_CODE, max_length=32)
    name: str = Field(min_length=1, max_length=200)
    commune: str = Field(pattern=INSEE, description="code INSEE d'une commune du fichier")
    population: int = Field(gt=0)


class OrientationSpec(RulesModel):
    code: str = Field(pattern=ORIENTATION_CODE, max_length=32)
    label: str = Field(min_length=1)
    children: list[OrientationSpec] = Field(default_factory=list)


class PrioriteSpec(RulesModel):
    code: str = Field(pattern=CODE_SNAKE, max_length=64)
    label: str = Field(min_length=1, max_length=300)


class OpendataSpec(RulesModel):
    """What a financer publishes of its grants (décret 2017-779): from `seuil` a year per
    organisation, and below it too when `publier_sous_seuil`."""

    seuil: Decimal = Field(default=CONVENTION_THRESHOLD, ge=0, decimal_places=2, max_digits=14)
    publier_sous_seuil: bool = False


class SignataireSpec(RulesModel):
    """Who signs the financer's conventions and letters, and in which capacity."""

    nom: str = Field(min_length=1, max_length=200)
    qualite: str = Field(min_length=1, max_length=300)


class FinanceurSpec(RulesModel):
    code: str = Field(pattern=CODE_UPPER, max_length=32)
    name: str = Field(min_length=1, max_length=300)
    kind: FinanceurKind
    siret: str | None = Field(
        default=None, pattern=SIRET, description="SIRET de l'attribuant (données ouvertes)"
    )
    opendata: OpendataSpec = Field(default_factory=OpendataSpec)
    signataire: SignataireSpec | None = None


class FlatOrientation(NamedTuple):
    code: str
    label: str
    parent_code: str | None
    depth: int
    """0 for an orientation, 1 for its objectives, …"""
    position: int
    """Rank in a depth-first reading of the whole tree (0, 1, 2…): sorting by it gives the file order."""


class TerritoryFile(RulesModel):
    code: str = Field(pattern=SLUG, max_length=64)
    name: str = Field(min_length=1, max_length=300)
    epci: str | None = Field(default=None, max_length=300)
    periode: Periode | None = None
    fuseau: str = Field(default="Europe/Paris", description="fuseau horaire IANA des documents")
    communes: list[CommuneSpec] = Field(min_length=1)
    qpv: list[QpvSpec] = Field(min_length=1)
    orientations: list[OrientationSpec] = Field(min_length=1)
    priorites: list[PrioriteSpec] = Field(default_factory=list)
    financeurs: list[FinanceurSpec] = Field(min_length=1)

    def flat_orientations(self) -> list[FlatOrientation]:
        """The tree, parents before children, in file order."""
        out: list[FlatOrientation] = []

        def visit(nodes: list[OrientationSpec], parent: str | None, depth: int) -> None:
            for node in nodes:
                out.append(FlatOrientation(node.code, node.label, parent, depth, len(out)))
                visit(node.children, node.code, depth + 1)

        visit(self.orientations, None, 0)
        return out

    def financeur(self, code: str) -> FinanceurSpec | None:
        return next((f for f in self.financeurs if f.code == code), None)


# --- cross checks ----------------------------------------------------------------------------------


def _orientation_checks(doc: LocatedDocument) -> list[LocatedError]:
    errors: list[LocatedError] = []
    seen: dict[Any, Loc] = {}

    def visit(nodes: list[Any], loc: Loc, parent: str | None) -> None:
        for index, node, code in items_with(nodes, "code"):
            here: Loc = (*loc, index)
            if code in seen:
                errors.append(duplicate_error(doc, (*here, "code"), seen[code], "code d'orientation", code))
            else:
                seen[code] = (*here, "code")
            if parent is not None and isinstance(code, str) and not code.startswith(parent + "."):
                errors.append(
                    doc.error(
                        (*here, "code"),
                        f"le code « {code} » doit commencer par celui de son parent suivi d'un point "
                        f"(« {parent}. … », ex. « {parent}.{index + 1} »)",
                        "orientation_code_prefix",
                    )
                )
            children = node.get("children")
            if isinstance(children, list):
                visit(children, (*here, "children"), code if isinstance(code, str) else None)

    visit(get_list(doc.value, "orientations"), ("orientations",), None)
    return errors


def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _cross_checks(doc: LocatedDocument) -> list[LocatedError]:
    data = doc.value
    errors = [
        *unique_codes(doc, "communes", "insee", "code INSEE"),
        *unique_codes(doc, "qpv", "code", "code QPV"),
        *unique_codes(doc, "priorites", "code", "code de priorité"),
        *unique_codes(doc, "financeurs", "code", "code de financeur"),
        *_orientation_checks(doc),
    ]
    for index, _item, siret in items_with(get_list(data, "financeurs"), "siret"):
        if isinstance(siret, str) and len(siret) == 14 and siret.isdigit() and not siret_valid(siret):
            errors.append(
                doc.error(
                    ("financeurs", index, "siret"),
                    f"SIRET « {siret} » invalide : la clé de contrôle ne correspond pas (chiffre mal recopié ?)",
                    "siret_invalide",
                )
            )
    communes = list(dict.fromkeys(v for _i, _item, v in items_with(get_list(data, "communes"), "insee")))
    for index, _item, insee in items_with(get_list(data, "qpv"), "commune"):
        if insee not in communes:
            known = ", ".join(str(c) for c in communes) or "aucune"
            errors.append(
                doc.error(
                    ("qpv", index, "commune"),
                    f"commune « {insee} » absente de la liste « communes » (codes INSEE déclarés : {known})",
                    "unknown_commune",
                )
            )
    fuseau = data.get("fuseau")
    if isinstance(fuseau, str) and not _known_zone(fuseau):
        errors.append(
            doc.error(
                ("fuseau",),
                f"fuseau horaire « {fuseau} » inconnu (nom IANA attendu, ex. « Europe/Paris », « America/Cayenne »)",
                "fuseau_inconnu",
            )
        )
    periode = data.get("periode")
    if isinstance(periode, dict):
        debut, fin = periode.get("debut"), periode.get("fin")
        if isinstance(debut, int) and isinstance(fin, int) and fin < debut:
            errors.append(
                doc.error(("periode", "fin"), f"la fin ({fin}) précède le début ({debut})", "periode_order")
            )
    return errors


# --- public API ------------------------------------------------------------------------------------


def parse_territory_file(path: str | Path) -> TerritoryFile:
    """Read and validate a territory file; raise RulesFileError with every error and its line."""
    return validate(TerritoryFile, read_document(path), _cross_checks)


def parse_territory(data: dict[str, Any], source: str = "<données>") -> TerritoryFile:
    """Validate already-parsed territory data (errors carry ``source`` and no line)."""
    return validate(TerritoryFile, from_data(data, source), _cross_checks)
