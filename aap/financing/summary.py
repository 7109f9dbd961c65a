"""The campaign totals kept as they change, so the staff dashboard and `/totaux` do not read every line.

`campaign_sums` and `campaign_delays` (`aap.models.CampaignSum`, `CampaignDelay`) hold, per campaign,
what `aap.financing.totaux` would compute from the counted dossiers with its grouped queries: the
lines' amounts per orientation or QPV and financer, the dossiers counted per code, the histograms of
the délais. They are kept in the transaction that changes them, by one session hook whatever the
service that writes: before a flush that touches what the totals read (a dossier entering or leaving
the counted states, its answers, dates or orientation; a financing line's amounts, decision or date;
a payment), the touched dossiers' share is read with the same grouped queries restricted to them;
after the flush, again; the difference is added to the stored rows. A state change inside the
counted states (`prendre_en_instruction`…) touches nothing and costs no statement.

Bulk writers that bypass the ORM (`aap bench generate`, the migration that creates the tables) call
`rebuild`. `check` compares the stored totals with a fresh computation (tests).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, event, inspect, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from aap.dossiers.search_columns import facts_of
from aap.financing import totaux
from aap.models import CampaignDelay, CampaignSum, Cofinancement, Dossier, Payment

COUNT = 0  # `financeur_id` of the rows that count dossiers
# `dim` of each financer's accorded lines (`n`) and money (`accorde`), whatever the orientation or QPV:
# the CPO share's totals (`aap.financing.totaux.kept_accorded`)
ACCORDED = "a"
AMOUNTS = ("demande", "propose", "accorde", "paye")
DOSSIER_FIELDS = (
    "campaign_id",
    "orientation_code",
    "deposited_at",
    "decided_at",
    "conventionne_at",
)
LINE_FIELDS = (
    "dossier_id",
    "financeur_id",
    "montant_demande",
    "montant_propose",
    "decision",
    "montant_accorde",
    "decided_at",
    "payments",  # a payment appended to the line's collection
)
_BEFORE = "aap_summary_before"

SumKey = tuple[int, str, str, int]  # campaign, dim, code, financer (COUNT: dossiers)
DelayKey = tuple[int, str, int]  # campaign, kind, days


class Share:
    """What some dossiers add to their campaigns' totals (integers: cents and counts)."""

    def __init__(self) -> None:
        self.sums: dict[SumKey, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
        self.delays: dict[DelayKey, int] = defaultdict(int)

    def minus(self, other: Share) -> Share:
        out = Share()
        for key in set(self.sums) | set(other.sums):
            a, b = self.sums.get(key, [0] * 5), other.sums.get(key, [0] * 5)
            diff = [x - y for x, y in zip(a, b, strict=True)]
            if any(diff):
                out.sums[key] = diff
        for dkey in set(self.delays) | set(other.delays):
            d = self.delays.get(dkey, 0) - other.delays.get(dkey, 0)
            if d:
                out.delays[dkey] = d
        return out


def _cents(amount: Any) -> int:
    return int(round(amount * 100))


def share(session: Session, campaign_id: int, dossier_ids: Iterable[int] | None = None) -> Share:
    """The counted dossiers' share of a campaign's totals (all of them, or only `dossier_ids`), by the
    grouped queries of `aap.financing.totaux`."""
    where: list[Any] = [Dossier.state.in_(totaux.COUNTED_STATES)]
    if dossier_ids is None:
        where.append(Dossier.campaign_id == campaign_id)
    else:  # by their ids only (the primary key, not the campaign's index): they are of this campaign
        where.append(Dossier.id.in_(sorted(set(dossier_ids))))
    scope = totaux.Scope(where=where)
    out = Share()
    for dim, by_qpv in (("o", False), ("q", True)):
        for (code, fid), s in totaux.line_groups(session, scope, by_qpv=by_qpv).items():
            out.sums[(campaign_id, dim, code or "", fid)] = [
                s.dossiers,
                *(_cents(getattr(s, k)) for k in AMOUNTS),
            ]
            if dim == "o" and s.accordees:  # every line once: its financer's accorded lines
                kept = out.sums[(campaign_id, ACCORDED, "", fid)]
                kept[0] += s.accordees
                kept[3] += _cents(s.accorde)
        for code, n in totaux.dossier_counts(session, scope, by_qpv=by_qpv).items():
            out.sums[(campaign_id, dim, code or "", COUNT)][0] += n
    for kind, histogram in totaux.delay_histograms(session, scope).items():
        for days, n in histogram.items():
            out.delays[(campaign_id, kind, days)] += n
    return out


def _upsert(session: Session, model: Any) -> Any:
    return (pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(model)


def apply(session: Session, delta: Share) -> None:
    """Adds a difference to the stored rows, in key order (two transactions lock rows in one order)."""
    if delta.sums:
        stmt = _upsert(session, CampaignSum)
        stmt = stmt.on_conflict_do_update(
            index_elements=["campaign_id", "dim", "code", "financeur_id"],
            set_={k: getattr(CampaignSum, k) + getattr(stmt.excluded, k) for k in ("n", *AMOUNTS)},
        )
        rows = [
            {
                "campaign_id": c,
                "dim": dim,
                "code": code,
                "financeur_id": fid,
                **dict(zip(("n", *AMOUNTS), values, strict=True)),
            }
            for (c, dim, code, fid), values in sorted(delta.sums.items())
        ]
        session.connection().execute(stmt, rows)
    if delta.delays:
        dstmt = _upsert(session, CampaignDelay)
        dstmt = dstmt.on_conflict_do_update(
            index_elements=["campaign_id", "kind", "days"], set_={"n": CampaignDelay.n + dstmt.excluded.n}
        )
        session.connection().execute(
            dstmt,
            [
                {"campaign_id": c, "kind": k, "days": d, "n": n}
                for (c, k, d), n in sorted(delta.delays.items())
            ],
        )


def rebuild(session: Session, campaign_id: int) -> None:
    """The campaign's stored totals computed afresh (after bulk writes that bypass the session hook)."""
    session.execute(delete(CampaignSum).where(CampaignSum.campaign_id == campaign_id))
    session.execute(delete(CampaignDelay).where(CampaignDelay.campaign_id == campaign_id))
    apply(session, share(session, campaign_id))


def stored(session: Session, campaign_id: int) -> Share:
    out = Share()
    for r in session.execute(
        select(CampaignSum).where(CampaignSum.campaign_id == campaign_id, CampaignSum.n != 0)
    ).scalars():
        out.sums[(r.campaign_id, r.dim, r.code, r.financeur_id)] = [r.n, *(getattr(r, k) for k in AMOUNTS)]
    for d in session.execute(
        select(CampaignDelay).where(CampaignDelay.campaign_id == campaign_id, CampaignDelay.n != 0)
    ).scalars():
        out.delays[(d.campaign_id, d.kind, d.days)] = d.n
    return out


def check(session: Session, campaign_id: int) -> Share:
    """The difference between the stored totals and a fresh computation (empty when they agree)."""
    return stored(session, campaign_id).minus(share(session, campaign_id))


# --- the session hook ----------------------------------------------------------------------------


def _changed(obj: Any, fields: Iterable[str]) -> bool:
    attrs = inspect(obj).attrs
    return any(attrs[f].history.has_changes() for f in fields)


def _counted(state: Any) -> bool:
    return state in totaux.COUNTED_STATES


def _dossier_touched(session: Session, obj: Dossier) -> bool:
    if obj.id is None:
        return False  # new: its share is all after the flush
    history = inspect(obj).attrs.state.history
    before = history.deleted[0] if history.deleted else obj.state
    if obj in session.deleted or _counted(before) != _counted(obj.state):
        return True
    return _counted(obj.state) and (_changed(obj, DOSSIER_FIELDS) or _places_changed(obj))


def _places_changed(obj: Dossier) -> bool:
    """New answers that move the dossier to other QPV or another orientation (a piece linked in the
    answers, a comment… moves nothing)."""
    history = inspect(obj).attrs.answers.history
    if not history.has_changes():
        return False
    if not history.deleted:
        return True  # the former answers were not loaded: assume they moved

    def places(answers: Any) -> tuple[tuple[str, ...], str | None]:
        facts = facts_of(
            Dossier(form_code=obj.form_code, form_version=obj.form_version, answers=answers or {})
        )
        return facts.qpvs, facts.orientation

    try:
        return places(history.deleted[0]) != places(obj.answers)
    except Exception:  # a form no longer shipped: recount rather than guess
        return True


def _line_dossiers(session: Session, obj: Cofinancement) -> set[int]:
    dossier = inspect(obj).attrs.dossier.loaded_value
    if isinstance(dossier, Dossier) and not (_counted(dossier.state) or _changed(dossier, ("state",))):
        return set()  # a draft's line (autosave): not counted before nor after
    if not (obj in session.new or obj in session.deleted or _changed(obj, LINE_FIELDS)):
        return set()
    ids = {i for i in (obj.dossier_id, *inspect(obj).attrs.dossier_id.history.deleted) if i is not None}
    if isinstance(dossier, Dossier) and dossier.id is not None:
        ids.add(dossier.id)
    return ids


def _payment_lines(session: Session, obj: Payment) -> set[int]:
    """A new payment without its line's id was appended to the line's `payments`: seen there."""
    if not (obj in session.new or obj in session.deleted or _changed(obj, ("montant", "paid_on"))):
        return set()
    return {i for i in (obj.cofinancement_id, *inspect(obj).attrs.cofinancement_id.history.deleted) if i}


def _touched(session: Session) -> set[int]:
    """The dossiers whose share of the totals this flush may change (ids known before the flush)."""
    ids: set[int] = set()
    line_ids: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Dossier) and _dossier_touched(session, obj):
            ids.add(obj.id)
        elif isinstance(obj, Cofinancement):
            ids |= _line_dossiers(session, obj)
        elif isinstance(obj, Payment):
            line_ids |= _payment_lines(session, obj)
    if line_ids:
        ids |= set(session.scalars(select(Cofinancement.dossier_id).where(Cofinancement.id.in_(line_ids))))
    return ids


def _by_campaign(session: Session, ids: set[int]) -> dict[int, set[int]]:
    """The counted ones among these dossiers, by campaign (the others have no share)."""
    out: dict[int, set[int]] = defaultdict(set)
    for dossier_id, campaign_id in session.execute(
        select(Dossier.id, Dossier.campaign_id).where(
            Dossier.id.in_(sorted(ids)), Dossier.state.in_(totaux.COUNTED_STATES)
        )
    ):
        out[campaign_id].add(dossier_id)
    return out


def _shares(session: Session, ids: set[int]) -> Share:
    total = Share()
    for campaign_id, members in _by_campaign(session, ids).items():
        part = share(session, campaign_id, members)
        for key, values in part.sums.items():
            total.sums[key] = values
        for dkey, n in part.delays.items():
            total.delays[dkey] = n
    return total


def _before_flush(session: Session, _flush: UOWTransaction, _instances: Any) -> None:
    ids = _touched(session)
    # new dossiers get their id in the flush: they had no share before it
    news = [
        o
        for o in session.new
        if isinstance(o, Cofinancement | Payment) or (isinstance(o, Dossier) and _counted(o.state))
    ]
    if not ids and not news:
        return
    session.info[_BEFORE] = (ids, _shares(session, ids) if ids else Share(), news)


def _after_flush(session: Session, _flush: UOWTransaction) -> None:
    pending = session.info.pop(_BEFORE, None)
    if pending is None:
        return
    ids, before, news = pending
    seen = set(ids)
    new_dossiers: set[int] = set()
    line_ids: set[int] = set()
    for obj in news:
        if isinstance(obj, Dossier) and obj.id is not None:
            new_dossiers.add(obj.id)
        elif isinstance(obj, Cofinancement) and obj.dossier_id is not None:
            ids.add(obj.dossier_id)
        elif isinstance(obj, Payment) and obj.cofinancement_id is not None:
            line_ids.add(obj.cofinancement_id)
    if line_ids:
        ids |= set(session.scalars(select(Cofinancement.dossier_id).where(Cofinancement.id.in_(line_ids))))
    ids -= new_dossiers
    unseen = ids - seen  # their share before this flush was not read: their campaigns are recounted
    if unseen:
        for campaign_id in _by_campaign(session, unseen):
            rebuild(session, campaign_id)
        return
    ids |= new_dossiers
    if not ids:
        return
    delta = _shares(session, ids).minus(before)
    if delta.sums or delta.delays:
        apply(session, delta)


def _bulk_statement(state: ORMExecuteState) -> Any:
    """An UPDATE or DELETE statement on dossiers, lines or payments (not an object's flush): the
    campaigns it reaches are recounted after it."""
    if not (state.is_update or state.is_delete) or state.bind_mapper is None:
        return None
    model = state.bind_mapper.class_
    if model not in (Dossier, Cofinancement, Payment):
        return None
    where = getattr(state.statement, "whereclause", None)
    reached = select(Dossier.campaign_id).distinct()
    if model is not Dossier:
        reached = reached.join(Cofinancement, Cofinancement.dossier_id == Dossier.id)
    if model is Payment:
        reached = reached.join(Payment, Payment.cofinancement_id == Cofinancement.id)
    if where is not None:
        reached = reached.where(where)
    if (
        model is Dossier and state.is_delete
    ):  # deleting dossiers the totals never counted (drafts) changes nothing
        reached = reached.where(Dossier.state.in_(totaux.COUNTED_STATES))
    campaigns = set(state.session.scalars(reached))
    result = state.invoke_statement()
    for campaign_id in sorted(campaigns):
        rebuild(state.session, campaign_id)
    return result


def install() -> None:
    """Keep the totals in every session's writing transaction (the composition root calls it once)."""
    for name, listener in (
        ("before_flush", _before_flush),
        ("after_flush", _after_flush),
        ("do_orm_execute", _bulk_statement),
    ):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
