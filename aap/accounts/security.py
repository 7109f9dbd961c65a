"""Password hashes (argon2) and signed bearer tokens (carrying the account's session generation)."""

from argon2 import Parameters, PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

_hasher = PasswordHasher()  # argon2id with the library's defaults (RFC 9106: 64 MiB, 3 passes)
# A hash to verify against when the account does not exist, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("aap-dummy-password")


def use_parameters(parameters: Parameters) -> None:
    """New hashes with these argon2 parameters. The application never calls it; the test suite does, with
    argon2's `profiles.CHEAPEST`, so that its thousands of logins do not each spend 0.1 s of CPU (a hash
    carries its own parameters: every hash made before still verifies)."""
    global _hasher, _DUMMY_HASH
    _hasher = PasswordHasher.from_parameters(parameters)
    _DUMMY_HASH = _hasher.hash("aap-dummy-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="aap-api-token")


def issue_token(secret: str, user_id: int, generation: int = 1) -> str:
    """A bearer token for this account, valid while the account's session generation is `generation`."""
    return _serializer(secret).dumps({"uid": user_id, "gen": generation})


def read_token_claims(secret: str, token: str, max_age_seconds: int) -> tuple[int, int] | None:
    """(user id, session generation) of a genuine, unexpired token; else None."""
    try:
        data = _serializer(secret).loads(token, max_age=max_age_seconds)
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(data, dict):
        return None
    uid, gen = data.get("uid"), data.get("gen")
    if not isinstance(uid, int) or not isinstance(gen, int):
        return None  # tokens issued before generations existed no longer open anything
    return uid, gen


def read_token(secret: str, token: str, max_age_seconds: int) -> int | None:
    claims = read_token_claims(secret, token, max_age_seconds)
    return claims[0] if claims else None
