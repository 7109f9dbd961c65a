"""Partners declared once and referenced by several territories: their name and kind in one place."""

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from aap.models import Financeur, Partenaire
from aap.rules_files import LocatedError, RulesFileError, TerritoryFile
from aap.rules_files.partenaires import PartenairesFile


def save_partenaires(session: Session, data: PartenairesFile) -> list[Partenaire]:
    """Create or update each partner by code; every territory's financer that references it follows."""
    existing = {p.code: p for p in session.scalars(select(Partenaire))}
    saved = []
    for spec in data.partenaires:
        row = existing.get(spec.code) or Partenaire(code=spec.code)
        row.name, row.kind = spec.name, spec.kind
        session.add(row)
        session.flush()
        session.execute(
            update(Financeur).where(Financeur.partenaire_id == row.id).values(name=spec.name, kind=spec.kind)
        )
        saved.append(row)
    session.flush()
    return saved


def resolve_partenaires(session: Session, data: TerritoryFile) -> dict[str, Partenaire]:
    """{partner code: partner} of the territory file's references; refuses unknown ones, located."""
    wanted = {f.partenaire for f in data.financeurs if f.partenaire}
    found = {p.code: p for p in session.scalars(select(Partenaire).where(Partenaire.code.in_(wanted)))}
    errors = []
    for i, f in enumerate(data.financeurs):
        if f.partenaire and f.partenaire not in found:
            path = f"financeurs[{i}].partenaire"
            errors.append(
                LocatedError(
                    data.source,
                    data.line_of(path),
                    path,
                    f"partenaire « {f.partenaire} » inconnu : déclarez-le d'abord (aap partenaire load)",
                    "partenaire_inconnu",
                )
            )
    if errors:
        raise RulesFileError(errors)
    return found
