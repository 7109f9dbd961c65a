"""Two decisions racing for an enveloppe's last euros: exactly one wins, the envelope is never exceeded.

Real concurrency: two threads, each with its own session (its own connection), released together by
a barrier. On PostgreSQL they truly overlap and the lock on the enveloppe row serializes them; on
SQLite the write lock taken at BEGIN does, and the test checks the same outcome.
"""

import threading
from datetime import UTC, datetime
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import sessionmaker

from aap.errors import Invalid
from aap.financing import service as financing
from aap.models import User
from tests.financing.helpers import AGENTS, Walk, to_avise


def _race(engine: Engine, email: str, tasks: list, barrier_size: int) -> list[object]:
    make = sessionmaker(bind=engine, expire_on_commit=False)
    barrier = threading.Barrier(barrier_size)
    results: list[object] = [None] * len(tasks)

    def run(i: int, task) -> None:  # type: ignore[no-untyped-def]
        with make() as session:
            agent = session.scalar(select(User).where(User.email == email))
            session.commit()  # end the read: each attempt starts its own transaction after the barrier
            barrier.wait(timeout=30)
            try:
                results[i] = task(session, agent)
            except Exception as exc:
                session.rollback()
                results[i] = exc

    threads = [threading.Thread(target=run, args=(i, t)) for i, t in enumerate(tasks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_two_decisions_racing_for_the_last_euros_one_wins(
    client: TestClient, demo, db_engine: Engine
) -> None:
    w = Walk(client)
    first, second = to_avise(w, w.porteur), to_avise(w, w.porteur2)
    codes = [
        c["financeur"]
        for c in first["cofinancements"]
        if c["financeur"] in {x["financeur"] for x in second["cofinancements"]}
    ]
    code = codes[0]
    cid = first["campaign_id"]
    amount = min(
        Decimal(next(c["montant_demande"] for c in d["cofinancements"] if c["financeur"] == code))
        for d in (first, second)
    )
    accorde = Decimal(w.enveloppes(cid)[code]["accorde"])
    left = amount + amount / 2  # room for one of them, not both
    r = w.admin.client.put(
        f"/api/v1/campaigns/{cid}/enveloppes/{code}",
        headers=w.admin.headers,
        json={"enveloppe": str(accorde + left)},
    )
    assert r.status_code == 200
    now = datetime.now(UTC)

    def deciding(did: int):  # type: ignore[no-untyped-def]
        return lambda session, agent: financing.decide(
            session, agent, did, code, "accorde", amount, None, now
        )

    results = _race(db_engine, AGENTS[code], [deciding(first["id"]), deciding(second["id"])], 2)

    winners = [r for r in results if not isinstance(r, Exception)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert isinstance(losers[0], Invalid) and losers[0].code == "enveloppe_exceeded"
    after = w.enveloppes(cid)[code]
    assert Decimal(after["accorde"]) == accorde + amount <= Decimal(after["enveloppe"])
    assert Decimal(after["restant"]) == left - amount


def test_a_bulk_list_and_a_single_decision_racing_never_overspend(
    client: TestClient, demo, db_engine: Engine
) -> None:
    w = Walk(client)
    first, second = to_avise(w, w.porteur), to_avise(w, w.porteur2)
    codes = [
        c["financeur"]
        for c in first["cofinancements"]
        if c["financeur"] in {x["financeur"] for x in second["cofinancements"]}
    ]
    code = codes[0]
    cid = first["campaign_id"]
    amounts = {
        d["id"]: Decimal(next(c["montant_demande"] for c in d["cofinancements"] if c["financeur"] == code))
        for d in (first, second)
    }
    accorde = Decimal(w.enveloppes(cid)[code]["accorde"])
    w.admin.client.put(
        f"/api/v1/campaigns/{cid}/enveloppes/{code}",
        headers=w.admin.headers,
        json={"enveloppe": str(accorde + max(amounts.values()))},
    )
    now = datetime.now(UTC)
    bulk = [financing.BulkDecision(did, "accorde", amount) for did, amount in amounts.items()]

    def single(session, agent):  # type: ignore[no-untyped-def]
        return financing.decide(
            session, agent, second["id"], code, "accorde", amounts[second["id"]], None, now
        )

    def in_bulk(session, agent):  # type: ignore[no-untyped-def]
        return financing.decide_bulk(session, agent, cid, bulk, now)

    results = _race(db_engine, AGENTS[code], [in_bulk, single], 2)
    assert sum(1 for r in results if not isinstance(r, Exception)) == 1, results
    assert all(isinstance(r, Invalid) for r in results if isinstance(r, Exception)), results
    after = w.enveloppes(cid)[code]
    assert Decimal(after["accorde"]) <= Decimal(after["enveloppe"])
