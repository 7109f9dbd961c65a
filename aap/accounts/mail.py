"""The account's own e-mails (address verification, password reset, invitation, join requests), recorded
in the outbox like every other message (`notifications.outbox.record`) and delivered by the same passes.

They are the only mail an unverified address may get: the link in them is what verifies it.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from sqlalchemy.orm import Session, sessionmaker

from aap.models import User
from aap.settings import Settings
from notifications.outbox import Message, record

AUDIENCE = "comptes"
SIGNATURE = "Message automatique de l'appel à projets du contrat de ville ({base_url})."


def _html(greeting: str, paragraphs: list[str], link: str | None, button: str, footer: str) -> str:
    parts = [f"<p>{escape(greeting)}</p>", *(f"<p>{escape(p)}</p>" for p in paragraphs)]
    if link:
        parts.append(
            f'<p style="margin: 24px 0;"><a href="{escape(link)}" style="background: #000091; color: #ffffff; '
            f'padding: 10px 18px; text-decoration: none; border-radius: 4px;">{escape(button)}</a></p>'
            f'<p style="font-size: 13px; color: #555;">Lien direct : <a href="{escape(link)}">'
            f"{escape(link)}</a></p>"
        )
    parts.append(f'<hr><p style="font-size: 12px; color: #666;">{escape(footer)}</p>')
    body = "\n".join(parts)
    return (
        '<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8"></head>\n'
        '<body style="font-family: Arial, Helvetica, sans-serif; font-size: 15px; color: #1e1e1e; '
        f'max-width: 640px; margin: 0 auto; padding: 16px;">\n{body}\n</body></html>\n'
    )


def send(
    session: Session,
    *,
    rule: str,
    key: str,
    to: User,
    subject: str,
    paragraphs: list[str],
    base_url: str,
    now: datetime,
    link: str | None = None,
    button: str = "Ouvrir",
    address: str | None = None,
) -> bool:
    """Records one message to `to` (once per `key`: a second call with the same key does nothing).
    `address` sends it elsewhere than `to.email` (a new address being verified). Returns whether it was
    recorded. Does not commit: it rides in the caller's transaction."""
    name = (to.full_name or "").split(" (")[0].strip()
    greeting = f"Bonjour {name}," if name else "Bonjour,"
    footer = SIGNATURE.format(base_url=base_url.rstrip("/"))
    text = "\n\n".join([greeting, *paragraphs])
    if link:
        text += f"\n\n{button} : {link}"
    text += f"\n\n--\n{footer}\n"
    message = Message(
        key=f"compte:{rule}:{key}",
        rule=rule,
        audience=AUDIENCE,
        recipient=address or to.email,
        subject=subject,
        body_text=text,
        body_html=_html(greeting, paragraphs, link, button, footer),
        user_id=to.id,
    )
    return bool(record(session, [message], now))


def deliver_soon(
    factory: sessionmaker[Session], settings: Settings, request_session: Session | None = None
) -> None:
    """Sends the pending account messages right away (after the answer, in the background), so that a
    link asked for arrives in seconds rather than at the next cron pass, which remains the safety net;
    the other messages (reminders, digests) are left to the cron pass.

    Background tasks run before the request's own session is closed: `request_session`, done with by
    then (its service committed), is rolled back first so that it holds no lock while we deliver."""
    if request_session is not None:
        request_session.rollback()
    if not settings.smtp_url:
        return
    from aap.clock import now
    from notifications.delivery import deliver

    deliver(factory, settings, now(), audience=AUDIENCE)
