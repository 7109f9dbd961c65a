"""Whether a new password is good enough: the length rule, then zxcvbn (pinned), which knows the common
passwords, names and words of its lists and the patterns that breached passwords follow (keyboard rows,
dates, repeats, « l33t » substitutions). Its feedback is in English: we say it again in French."""

from zxcvbn import zxcvbn

MIN_PASSWORD_LENGTH = 10
MIN_SCORE = 3  # zxcvbn's 0–4: « safely unguessable » (about 10^8 guesses) and above
MAX_PASSWORD_LENGTH = 200
ZXCVBN_MAX = 72  # zxcvbn is slow on very long inputs; argon2 does not need more

WARNINGS_FR = {
    "This is a top-10 common password.": "c'est l'un des mots de passe les plus utilisés",
    "This is a top-100 common password.": "c'est l'un des mots de passe les plus utilisés",
    "This is a very common password.": "c'est un mot de passe très courant",
    "This is similar to a commonly used password.": "il ressemble à un mot de passe très courant",
    "A word by itself is easy to guess.": "un mot seul se devine facilement",
    "Names and surnames by themselves are easy to guess.": "un nom ou un prénom seul se devine facilement",
    "Common names and surnames are easy to guess.": "les noms et prénoms courants se devinent facilement",
    "Straight rows of keys are easy to guess.": "une rangée de touches du clavier se devine facilement",
    "Short keyboard patterns are easy to guess.": "un motif du clavier se devine facilement",
    'Repeats like "aaa" are easy to guess.': "les répétitions (« aaa ») se devinent facilement",
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".': (
        "les répétitions (« abcabc ») se devinent facilement"
    ),
    "Sequences like abc or 6543 are easy to guess.": (
        "les suites (« abc », « 6543 ») se devinent facilement"
    ),
    "Recent years are easy to guess.": "les années récentes se devinent facilement",
    "Dates are often easy to guess.": "les dates se devinent facilement",
}


def password_problem(password: str, personal: list[str] | tuple[str, ...] = ()) -> str | None:
    """Why this password is refused, in French, or None when it is accepted. `personal` lists what the
    person typed elsewhere (address, name, organisation): a password built on it is refused too."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Le mot de passe doit compter au moins {MIN_PASSWORD_LENGTH} caractères."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Le mot de passe doit compter au plus {MAX_PASSWORD_LENGTH} caractères."
    inputs = [w for p in personal if p for w in [p, *p.replace("@", " ").replace(".", " ").split()]]
    # zxcvbn reads 72 characters at most: a longer password is judged by its beginning (stricter)
    result = zxcvbn(password[:ZXCVBN_MAX], user_inputs=[i[:ZXCVBN_MAX] for i in inputs])
    if result["score"] >= MIN_SCORE:
        return None
    why = WARNINGS_FR.get(result["feedback"].get("warning") or "", "il se devine trop facilement")
    return (
        f"Ce mot de passe est trop facile à deviner ({why}). Choisissez une phrase de plusieurs mots "
        "peu courants, par exemple quatre mots sans rapport entre eux."
    )
