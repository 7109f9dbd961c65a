"""Who reads which messages of the dialogue, decided once: everyone who sees the dossier reads the
exchange (`echange`); only staff read the notes (`interne`). The files sent with a message follow it
(`aap/attachments/repository.py`)."""

from aap.models import User

STAFF = ("admin", "instructeur", "financeur")


def readable_audiences(user: User) -> tuple[str, ...]:
    return ("echange", "interne") if user.role in STAFF else ("echange",)
