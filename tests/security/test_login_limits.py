"""Wrong passwords are limited per account and per client address, with the same answer whether the
account exists or not; the password hash is checked with no database transaction open."""

import sqlite3

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

import aap.accounts.login
from aap.accounts.service import create_user
from aap.app import create_app
from aap.db import make_engine
from aap.settings import Settings
from tests.web.staff_helpers import csrf_of

EMAIL = "porteur@asso.test"
PASSWORD = "un mot de passe assez long"


@pytest.fixture
def account(session: Session) -> str:
    create_user(session, email=EMAIL, password=PASSWORD, role="porteur")
    create_user(session, email="autre@asso.test", password=PASSWORD, role="porteur")
    session.commit()
    return EMAIL


def token(client: TestClient, email: str, password: str):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/auth/token", data={"username": email, "password": password})


def test_five_wrong_passwords_then_the_account_waits_even_with_the_right_one(
    client: TestClient, account: str
) -> None:
    for _ in range(5):
        assert token(client, account, "mauvais mot de passe").status_code == 401
    refused = token(client, account, PASSWORD)
    assert refused.status_code == 429
    wait = int(refused.headers["Retry-After"])
    assert 1 <= wait <= 61
    detail = refused.json()["detail"]
    assert detail["code"] == "trop_de_tentatives"
    assert "Trop de tentatives de connexion" in detail["message"] and "secondes" in detail["message"]
    # the same account spelt otherwise is the same account
    assert token(client, account.upper(), PASSWORD).status_code == 429
    # another account from the same address is not held up
    assert token(client, "autre@asso.test", PASSWORD).status_code == 200


def test_an_unknown_account_gets_exactly_the_same_answers(client: TestClient, account: str) -> None:
    known = [token(client, account, "faux") for _ in range(6)]
    unknown = [token(client, "personne@asso.test", "faux") for _ in range(6)]
    assert [r.status_code for r in known] == [r.status_code for r in unknown] == [401] * 5 + [429]
    assert known[0].json() == unknown[0].json()
    assert known[-1].json()["detail"]["code"] == unknown[-1].json()["detail"]["code"]
    assert abs(int(known[-1].headers["Retry-After"]) - int(unknown[-1].headers["Retry-After"])) <= 5


def test_one_address_trying_many_accounts_is_limited_too(client: TestClient, account: str) -> None:
    answers = [token(client, f"essai{n}@asso.test", "faux").status_code for n in range(31)]
    assert answers[:30] == [401] * 30 and answers[30] == 429
    refused = token(client, account, PASSWORD)  # even a right password, from this address
    assert refused.status_code == 429 and refused.headers["Retry-After"]


def test_a_success_clears_the_account_s_count(client: TestClient, account: str) -> None:
    for _ in range(4):
        token(client, account, "faux")
    assert token(client, account, PASSWORD).status_code == 200
    for _ in range(40):  # successes are not counted against the address
        assert token(client, "autre@asso.test", PASSWORD).status_code == 200
    for _ in range(4):
        assert token(client, account, "faux").status_code == 401
    assert token(client, account, PASSWORD).status_code == 200


def test_the_login_page_is_limited_with_a_french_message(client: TestClient, account: str) -> None:
    csrf = csrf_of(client.get("/connexion").text)
    form = {"email": account, "password": "faux", "csrf": csrf}
    for _ in range(5):
        assert client.post("/connexion", data=form).status_code == 401
    page = client.post("/connexion", data={**form, "password": PASSWORD}, follow_redirects=False)
    assert page.status_code == 429 and page.headers["Retry-After"]
    assert "Trop de tentatives de connexion" in page.text


def test_the_hash_is_checked_with_no_transaction_open(
    client: TestClient, account: str, db_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While argon2 works, another writer gets SQLite's write lock at once (and PostgreSQL's session
    holds no transaction)."""
    seen: list[str] = []
    real = aap.accounts.login.verify_password

    def verify_and_look(password_hash, password):  # type: ignore[no-untyped-def]
        if db_engine.dialect.name == "sqlite":
            other = sqlite3.connect(str(db_engine.url.database), timeout=0, isolation_level=None)
            try:
                other.execute("BEGIN IMMEDIATE")
                other.execute("ROLLBACK")
                seen.append("verrou libre")
            except sqlite3.OperationalError as exc:
                seen.append(str(exc))
            finally:
                other.close()
        else:
            with db_engine.connect() as conn:
                from sqlalchemy import text

                busy = conn.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity"
                        " WHERE state = 'idle in transaction' AND datname = current_database()"
                    )
                ).scalar_one()
            seen.append("verrou libre" if busy == 0 else f"{busy} transaction(s) ouverte(s)")
        return real(password_hash, password)

    monkeypatch.setattr(aap.accounts.login, "verify_password", verify_and_look)
    assert token(client, account, PASSWORD).status_code == 200
    assert token(client, account, "faux").status_code == 401
    assert seen == ["verrou libre", "verrou libre"]


def test_two_servers_on_one_database_share_the_count(
    account: str, db_engine: Engine, settings: Settings
) -> None:
    """Two app instances, each with its own connections (as two worker processes of `aap serve
    --workers 2`): wrong passwords sent to either count once, for both."""
    other_engine = make_engine(db_engine.url.render_as_string(hide_password=False))
    try:
        with (
            TestClient(create_app(settings, db_engine)) as first,
            TestClient(create_app(settings, other_engine)) as second,
        ):
            answers = [token(server, account, "faux").status_code for server in (first, second) * 3]
            assert answers == [401] * 5 + [429]
            for server in (first, second):
                refused = token(server, account, PASSWORD)
                assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
                assert refused.json()["detail"]["code"] == "trop_de_tentatives"
            # an unknown account counts the same way on both, with the same answers
            unknown = [
                token(server, "personne@asso.test", "faux").status_code for server in (second, first) * 3
            ]
            assert unknown == [401] * 5 + [429]
    finally:
        other_engine.dispose()
