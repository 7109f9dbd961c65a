"""psycopg cursors whose `description` makes its `Column` objects only when something reads one.

psycopg builds one `Column` per column of the result every time `cursor.description` is read, in
Python. SQLAlchemy reads it after every statement, to learn whether rows came back, and then, for the
statements it has compiled before (all of the app's, once warm), uses the result's shape it keeps
with the compiled statement, without looking at a single column. A dossier's read joins its
organisation, campaign, lines, financers and payments: about a hundred columns, a hundred objects
made and thrown away per statement, 11 % of the client's instructions in a transition (callgrind,
PostgreSQL: 9.42 M → 8.34 M per `prendre_en_instruction`).

`LazyColumns` answers the length at once and makes the columns at the first index asked, from the
result it was given (the cursor may have run another statement by then). Server-side cursors (the
streamed exports) are psycopg's own: they read few, large results.
"""

from collections.abc import Iterator, Sequence
from typing import Any, overload

import psycopg
from psycopg.pq import ExecStatus
from sqlalchemy import Engine, event

_ROWS = (ExecStatus.TUPLES_OK, ExecStatus.SINGLE_TUPLE, ExecStatus.TUPLES_CHUNK)


class _ResultOf:
    """What `psycopg.Column` reads from its cursor, kept from the moment the description was asked."""

    __slots__ = ("_encoding", "adapters", "pgresult")

    def __init__(self, cursor: psycopg.Cursor[Any]):
        self.pgresult = cursor.pgresult
        self._encoding = cursor._encoding
        self.adapters = cursor.adapters


class LazyColumns(Sequence[psycopg.Column]):
    __slots__ = ("_columns", "_count", "_result")

    def __init__(self, cursor: psycopg.Cursor[Any], count: int):
        self._result = _ResultOf(cursor)
        self._count = count
        self._columns: list[psycopg.Column] | None = None

    def _made(self) -> list[psycopg.Column]:
        if self._columns is None:
            self._columns = [psycopg.Column(self._result, i) for i in range(self._count)]  # type: ignore[arg-type]
        return self._columns

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> psycopg.Column: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[psycopg.Column]: ...
    def __getitem__(self, index: int | slice) -> psycopg.Column | Sequence[psycopg.Column]:
        return self._made()[index]

    def __iter__(self) -> Iterator[psycopg.Column]:
        return iter(self._made())


class Cursor(psycopg.Cursor[Any]):
    @property
    def description(self) -> Sequence[psycopg.Column] | None:  # type: ignore[override]
        """psycopg's rule for when there is a description (rows, or a statement that said it returns
        rows but has no column), its columns made on demand."""
        result = self.pgresult
        if result and (result.nfields or result.status in _ROWS):
            return LazyColumns(self, result.nfields)
        return None


def install(engine: Engine) -> None:
    """Every new connection of `engine` (psycopg) makes its client cursors of this class."""

    @event.listens_for(engine, "connect")
    def _lazy_description(dbapi_conn: psycopg.Connection[Any], _record: Any) -> None:
        dbapi_conn.cursor_factory = Cursor
