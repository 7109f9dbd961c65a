"""A territory reload never leaves a dossier pointing at a code that no longer exists.

A QPV (or place hors QPV), orientation or commune code dropped by the new file while dossiers (or a
commune's validation) still use it refuses the whole file, one error per dropped code with the
dossiers concerned; unless the file says `renames: {ANCIEN: NOUVEAU}`, which moves every reference
(the answers, the codes kept beside them, the communes' validations) in the same transaction."""

from collections import defaultdict
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from aap.dossiers import search_columns  # noqa: F401 (the events that move the kept codes)
from aap.dossiers.targets import replace_codes
from aap.models import Campaign, CampaignCommune, Commune, Dossier, DossierTarget, Orientation, Qpv
from aap.rules_files import LocatedError, RulesFileError, TerritoryFile

SHOWN = 20
# kind of code -> (where the file declares it, what people call it)
WHERE = {
    "qpv": ("qpv", "QPV"),
    "place": ("hors_qpv", "lieu hors QPV"),
    "orientation": ("orientations", "orientation"),
    "commune": ("communes", "commune"),
}


def _old_codes(session: Session, territory_id: int) -> dict[str, set[str]]:
    places = session.execute(select(Qpv.code, Qpv.kind).where(Qpv.territory_id == territory_id)).all()
    return {
        "qpv": {c for c, k in places if k == "qpv"},
        "place": {c for c, k in places if k != "qpv"},
        "orientation": set(
            session.scalars(select(Orientation.code).where(Orientation.territory_id == territory_id))
        ),
        "commune": set(session.scalars(select(Commune.insee).where(Commune.territory_id == territory_id))),
    }


def _new_codes(data: TerritoryFile) -> dict[str, set[str]]:
    return {
        "qpv": {q.code for q in data.qpv},
        "place": {p.code for p in data.hors_qpv},
        "orientation": {o.code for o in data.flat_orientations()},
        "commune": {c.insee for c in data.communes},
    }


def _dossiers_using(session: Session, territory_id: int, kind: str, codes: set[str]) -> dict[str, list[str]]:
    """{code: [dossier numbers]} of the territory's dossiers that refer to these codes."""
    target_kind = "orientation" if kind == "orientation" else "qpv"
    rows = session.execute(
        select(DossierTarget.code, Dossier.number)
        .join(Dossier, Dossier.id == DossierTarget.dossier_id)
        .join(Campaign, Campaign.id == Dossier.campaign_id)
        .where(
            Campaign.territory_id == territory_id,
            DossierTarget.kind == target_kind,
            DossierTarget.code.in_(codes),
        )
        .order_by(Dossier.number)
    ).all()
    out: dict[str, list[str]] = defaultdict(list)
    for code, number in rows:
        out[code].append(number)
    return out


def _communes_used(session: Session, territory_id: int, codes: set[str]) -> dict[str, list[str]]:
    rows = session.execute(
        select(CampaignCommune.commune_insee, Campaign.code)
        .join(Campaign, Campaign.id == CampaignCommune.campaign_id)
        .where(Campaign.territory_id == territory_id, CampaignCommune.commune_insee.in_(codes))
        .order_by(Campaign.code)
    ).all()
    out: dict[str, list[str]] = defaultdict(list)
    for insee, campaign in rows:
        out[insee].append(campaign)
    return out


def _listing(items: list[str]) -> str:
    shown = ", ".join(items[:SHOWN])
    return shown + (f" et {len(items) - SHOWN} autre(s)" if len(items) > SHOWN else "")


def check_and_move(session: Session, territory_id: int, data: TerritoryFile) -> None:
    """Refuses (RulesFileError, every error located) or moves the renamed references; no commit."""
    old, new = _old_codes(session, territory_id), _new_codes(data)
    errors: list[LocatedError] = []

    def err(path: str, code: str, message: str) -> None:
        errors.append(
            LocatedError(file=data.source, line=data.line_of(path), path=path, message=message, code=code)
        )

    moves: dict[str, dict[str, str]] = defaultdict(dict)
    for old_code, new_code in data.renames.items():
        kind = next((k for k, codes in old.items() if old_code in codes), None)
        if kind is None:
            err(
                f"renames.{old_code}",
                "rename_unknown_code",
                f"« {old_code} » n'est pas un code du territoire tel qu'il est chargé : rien à renommer",
            )
        elif new_code not in new[kind] and not (
            kind in ("qpv", "place") and new_code in new["qpv"] | new["place"]
        ):
            err(
                f"renames.{old_code}",
                "rename_kind_mismatch",
                f"« {old_code} » est un code de {WHERE[kind][1]} : « {new_code} » doit être déclaré "
                f"dans « {WHERE[kind][0]} »",
            )
        else:
            moves[kind][old_code] = new_code
    for kind in ("qpv", "place", "orientation", "commune"):
        dropped = old[kind] - new[kind] - set(moves[kind])
        if not dropped:
            continue
        key, what = WHERE[kind]
        if kind == "commune":
            used = _communes_used(session, territory_id, dropped)
            for insee in sorted(used):
                err(
                    key,
                    "code_retire_utilise",
                    f"la commune « {insee} » disparaît du fichier mais a sa validation dans les appels à "
                    f"projets {_listing(used[insee])} : gardez-la ou déclarez « renames: {{{insee}: NOUVEAU}} »",
                )
            continue
        used = _dossiers_using(session, territory_id, kind, dropped)
        for code in sorted(used):
            err(
                key,
                "code_retire_utilise",
                f"{what} « {code} » disparaît du fichier mais {len(used[code])} dossier(s) l'utilisent "
                f"({_listing(used[code])}) : gardez-le ou déclarez « renames: {{{code}: NOUVEAU}} »",
            )
    if errors:
        raise RulesFileError(errors)
    _move(session, territory_id, moves)


def _move(session: Session, territory_id: int, moves: dict[str, dict[str, str]]) -> None:
    by_target = {
        "qpv": {**moves["qpv"], **moves["place"]},
        "orientation": dict(moves["orientation"]),
    }
    if any(by_target.values()):
        _move_dossiers(session, territory_id, by_target)
    for old_insee, new_insee in moves["commune"].items():
        session.execute(
            update(CampaignCommune)
            .where(
                CampaignCommune.commune_insee == old_insee,
                CampaignCommune.campaign_id.in_(
                    select(Campaign.id).where(Campaign.territory_id == territory_id)
                ),
            )
            .values(commune_insee=new_insee)
        )
    session.flush()


def _move_dossiers(session: Session, territory_id: int, moves: dict[str, dict[str, str]]) -> None:
    """The answers of each dossier concerned (one new version: an open form sees it changed); the codes
    kept beside them (`dossier_targets`, `orientation_code`) follow at the flush, by the
    mapper events of `aap.dossiers.search_columns`."""
    concerned = or_(
        *(
            and_(DossierTarget.kind == kind, DossierTarget.code.in_(set(codes)))
            for kind, codes in moves.items()
            if codes
        )
    )
    dossiers = session.scalars(
        select(Dossier)
        .join(Campaign, Campaign.id == Dossier.campaign_id)
        .where(
            Campaign.territory_id == territory_id,
            Dossier.id.in_(select(DossierTarget.dossier_id).where(concerned)),
        )
        .order_by(Dossier.id)
        .with_for_update(of=Dossier)
    ).all()
    for dossier in dossiers:
        answers: dict[str, Any] = dossier.answers or {}
        for kind, codes in moves.items():
            if codes:
                answers = replace_codes(dossier.form_code, dossier.form_version, answers, kind, codes)
        dossier.answers = answers
        dossier.version += 1
    session.flush()
