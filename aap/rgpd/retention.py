"""The retention pass (`aap retention run`): what the retention file says to let go, counted per rule
(`--dry-run` stops there), then deleted in batches, one transaction each, so a pass killed half-way
leaves whole batches and the next pass goes on; run twice, the second finds nothing. Stored files are
removed after the commit that deleted their last row (never before: a rolled back batch keeps them).

- `brouillons_abandonnes`: dossiers never deposited (`deposited_at` empty) in one of the listed states,
  untouched for N months, that no later dossier or CPO names as its origin; with them, their own files.
- `versions_de_pieces`: porteurs' files replaced N months ago that no dossier relies on (`DossierPiece`);
  the financers' letters are records of decisions and stay.
- `donnees_beneficiaires`: bilans validated N years ago keep only their total of beneficiaries (the
  breakdown by sex, age, quartier leaves the answers and the figures); the focus participations of
  sessions held N years ago are deleted.
- `journal_acces`: log rows older than N months.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Select, delete, exists, func, select
from sqlalchemy.orm import Session, sessionmaker

from aap.attachments.files import stored_path
from aap.models import (
    AccessLog,
    Attachment,
    Bilan,
    BilanFigure,
    Cpo,
    Dossier,
    DossierPiece,
    FocusParticipation,
    FocusSession,
)
from aap.rules_files.retention import RetentionFile

BENEFICIARY_DIMENSIONS = ("sexe", "age", "qpv")


def months_before(moment: datetime, months: int) -> datetime:
    """`moment` N calendar months earlier (the 31st becomes the month's last day)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    next_first = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=moment.tzinfo)
    last_day = (next_first - datetime(year, month, 1, tzinfo=moment.tzinfo)).days
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


def _cutoffs(rules: RetentionFile, now: datetime) -> dict[str, datetime]:
    return {
        "brouillons_abandonnes": months_before(now, rules.brouillons_abandonnes.mois),
        "versions_de_pieces": months_before(now, rules.versions_de_pieces.mois),
        "donnees_beneficiaires": months_before(now, rules.donnees_beneficiaires.ans * 12),
        "journal_acces": months_before(now, rules.journal_acces.mois),
    }


# --- what each rule selects (ids, in SQL) ---------------------------------------------------------------


def _drafts(rules: RetentionFile, cutoff: datetime) -> Select[int]:
    origin = Dossier.__table__.alias("later")
    return select(Dossier.id).where(
        Dossier.state.in_(rules.brouillons_abandonnes.etats),
        Dossier.deposited_at.is_(None),
        Dossier.updated_at < cutoff,
        ~exists().where(origin.c.reconducted_from_id == Dossier.id),
        ~exists().where(Cpo.dossier_origine_id == Dossier.id),
    )


def _old_versions(cutoff: datetime) -> Select[int]:
    return select(Attachment.id).where(
        Attachment.replaced_at.is_not(None),
        Attachment.replaced_at < cutoff,
        Attachment.financeur_id.is_(None),
        ~exists().where(DossierPiece.attachment_id == Attachment.id),
    )


def _bilans(cutoff: datetime) -> Select[int]:
    return select(Bilan.id).where(
        Bilan.validated_at.is_not(None), Bilan.validated_at < cutoff, Bilan.beneficiaires_purged_at.is_(None)
    )


def _participations(cutoff: datetime) -> Select[int]:
    held = select(FocusSession.id).where(FocusSession.date < cutoff.date())
    return select(FocusParticipation.id).where(FocusParticipation.focus_id.in_(held))


def _log_rows(cutoff: datetime) -> Select[int]:
    return select(AccessLog.id).where(AccessLog.at < cutoff)


def _count(session: Session, query: Select[int]) -> int:
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


# --- deleting, batch by batch ---------------------------------------------------------------------------


def _delete_drafts(session: Session, ids: list[int]) -> set[str]:
    files = set(session.scalars(select(Attachment.sha256).where(Attachment.dossier_id.in_(ids))))
    session.execute(delete(Dossier).where(Dossier.id.in_(ids)))  # the database cascades to their rows
    return files


def _delete_versions(session: Session, ids: list[int]) -> set[str]:
    files = set(session.scalars(select(Attachment.sha256).where(Attachment.id.in_(ids))))
    session.execute(delete(Attachment).where(Attachment.id.in_(ids)))
    return files


def _purge_bilans(session: Session, ids: list[int], now: datetime) -> set[str]:
    for bilan in session.scalars(select(Bilan).where(Bilan.id.in_(ids))):
        answers = dict(bilan.answers or {})
        beneficiaires = answers.get("beneficiaires")
        if isinstance(beneficiaires, dict):
            answers["beneficiaires"] = {k: v for k, v in beneficiaires.items() if k == "total"}
            bilan.answers = answers
        bilan.beneficiaires_purged_at = now
    session.execute(
        delete(BilanFigure).where(
            BilanFigure.bilan_id.in_(ids), BilanFigure.dimension.in_(BENEFICIARY_DIMENSIONS)
        )
    )
    return set()


def _delete_participations(session: Session, ids: list[int]) -> set[str]:
    session.execute(delete(FocusParticipation).where(FocusParticipation.id.in_(ids)))
    return set()


def _delete_log_rows(session: Session, ids: list[int]) -> set[str]:
    session.execute(delete(AccessLog).where(AccessLog.id.in_(ids)))
    return set()


def _remove_unused_files(session: Session, data_dir: Path, candidates: set[str]) -> int:
    """After the commit: the files no row names any more."""
    if not candidates:
        return 0
    still = set(session.scalars(select(Attachment.sha256).where(Attachment.sha256.in_(candidates))))
    session.rollback()
    removed = 0
    for sha in candidates - still:
        path = stored_path(data_dir, sha)
        if path.exists():
            path.unlink()
            removed += 1
    return removed


def run(
    factory: sessionmaker[Session],
    rules: RetentionFile,
    *,
    now: datetime,
    data_dir: Path,
    dry_run: bool,
) -> dict[str, Any]:
    """Counts (and unless `dry_run`, deletes) per rule; answers the report printed by the command."""
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    cutoffs = _cutoffs(rules, now)
    steps: list[tuple[str, str, Select[int], Callable[[Session, list[int]], set[str]]]] = [
        (
            "brouillons_abandonnes",
            "dossiers",
            _drafts(rules, cutoffs["brouillons_abandonnes"]),
            _delete_drafts,
        ),
        ("versions_de_pieces", "pieces", _old_versions(cutoffs["versions_de_pieces"]), _delete_versions),
        (
            "donnees_beneficiaires",
            "bilans",
            _bilans(cutoffs["donnees_beneficiaires"]),
            lambda s, ids: _purge_bilans(s, ids, now),
        ),
        (
            "donnees_beneficiaires",
            "participations_focus",
            _participations(cutoffs["donnees_beneficiaires"]),
            _delete_participations,
        ),
        ("journal_acces", "lignes", _log_rows(cutoffs["journal_acces"]), _delete_log_rows),
    ]
    report: dict[str, Any] = {
        "dry_run": dry_run,
        "now": now.isoformat(),
        "rules": {
            name: {"cutoff": cutoff.isoformat(), "count": 0, "details": {}}
            for name, cutoff in cutoffs.items()
        },
        "files_removed": 0,
    }
    with factory() as session:
        for rule, what, query, act in steps:
            entry = report["rules"][rule]
            if dry_run:
                n = _count(session, query)
            else:
                n = 0
                while True:
                    ids = list(session.scalars(query.order_by(query.selected_columns[0]).limit(rules.lot)))
                    if not ids:
                        break
                    files = act(session, ids)
                    session.commit()
                    n += len(ids)
                    report["files_removed"] += _remove_unused_files(session, data_dir, files)
            entry["details"][what] = n
            entry["count"] += n
        session.rollback()
    return report


def summary(report: dict[str, Any]) -> str:
    """The report in French, one line per rule."""
    verb = "à effacer" if report["dry_run"] else "effacé(s)"
    lines = [("Simulation (rien n'est effacé)" if report["dry_run"] else "Passe de conservation") + " :"]
    for name, entry in report["rules"].items():
        details = ", ".join(f"{k} {v}" for k, v in entry["details"].items())
        lines.append(f"  {name} : {entry['count']} {verb} (avant le {entry['cutoff'][:10]} ; {details})")
    if not report["dry_run"]:
        lines.append(f"  fichiers supprimés du disque : {report['files_removed']}")
    return "\n".join(lines)
