"""The territory file: a contrat de ville, its communes, QPV, orientation tree, priorities, financers.

A new territory is a new file, never new code. See ``docs/territory-files.md``.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, model_validator

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


PlaceKind = Literal["quartier_veille", "territoire_enjeux"]


class HorsQpvSpec(RulesModel):
    """A place that is not a QPV but that actions may target (its money is counted apart)."""

    code: str = Field(pattern=QPV_CODE, max_length=32)
    name: str = Field(min_length=1, max_length=200)
    commune: str = Field(pattern=INSEE, description="code INSEE d'une commune du fichier")
    kind: PlaceKind
    population: int | None = Field(default=None, gt=0)


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
    """A financer of the territory: named here, or a `partenaire` declared once for several
    territories (`aap partenaire load`), whose name and kind it takes."""

    code: str = Field(pattern=CODE_UPPER, max_length=32)
    name: str | None = Field(default=None, min_length=1, max_length=300)
    kind: FinanceurKind | None = None
    commune: str | None = Field(
        default=None, pattern=INSEE, description="pour une commune : son code INSEE dans le fichier"
    )
    partenaire: str | None = Field(default=None, pattern=CODE_UPPER, max_length=32)
    siret: str | None = Field(
        default=None, pattern=SIRET, description="SIRET de l'attribuant (données ouvertes)"
    )
    opendata: OpendataSpec = Field(default_factory=OpendataSpec)
    signataire: SignataireSpec | None = None

    @model_validator(mode="after")
    def _named_once(self) -> FinanceurSpec:
        if self.partenaire is None and (self.name is None or self.kind is None):
            raise ValueError("indiquez « name » et « kind », ou le « partenaire » déclaré une fois pour tous")
        if self.partenaire is not None and (self.name is not None or self.kind is not None):
            raise ValueError(
                f"le partenaire « {self.partenaire} » a déjà son nom et sa nature : retirez « name » et « kind »"
            )
        return self


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
    fuseau: str = Field(
        default="Europe/Paris",
        description="fuseau horaire IANA du contrat : ses échéances à minuit, ses documents datés",
    )
    communes: list[CommuneSpec] = Field(min_length=1)
    qpv: list[QpvSpec] = Field(min_length=1)
    hors_qpv: list[HorsQpvSpec] = Field(default_factory=list)
    orientations: list[OrientationSpec] = Field(min_length=1)
    priorites: list[PrioriteSpec] = Field(default_factory=list)
    financeurs: list[FinanceurSpec] = Field(min_length=1)
    renames: dict[str, str] = Field(default_factory=dict)
    """Codes (QPV, place, orientation, commune) renamed since the last load: `{ANCIEN: NOUVEAU}`."""

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
    """Unique codes, children extending their parent's code: one error per root cause, not per line.

    Below a duplicated node its children's codes are duplicates too: only the node is reported. When
    every child of a node (two or more) starts with the same other prefix, the parent's code or the
    children's numbering is wrong once: one error on the parent, naming the children."""
    errors: list[LocatedError] = []
    seen: dict[Any, Loc] = {}

    def visit(nodes: list[Any], loc: Loc, parent: str | None, parent_loc: Loc | None, quiet: bool) -> None:
        wrong: list[tuple[Loc, str]] = []
        for index, node, code in items_with(nodes, "code"):
            here: Loc = (*loc, index)
            duplicate = code in seen
            if duplicate and not quiet:
                errors.append(duplicate_error(doc, (*here, "code"), seen[code], "code d'orientation", code))
            elif not duplicate:
                seen[code] = (*here, "code")
            if parent is not None and isinstance(code, str) and not code.startswith(parent + "."):
                wrong.append((here, code))
            children = node.get("children")
            if isinstance(children, list):
                visit(
                    children,
                    (*here, "children"),
                    code if isinstance(code, str) else None,
                    here,
                    quiet or duplicate,
                )
        if quiet or not wrong or parent is None:
            return
        prefixes = {code.rsplit(".", 1)[0] if "." in code else "" for _loc, code in wrong}
        if len(wrong) >= 2 and len(wrong) == len(nodes) and len(prefixes) == 1 and parent_loc is not None:
            (prefix,) = prefixes
            codes = ", ".join(code for _loc, code in wrong)
            start = f"« {prefix}. »" if prefix else "un autre préfixe"
            errors.append(
                doc.error(
                    (*parent_loc, "code"),
                    f"les {len(wrong)} enfants de « {parent} » ({codes}) commencent tous par {start} : "
                    f"corrigez le code du parent ou leur numérotation (« {parent}.1 », « {parent}.2 »…)",
                    "orientation_code_prefix",
                )
            )
            return
        for here, code in wrong:
            rank = here[-1]
            errors.append(
                doc.error(
                    (*here, "code"),
                    f"le code « {code} » doit commencer par celui de son parent suivi d'un point "
                    f"(« {parent}. … », ex. « {parent}.{rank + 1 if isinstance(rank, int) else 1} »)",
                    "orientation_code_prefix",
                )
            )

    visit(get_list(doc.value, "orientations"), ("orientations",), None, None, False)
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
    for key in ("qpv", "hors_qpv", "financeurs"):
        for index, _item, insee in items_with(get_list(data, key), "commune"):
            if insee not in communes:
                known = ", ".join(str(c) for c in communes) or "aucune"
                errors.append(
                    doc.error(
                        (key, index, "commune"),
                        f"commune « {insee} » absente de la liste « communes » (codes INSEE déclarés : {known})",
                        "unknown_commune",
                    )
                )
    errors += _place_checks(doc, communes)
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


