"""Password hashes (argon2) and signed bearer tokens."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

_hasher = PasswordHasher()
# A hash to verify against when the account does not exist, so both paths cost the same time.
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


def issue_token(secret: str, user_id: int) -> str:
    return _serializer(secret).dumps({"uid": user_id})


def read_token(secret: str, token: str, max_age_seconds: int) -> int | None:
    try:
        data = _serializer(secret).loads(token, max_age=max_age_seconds)
    except (BadSignature, SignatureExpired):
        return None
    uid = data.get("uid") if isinstance(data, dict) else None
    return uid if isinstance(uid, int) else None
