"""Who may read which file: one statement, used by every list and download of files and documents.

A dossier's file: whoever reads the dossier (`visible_dossiers`), except that a financer reads only
the documents addressed by itself (a file carrying another financer's `financeur_id`, such as the
Ville's notification letter, stays hidden from the State), and a file sent with a message only by
whoever reads that message (a staff note's file never by the porteur). A pièce of an organisation: its
members, and whoever reads one of its dossiers.

Financers and partners read only the versions in force: a file not replaced, or one a dossier they
read relies on (`DossierPiece`, written at dépôt); an earlier RIB the association replaced stays with
the association and the team.
"""

from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select

from aap.dossiers.access import readable_message_audiences, visible_dossiers
from aap.models import Attachment, Dossier, DossierMessage, DossierPiece, Membership, User


def readable_files(user: User) -> Select[Attachment]:
    visible = visible_dossiers(user).with_only_columns(Dossier.id)
    dossier_file: ColumnElement[bool] = Attachment.dossier_id.in_(visible)
    if user.role == "financeur":
        own_or_shared = or_(Attachment.financeur_id.is_(None), Attachment.financeur_id == user.financeur_id)
        dossier_file = and_(dossier_file, own_or_shared)
    elif user.role == "partenaire":  # asked for an avis: the porteur's files, no financer's letter
        dossier_file = and_(dossier_file, Attachment.financeur_id.is_(None))
    message_read = exists().where(
        DossierMessage.id == Attachment.message_id,
        DossierMessage.audience.in_(readable_message_audiences(user)),
    )
    dossier_file = and_(dossier_file, or_(Attachment.message_id.is_(None), message_read))
    member = exists().where(
        Membership.user_id == user.id, Membership.organisation_id == Attachment.organisation_id
    )
    reads_a_dossier = Attachment.organisation_id.in_(
        visible_dossiers(user).with_only_columns(Dossier.organisation_id)
    )
    organisation_piece = and_(
        Attachment.dossier_id.is_(None),
        Attachment.organisation_id.is_not(None),
        or_(member, reads_a_dossier) if user.role == "porteur" else reads_a_dossier,
    )
    if user.role not in ("porteur", "financeur", "partenaire", "instructeur", "admin"):
        return select(Attachment).where(false())
    readable = or_(and_(Attachment.dossier_id.is_not(None), dossier_file), organisation_piece)
    if user.role in ("financeur", "partenaire"):
        relied_on = select(DossierPiece.attachment_id).where(DossierPiece.dossier_id.in_(visible))
        readable = and_(readable, or_(Attachment.replaced_at.is_(None), Attachment.id.in_(relied_on)))
    return select(Attachment).where(readable)