def _place_checks(doc: LocatedDocument, communes: list[Any]) -> list[LocatedError]:
    """Places hors QPV have codes of their own, distinct from the QPV's; renames point at declared codes."""
    data = doc.value
    errors = unique_codes(doc, "hors_qpv", "code", "code de lieu hors QPV")
    qpv_codes = {v: (i, "code") for i, _item, v in items_with(get_list(data, "qpv"), "code")}
    for index, _item, code in items_with(get_list(data, "hors_qpv"), "code"):
        if code in qpv_codes:
            first: Loc = ("qpv", *qpv_codes[code])
            errors.append(duplicate_error(doc, ("hors_qpv", index, "code"), first, "code", code))
    renames = data.get("renames")
    if not isinstance(renames, dict):
        return errors
    declared = {
        *qpv_codes,
        *(v for _i, _item, v in items_with(get_list(data, "hors_qpv"), "code")),
        *communes,
        *_all_orientation_codes(get_list(data, "orientations")),
    }
    for old, new in renames.items():
        if old in declared:
            errors.append(
                doc.error(
                    ("renames", old),
                    f"« {old} » est encore déclaré dans le fichier : un code renommé disparaît "
                    "(retirez-le du fichier ou de « renames »)",
                    "rename_old_declared",
                )
            )
        if isinstance(new, str) and new not in declared:
            errors.append(
                doc.error(
                    ("renames", old),
                    f"le nouveau code « {new} » n'est déclaré nulle part dans le fichier "
                    "(qpv, hors_qpv, orientations ou communes)",
                    "rename_unknown_target",
                )
            )
    return errors


def _all_orientation_codes(nodes: list[Any]) -> list[Any]:
    out: list[Any] = []
    for _index, node, code in items_with(nodes, "code"):
        out.append(code)
        children = node.get("children")
        if isinstance(children, list):
            out += _all_orientation_codes(children)
    return out


# --- public API ------------------------------------------------------------------------------------


def parse_territory_file(path: str | Path) -> TerritoryFile:
    """Read and validate a territory file; raise RulesFileError with every error and its line."""
    return validate(TerritoryFile, read_document(path), _cross_checks)


def parse_territory(data: dict[str, Any], source: str = "<données>") -> TerritoryFile:
    """Validate already-parsed territory data (errors carry ``source`` and no line)."""
    return validate(TerritoryFile, from_data(data, source), _cross_checks)
