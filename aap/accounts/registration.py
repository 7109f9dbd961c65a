"""Registration of a porteur: the same answer whether the address has an account or not, the address
verified by a link before anything else is sent to it, one organisation per SIRET.

- A new address: an unverified account and a verification link (the organisation waits in the link).
- An address whose account is not verified yet: the newest registration replaces the pending one (its
  password and organisation) and a new link replaces the old one: whoever holds the mailbox decides.
- An address with a verified account: nothing changes; that address gets a message saying someone tried
  to register with it (once a day at most), with the way to log in or reset the password.

Following the link verifies the address and then: an organisation with that SIRET already known → a
join request to its members (never a second organisation); else the organisation is created.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from aap.accounts import links, mail
from aap.accounts.passwords import password_problem
from aap.accounts.security import hash_password
from aap.accounts.service import create_user, normalize_email
from aap.errors import Forbidden, Invalid
from aap.models import GROUPE_HABITANTS, ORGANISATION_KINDS, Membership, Organisation, User
from forms.siret import siret_valid

ORGANISATION_FIELDS = ("name", "siret", "rna", "address_line", "postal_code", "city", "phone")
FIELD_LIMITS = {
    "email": 320,
    "full_name": 200,
    "name": 300,
    "rna": 10,
    "address_line": 300,
    "postal_code": 5,
    "city": 200,
    "phone": 40,
}


def email_problem(email: str) -> str | None:
    if "\x00" in email:
        return "Cette adresse électronique contient un caractère interdit."
    if not email or "@" not in email or "." not in email.rsplit("@", 1)[-1] or " " in email:
        return "Indiquez une adresse électronique valide (par exemple nom@association.fr)."
    if len(email) > FIELD_LIMITS["email"]:
        return "Cette adresse électronique est trop longue."
    return None


def _clean_organisation(organisation: dict[str, str | None]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for k in ORGANISATION_FIELDS:
        v = organisation.get(k)
        out[k] = (str(v).strip() or None) if v is not None else None
    out["siret"] = "".join((out["siret"] or "").split()) or None
    kind = str(organisation.get("kind") or "association").strip()
    out["kind"] = kind if kind in ORGANISATION_KINDS else "association"
    return out


def _referent_problems(org: dict[str, str | None], full_name: str) -> list[dict[str, str]]:
    """A group of inhabitants has no SIRET: it is reached through its referent inhabitant."""
    wanted = {
        "full_name": (full_name, "Indiquez le nom et le prénom de l'habitant référent du groupe."),
        "phone": (org["phone"], "Indiquez un téléphone pour joindre l'habitant référent du groupe."),
    }
    return [{"path": k, "code": "required", "message": m} for k, (v, m) in wanted.items() if not v]


def _check(email: str, password: str, org: dict[str, str | None], full_name: str) -> None:
    errors: list[dict[str, str]] = []

    def err(path: str, code: str, message: str) -> None:
        errors.append({"path": path, "code": code, "message": message})

    problem = email_problem(email)
    if problem:
        err("email", "email_invalide", problem)
    weak = password_problem(password or "", [email, full_name, org.get("name") or ""])
    if weak:
        err("password", "mot_de_passe_faible", weak)
    group = org.get("kind") == GROUPE_HABITANTS
    if not org["name"]:
        err(
            "name",
            "required",
            "Indiquez le nom du groupe d'habitants." if group else "Indiquez le nom de l'organisme.",
        )
    if group:
        errors.extend(_referent_problems(org, full_name))
    if not org["siret"] and not group:
        err("siret", "required", "Indiquez le numéro SIRET de l'organisme (14 chiffres).")
    elif org["siret"] and not siret_valid(org["siret"]):
        err(
            "siret",
            "siret_invalide",
            "Ce numéro SIRET n'est pas valide : vérifiez les 14 chiffres (la clé de contrôle ne correspond pas).",
        )
    for key, limit in FIELD_LIMITS.items():
        value = full_name if key == "full_name" else org.get(key)
        if key != "email" and value and len(value) > limit:
            err(key, "texte_trop_long", f"Le texte dépasse {limit} caractères ({len(value)}).")
        elif key != "email" and value and "\x00" in value:
            err(key, "caractere_interdit", "Ce champ contient un caractère interdit (caractère nul).")
    if errors:
        raise Invalid("Le compte n'a pas été créé.", code="inscription_invalide", errors=errors)


def user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == normalize_email(email)))


def send_verification(
    session: Session, user: User, data: dict[str, Any], *, now: datetime, base_url: str
) -> None:
    raw, row = links.issue(session, links.VERIFY_EMAIL, user.id, now, data=data)
    mail.send(
        session,
        rule="compte_verification",
        key=str(row.id),
        to=user,
        subject="Confirmez votre adresse électronique",
        paragraphs=[
            "Vous venez de créer un compte sur la plateforme des appels à projets du contrat de ville.",
            "Pour l'activer, confirmez que cette adresse est bien la vôtre en ouvrant le lien ci-dessous. "
            "Il fonctionne une seule fois, pendant 48 heures.",
            "Si vous n'avez pas demandé ce compte, ignorez ce message : rien ne sera activé.",
        ],
        link=links.link_url(base_url, "/verification", raw),
        button="Confirmer mon adresse",
        base_url=base_url,
        now=now,
    )


def register(
    session: Session,
    email: str,
    password: str,
    organisation: dict[str, str | None],
    full_name: str = "",
    *,
    now: datetime,
    base_url: str,
) -> None:
    """Records the registration and its e-mail (see the module); commits. Returns nothing that would
    tell whether the address already had an account."""
    email = normalize_email(email)
    full_name = full_name.strip()
    org = _clean_organisation(organisation)
    _check(email, password, org, full_name)
    password_hash = hash_password(password)  # on every path, so that all cost the same time
    existing = user_by_email(session, email)
    if existing is None:
        user = create_user(
            session,
            email=email,
            password_hash=password_hash,
            role="porteur",
            full_name=full_name,
            email_verified=False,
        )
        send_verification(session, user, {"organisation": org}, now=now, base_url=base_url)
    elif existing.email_verified_at is None and existing.role == "porteur" and existing.active:
        if links.too_many(session, links.VERIFY_EMAIL, existing.id, now):
            session.rollback()
            return
        existing.password_hash = password_hash
        existing.full_name = full_name or existing.full_name
        send_verification(session, existing, {"organisation": org}, now=now, base_url=base_url)
    elif existing.active:
        mail.send(
            session,
            rule="compte_deja_inscrit",
            key=f"{existing.id}:{now.date().isoformat()}",
            to=existing,
            subject="Une inscription a été tentée avec votre adresse",
            paragraphs=[
                "Quelqu'un (peut-être vous) a demandé à créer un compte avec cette adresse électronique. "
                "Vous avez déjà un compte : aucun autre n'a été créé et rien n'a changé dans le vôtre.",
                "Pour vous connecter, utilisez votre mot de passe habituel. Si vous l'avez oublié, "
                "choisissez-en un nouveau avec le lien ci-dessous.",
                "Si ce n'était pas vous, ignorez ce message.",
            ],
            link=f"{base_url.rstrip('/')}/mot-de-passe-oublie",
            button="Choisir un nouveau mot de passe",
            base_url=base_url,
            now=now,
        )
    session.commit()


@dataclass
class Verified:
    user: User
    organisation: Organisation | None
    outcome: str  # "organisation_creee", "adhesion_demandee", "deja_membre"


def verify(session: Session, raw: str, *, now: datetime, base_url: str) -> Verified:
    """Follows a verification link: the address is verified, then the organisation is created or a
    join request sent to the members of the one with that SIRET. Commits."""
    row = links.use(session, links.VERIFY_EMAIL, raw, now)
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        raise Forbidden("Ce compte est désactivé.", code="compte_desactive")
    user.email_verified_at = now
    org_data = dict((row.data or {}).get("organisation") or {})
    kind = org_data.pop("kind", None) or "association"
    siret = org_data.get("siret")
    if not siret and kind == GROUPE_HABITANTS:  # no registry number to share: a group of its own
        group = Organisation(
            kind=kind,
            email=user.email,
            representative_name=user.full_name or None,
            representative_role="Habitant référent",
            representative_email=user.email,
            **org_data,
        )
        session.add(group)
        session.flush()
        session.add(Membership(user_id=user.id, organisation_id=group.id))
        session.commit()
        return Verified(user, group, "organisation_creee")
    if not siret:
        session.commit()
        return Verified(user, None, "deja_membre")
    if session.get_bind().dialect.name == "postgresql":
        # two verifications of the same new SIRET at once: the second waits, then finds the first's
        # organisation (SQLite already runs one writer at a time)
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"siret:{siret}"})
    known = session.scalar(select(Organisation).where(Organisation.siret == siret).order_by(Organisation.id))
    if known is None:
        org = Organisation(kind=kind, email=user.email, **org_data)
        session.add(org)
        session.flush()
        session.add(Membership(user_id=user.id, organisation_id=org.id))
        session.commit()
        return Verified(user, org, "organisation_creee")
    if known.id in {o.id for o in user.organisations}:
        session.commit()
        return Verified(user, known, "deja_membre")
    from aap.accounts.membership import request_to_join

    request_to_join(session, user, known, now=now, base_url=base_url)
    session.commit()
    return Verified(user, known, "adhesion_demandee")
