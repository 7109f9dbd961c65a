"""The programme exports read the campaign a page at a time, without ORM objects: memory stays one page."""

import csv
import io
from datetime import date

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from aap.demo.volume import generate
from aap.financing import programmation
from aap.models import User
from tests.scale.test_lists_in_sql import statements
from tests.web.staff_helpers import INSTRUCTEUR


def test_the_csv_reads_pages_of_plain_rows_and_totals_every_row(db_engine: Engine, demo: date) -> None:
    campaign = generate(db_engine, 45, 3, today=demo)
    with Session(db_engine) as session:
        user = session.scalar(select(User).where(User.email == INSTRUCTEUR))
        assert user is not None
        table = programmation.open_table(session, user, campaign.id, programmation.parse_states("tous"))
        before = len(session.identity_map)  # the caller, its campaign and the campaign's financers
        held: list[int] = []
        chunks: list[bytes] = []
        with statements(db_engine) as seen:
            for chunk in programmation.csv_stream(session, user, table, chunk=10):
                chunks.append(chunk)
                held.append(len(session.identity_map))
        expected_sums = programmation.sql_sums(session, user, table)
    pages = [s for s in seen if "FROM dossiers JOIN organisations" in s]
    assert len(pages) == 6  # 45 dossiers by pages of 10, then the empty page that ends it
    assert max(held) == before  # no dossier, line or porteur is ever held as an object
    header, *body, totals = list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8-sig")), delimiter=";"))
    subtotals = [row for row in body if row[0].startswith("Sous-total")]  # one per commune
    body = [row for row in body if not row[0].startswith("Sous-total")]
    assert len(body) == 45 and totals[0] == "Total (45 dossiers)"
    assert [row[0] for row in subtotals] == ["Sous-total Manosque (45 dossiers)"]
    # the totals row of the stream and the comité page's totals (SQL) agree
    assert totals[header.index("Budget total")] == f"{expected_sums['budget_total']:.2f}".replace(".", ",")
    for code, _name in table.financeurs:
        demande = totals[header.index(f"{code} demandé")]
        assert demande == f"{expected_sums['financements'][code]['demande']:.2f}".replace(".", ",")
        assert subtotals[0][header.index(f"{code} demandé")] == demande  # one commune: the whole


def test_the_json_table_is_written_as_its_rows_are_read(db_engine: Engine, demo: date) -> None:
    import json

    from aap.financing.schemas import ProgrammeOut

    campaign = generate(db_engine, 25, 2, today=demo)
    with Session(db_engine) as session:
        user = session.scalar(select(User).where(User.email == INSTRUCTEUR))
        assert user is not None
        table = programmation.open_table(session, user, campaign.id, programmation.parse_states("tous"))
        before = len(session.identity_map)
        held: list[int] = []
        chunks: list[bytes] = []
        for chunk in programmation.json_stream(session, user, table, chunk=10):
            chunks.append(chunk)
            held.append(len(session.identity_map))
        expected_sums = programmation.sql_sums(session, user, table)
    assert max(held) <= before  # no dossier is held as an object while writing
    answer = ProgrammeOut.model_validate(json.loads(b"".join(chunks)))  # the published shape
    assert answer.total == len(answer.items) == 25
    assert len({item.dossier_id for item in answer.items}) == 25
    assert answer.totaux.budget_total == expected_sums["budget_total"]


def test_amounts_in_cents_are_written_as_decimal_would_write_them() -> None:
    from decimal import Decimal

    cents = [0, 1, 5, 10, 99, 100, 123450, 999_999_999, 10**13 - 1, -1, -150, None]
    expected = ["" if c is None else f"{Decimal(c).scaleb(-2):.2f}" for c in cents]
    assert programmation._texts_of(cents, comma=False) == expected
    assert programmation._texts_of(cents, comma=True) == [e.replace(".", ",") for e in expected]


def test_a_form_without_budget_shows_the_amounts_requested_as_the_budget(
    db_engine: Engine, demo: date
) -> None:
    from sqlalchemy import update

    from aap.models import Cofinancement, Dossier

    campaign = generate(db_engine, 6, 3, today=demo)
    with Session(db_engine) as session:
        # the CPO's yearly form has no budget table: the amounts requested stand for it
        session.execute(
            update(Dossier)
            .where(Dossier.campaign_id == campaign.id)
            .values(form_code="cpo_annuel", budget_total=None)
        )
        session.commit()
        requested = {
            number: sum(amounts)
            for number, amounts in _requested(session, campaign.id, Cofinancement, Dossier).items()
        }
        user = session.scalar(select(User).where(User.email == INSTRUCTEUR))
        assert user is not None
        table = programmation.open_table(session, user, campaign.id, programmation.parse_states("tous"))
        body = b"".join(programmation.csv_stream(session, user, table, chunk=4)).decode("utf-8-sig")
        expected_sums = programmation.sql_sums(session, user, table)
    header, *rows = list(csv.reader(io.StringIO(body), delimiter=";"))
    budget = header.index("Budget total")
    by_number = {row[0]: row[budget] for row in rows if not row[0].startswith(("Sous-total", "Total"))}
    assert by_number == {n: f"{amount:.2f}".replace(".", ",") for n, amount in requested.items()}
    assert rows[-1][budget] == f"{expected_sums['budget_total']:.2f}".replace(".", ",")


def _requested(session: Session, campaign_id: int, line: type, dossier: type) -> dict[str, list]:
    out: dict[str, list] = {}
    for number, amount in session.execute(
        select(dossier.number, line.montant_demande)
        .join(line, line.dossier_id == dossier.id)
        .where(dossier.campaign_id == campaign_id)
    ):
        out.setdefault(number, []).append(amount)
    return out
