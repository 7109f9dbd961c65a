"""Writes a validated territory file: all of it in one transaction, or nothing."""

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from aap.models import Commune, Financeur, Orientation, Priority, Qpv, Territory
from aap.rules_files import TerritoryFile
from aap.territories.partenaires import resolve_partenaires
from aap.territories.references import check_and_move


def get_by_code(session: Session, code: str) -> Territory | None:
    return session.scalar(select(Territory).where(Territory.code == code))


def save_territory(session: Session, data: TerritoryFile) -> Territory:
    """Create or update the territory named by `data.code`; the caller commits.

    Communes, QPV (and places hors QPV), orientations and priorities are replaced; a code still used
    by dossiers may only go through `renames` (`aap.territories.references`); financers are matched by
    code and updated, never deleted (decisions and accounts point at them).
    """
    partenaires = resolve_partenaires(session, data)
    territory = get_by_code(session, data.code)
    if territory is None:
        territory = Territory(code=data.code, name=data.name)
        session.add(territory)
    else:
        check_and_move(session, territory.id, data)
    territory.name = data.name
    territory.epci = data.epci
    territory.fuseau = data.fuseau
    territory.periode_debut = data.periode.debut if data.periode else None
    territory.periode_fin = data.periode.fin if data.periode else None
    session.flush()
    tid = territory.id
    for model in (Commune, Qpv, Orientation, Priority):
        session.execute(delete(model).where(model.territory_id == tid))
    session.add_all(Commune(territory_id=tid, insee=c.insee, name=c.name) for c in data.communes)
    session.add_all(
        Qpv(territory_id=tid, code=q.code, name=q.name, commune_insee=q.commune, population=q.population)
        for q in data.qpv
    )
    session.add_all(
        Qpv(
            territory_id=tid,
            code=p.code,
            name=p.name,
            commune_insee=p.commune,
            population=p.population,
            kind=p.kind,
        )
        for p in data.hors_qpv
    )
    session.add_all(
        Orientation(territory_id=tid, code=code, label=label, parent_code=parent, depth=depth, position=pos)
        for code, label, parent, depth, pos in data.flat_orientations()
    )
    session.add_all(
        Priority(territory_id=tid, code=p.code, label=p.label, position=i)
        for i, p in enumerate(data.priorites)
    )
    existing = {f.code: f for f in session.scalars(select(Financeur).where(Financeur.territory_id == tid))}
    for f in data.financeurs:
        row = existing.get(f.code) or Financeur(territory_id=tid, code=f.code)
        partenaire = partenaires.get(f.partenaire) if f.partenaire else None
        row.partenaire_id = partenaire.id if partenaire else None
        row.name = partenaire.name if partenaire else (f.name or "")
        row.kind = partenaire.kind if partenaire else (f.kind or "autre")
        row.commune_insee = f.commune
        row.siret = f.siret
        row.opendata_seuil, row.opendata_sous_seuil = f.opendata.seuil, f.opendata.publier_sous_seuil
        row.signataire_nom = f.signataire.nom if f.signataire else None
        row.signataire_qualite = f.signataire.qualite if f.signataire else None
        session.add(row)
    session.flush()
    session.expire(territory)
    return territory
