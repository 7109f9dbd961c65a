"""Staff invited by e-mail: the admin gives an address, a name and a role; the account is created
without a usable password and an e-mail (through the outbox) carries a single-use link, valid 7 days,
to the password-setting page (`/mot-de-passe/…`, the page of `aap admin create`).

Also the bulk import of a CSV of staff (email, nom, role, financeur), all or nothing, every error located
by its line and column."""

from __future__ import annotations

import csv
import io
import secrets
from datetime import datetime

from sqlalchemy.orm import Session

from aap.accounts import links, mail
from aap.accounts.security import hash_password
from aap.accounts.service import create_user, normalize_email
from aap.accounts.staff import StaffInvite, staff_problems
from aap.errors import Forbidden, Invalid
from aap.models import Financeur, User

INVITED_ROLES = ("instructeur", "financeur", "partenaire", "admin")
LINK_PATH = "/mot-de-passe"


def _create_and_send(
    session: Session,
    by: User | None,
    territory_id: int | None,
    invite: StaffInvite,
    financeur: Financeur | None,
    *,
    now: datetime,
    base_url: str,
) -> User:
    user = create_user(
        session,
        email=invite.email,
        password_hash=hash_password(secrets.token_urlsafe(32)),  # unusable until the link is followed
        role=invite.role,
        full_name=invite.full_name.strip(),
        financeur_id=financeur.id if financeur else None,
        territory_id=territory_id if invite.role != "financeur" else None,
        email_verified=False,
    )
    raw, row = links.issue(session, links.STAFF_INVITATION, user.id, now, invited_by_id=by.id if by else None)
    who = (by.full_name or by.email) if by else "L'équipe du contrat de ville"
    mail.send(
        session,
        rule="compte_invitation_equipe",
        key=str(row.id),
        to=user,
        subject="Votre compte sur la plateforme des appels à projets du contrat de ville",
        paragraphs=[
            f"{who} vous a ouvert un compte ({invite.role}) sur la plateforme des appels à projets du "
            "contrat de ville.",
            "Ouvrez le lien ci-dessous pour choisir votre mot de passe. Il fonctionne une seule fois, "
            "pendant 7 jours.",
            "Si vous ne vous attendiez pas à ce message, ignorez-le.",
        ],
        link=links.link_url(base_url, LINK_PATH, raw),
        button="Choisir mon mot de passe",
        base_url=base_url,
        now=now,
    )
    return user


def _check_admin(by: User) -> None:
    if by.role != "admin":
        raise Forbidden("Seule l'équipe du contrat de ville invite des comptes.", code="role_interdit")


def invite_staff(session: Session, by: User, invite: StaffInvite, *, now: datetime, base_url: str) -> User:
    """One person invited by an admin of its territory; every problem at once. Commits."""
    _check_admin(by)
    errors, financeur = staff_problems(session, by.territory_id, invite, roles=INVITED_ROLES)
    if errors:
        raise Invalid("L'invitation n'a pas été envoyée.", code="invitation_invalide", errors=errors)
    user = _create_and_send(session, by, by.territory_id, invite, financeur, now=now, base_url=base_url)
    session.commit()
    return user


# --- bulk import ----------------------------------------------------------------------------------------

COLUMNS = {"email": "email", "nom": "full_name", "role": "role", "financeur": "financeur"}


class ImportRefused(Invalid):
    code = "import_refuse"


MAX_CSV_BYTES = 2_000_000


def parse_staff_csv(content: bytes) -> list[tuple[int, StaffInvite, bool]]:
    """The rows of the file (line number, invitation, whether it has more cells than the header), or every
    problem of the header located."""
    if len(content) > MAX_CSV_BYTES:
        raise ImportRefused(
            "Le fichier n'a pas été importé.",
            code="import_refuse",
            errors=[{"path": "fichier", "code": "fichier_trop_gros", "message": "Le fichier dépasse 2 Mo."}],
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRefused(
            "Le fichier n'a pas été importé.",
            code="import_refuse",
            errors=[{"path": "fichier", "code": "encodage", "message": "Le fichier doit être en UTF-8."}],
        ) from exc
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") >= first.count(",") and ";" in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = list(reader)
    if not rows:
        raise ImportRefused(
            "Le fichier n'a pas été importé.",
            code="import_refuse",
            errors=[{"path": "ligne 1", "code": "fichier_vide", "message": "Le fichier est vide."}],
        )
    header = [h.strip().lower() for h in rows[0]]
    missing = [c for c in ("email", "nom", "role") if c not in header]
    unknown = [h for h in header if h not in COLUMNS]
    if missing or unknown:
        errors = [
            {"path": "ligne 1", "code": "colonne_manquante", "message": f"Colonne « {c} » manquante."}
            for c in missing
        ] + [
            {
                "path": "ligne 1",
                "code": "colonne_inconnue",
                "message": f"Colonne « {h} » inconnue : email, nom, role, financeur attendues.",
            }
            for h in unknown
        ]
        raise ImportRefused("Le fichier n'a pas été importé.", code="import_refuse", errors=errors)
    out = []
    for number, cells in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        values = dict(zip(header, (c.strip() for c in cells), strict=False))
        out.append(
            (
                number,
                StaffInvite(
                    email=values.get("email", ""),
                    full_name=values.get("nom", ""),
                    role=values.get("role", "").lower(),
                    financeur_code=values.get("financeur") or None,
                ),
                any(c.strip() for c in cells[len(header) :]),
            )
        )
    return out


COLUMN_OF_PATH = {"email": "email", "full_name": "nom", "role": "role", "financeur": "financeur"}


def import_staff(
    session: Session,
    by: User | None,
    territory_id: int | None,
    content: bytes,
    *,
    now: datetime,
    base_url: str,
    dry_run: bool = False,
) -> list[User]:
    """Every person of the CSV invited, or nobody: every error reported as « ligne N, colonne X ».
    `by` is the admin (None from the command line, which names the territory). Commits unless `dry_run`."""
    if by is not None:
        _check_admin(by)
    rows = parse_staff_csv(content)
    errors: list[dict[str, str]] = []
    checked: list[tuple[StaffInvite, Financeur | None]] = []
    taken: set[str] = set()
    for number, invite, too_many_cells in rows:
        if too_many_cells:
            errors.append(
                {
                    "path": f"ligne {number}",
                    "code": "colonnes_en_trop",
                    "message": f"Ligne {number} : plus de valeurs que de colonnes (séparateur dans un nom ?).",
                }
            )
        problems, financeur = staff_problems(session, territory_id, invite, roles=INVITED_ROLES, taken=taken)
        taken.add(normalize_email(invite.email))
        for p in problems:
            column = COLUMN_OF_PATH[p["path"]]
            errors.append(
                {
                    "path": f"ligne {number}, colonne {column}",
                    "code": p["code"],
                    "message": f"Ligne {number}, colonne « {column} » : {p['message']}",
                }
            )
        checked.append((invite, financeur))
    if errors:
        raise ImportRefused(
            f"Le fichier n'a pas été importé ({len(errors)} erreur(s)) : aucun compte n'a été créé.",
            code="import_refuse",
            errors=errors,
        )
    users = [
        _create_and_send(session, by, territory_id, invite, financeur, now=now, base_url=base_url)
        for invite, financeur in checked
    ]
    if dry_run:
        session.rollback()
    else:
        session.commit()
    return users
