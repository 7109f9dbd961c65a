"""One cron pass (`aap notifications run`): fire the time-driven transitions, record the reminders and
digests due today under their unique keys, deliver what is pending.

Safe to run twice, or several at once: the transitions re-check the state under a row lock, the outbox
keys make a second insert a no-op, and delivery claims each message under a lease. A pass that
crashes half-way is repaired by the next one: nothing it recorded is lost (committed) and nothing it
did not record is remembered as done.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from aap.cpo import cycle as cpo_cycle
from aap.dossiers.service import advance
from aap.settings import Settings
from notifications import render
from notifications.commune_reminders import record_commune_reminders
from notifications.delivery import DeliveryReport, deliver
from notifications.outbox import Message, disabled, existing_item_keys, existing_keys, link_dossiers, record
from notifications.query import (
    DossierRow,
    PendingLine,
    Recipient,
    agents_of,
    dossier_rows,
    in_zones,
    pending_lines,
    recipients_for,
    zone_days,
)
from notifications.query import due_occurrences as query_due
from notifications.rules import DueOccurrence, Rule, RulesFile, default_rules
from notifications.scheduled import PASSES
from workflows.dossier import STATE_LABELS
from workflows.labels import EVENT_LABELS, PAST_TRANSITION_LABELS
from workflows.money import format_euros
from workflows.reasons import fr_date


@dataclass
class PassSummary:
    now: datetime
    expired: int = 0
    cpo: dict[str, int] = field(default_factory=dict)
    recorded: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    digests: int = 0
    delivery: DeliveryReport = field(default_factory=DeliveryReport)

    @property
    def recorded_total(self) -> int:
        return sum(self.recorded.values())

    def text(self) -> str:
        """The French summary printed by `aap notifications run`."""
        lines = [
            f"Passe du {fr_date(self.now.date())} à {self.now.strftime('%H:%M')} ({self.now.tzname()}) :"
        ]
        lines.append(f"- {self.expired} brouillon(s) passé(s) à « non déposé » (dépôt clos)")
        if self.cpo.get("cpo_dossiers_annuels") or self.cpo.get("cpo_transitions"):
            lines.append(
                f"- CPO : {self.cpo.get('cpo_dossiers_annuels', 0)} dossier(s) annuel(s) créé(s), "
                f"{self.cpo.get('cpo_transitions', 0)} CPO commencée(s) ou échue(s)"
            )
        lines.append(
            f"- {self.recorded_total} rappel(s) enregistré(s)"
            + (
                " : " + ", ".join(f"{k} {v}" for k, v in sorted(self.recorded.items()))
                if self.recorded
                else ""
            )
        )
        lines.append(f"- {self.digests} récapitulatif(s) quotidien(s) enregistré(s)")
        d = self.delivery
        if d.skipped_no_smtp:
            lines.append(
                "- AAP_SMTP_URL non défini : aucun envoi, les messages restent en attente "
                "(visibles dans le journal de chaque dossier)"
            )
        else:
            lines.append(
                f"- {d.sent} message(s) envoyé(s), {d.deferred} reporté(s), {d.failed} en échec"
                + (f", {d.expired} périmé(s) non envoyé(s)" if d.expired else "")
            )
        if d.server_error:
            lines.append(f"- {d.server_error} : les messages restent en attente pour une prochaine passe")
        lines.append(f"- {d.pending_left} message(s) en attente au total")
        return "\n".join(lines)


def _factory(bind: Engine | sessionmaker[Session]) -> sessionmaker[Session]:
    if isinstance(bind, sessionmaker):
        return bind
    return sessionmaker(bind=bind, expire_on_commit=False)


def _recipients_by_rule(
    session: Session, occurrences: list[DueOccurrence], rows: dict[int, DossierRow]
) -> dict[str, dict[int, list[Recipient]]]:
    by_kind: dict[str, dict[int, list[Recipient]]] = {}
    for kind in {o.rule.recipients for o in occurrences}:
        ids = {o.dossier_id for o in occurrences if o.rule.recipients == kind}
        by_kind[kind] = recipients_for(session, kind, {i: rows[i] for i in ids if i in rows})
    return by_kind


def _facts(row: DossierRow) -> dict[str, Any]:
    return render.dossier_facts(
        dossier_id=row.id,
        number=row.number,
        title=row.title,
        state=row.state,
        organisation=row.organisation,
        campaign_title=row.campaign_title,
    )


def _due(
    session: Session, rules: list[Rule], today: date, zones: frozenset[str] | None
) -> list[DueOccurrence]:
    """The occurrences of `rules` due `today` in the contracts of `zones` (all of them for None)."""
    return in_zones(session, [o for rule in rules for o in query_due(session, rule, today)], zones)


def record_reminders(
    session: Session,
    rules: list[Rule],
    today: date,
    now: datetime,
    base_url: str,
    zones: frozenset[str] | None = None,
) -> dict[str, int]:
    """One message per (rule, dossier, recipient, occurrence) due today and not yet recorded, for the
    dossiers of the contracts in `zones` (`query.zone_days`; all of them for None)."""
    occurrences = _due(session, rules, today, zones)
    if not occurrences:
        return {}
    rows = dossier_rows(session, {o.dossier_id for o in occurrences})
    people = _recipients_by_rule(session, occurrences, rows)
    off = disabled(session, [r.code for r in rules if r.optional])
    wanted: list[tuple[DueOccurrence, Recipient, str]] = []
    for occ in occurrences:
        for person in people[occ.rule.recipients].get(occ.dossier_id, []):
            if occ.rule.optional and (person.user_id, occ.rule.code) in off:
                continue
            if occ.for_user is not None and person.user_id != occ.for_user:
                continue
            key = occ.rule.item_key(occ.dossier_id, person.user_id, occ.anchor, occ.offset, today)
            wanted.append((occ, person, key))
    known = existing_keys(session, (k for _, _, k in wanted))
    messages = []
    for occ, person, key in wanted:
        if key in known:
            continue
        row = rows[occ.dossier_id]
        ctx = render.context(
            _facts(row),
            base_url=base_url,
            today=today,
            deadline=occ.deadline,
            recipient_name=person.name,
            optional=occ.rule.optional,
            complements_message=row.complements_message or "",
            **dict(occ.facts),
        )
        messages.append(
            Message.to_person(
                occ.rule,
                render.render(occ.rule, ctx),
                key=key,
                person=person,
                dossier_id=occ.dossier_id,
                deadline=occ.deadline,
            )
        )
    created = record(session, sorted(messages, key=lambda m: m.key), now)
    counts: dict[str, int] = defaultdict(int)
    for message in messages:
        if message.key in created:
            counts[message.rule] += 1
    return counts


def _digest_line(
    occ: DueOccurrence,
    row: DossierRow,
    base_url: str,
    today: date,
    lines: list[PendingLine],
    person: Recipient,
    agent_financeurs: dict[int, set[int]],
) -> dict[str, Any]:
    if occ.rule.date_name == "deposited_at":
        when = f"déposé le {fr_date(occ.anchor)} ({render.days_left_text(occ.anchor, today)})"
    elif occ.rule.anchor == "avis.given_at":
        when = f"avis rendu le {fr_date(occ.anchor)}"
    elif occ.rule.anchor == "avis.due_date":
        late = "EN RETARD : " if occ.deadline < today else ""
        when = f"{late}avis attendu le {fr_date(occ.deadline)} ({render.days_left_text(occ.deadline, today)})"
    elif occ.rule.scope == "evenement":
        step = occ.rule.date_name
        label = EVENT_LABELS.get(step) or PAST_TRANSITION_LABELS.get(step, step)
        version = dict(occ.facts).get("version")
        when = f"{label.lower()} le {fr_date(occ.anchor)}" + (f" (version {version})" if version else "")
    else:
        when = f"échéance : {fr_date(occ.deadline)} ({render.days_left_text(occ.deadline, today)})"
    extra = dict(occ.facts).get("avis_services", "")
    if "conventions" in dict(occ.facts):
        extra = f"Convention à faire signer par : {dict(occ.facts)['conventions']}"
    if occ.rule.recipients == "financeurs_concernes":
        mine = [ln for ln in lines if ln.financeur_id in agent_financeurs.get(person.user_id, set())]
        extra = " ; ".join(
            f"{ln.financeur} : demandé {format_euros(ln.montant_demande)}"
            + (f", proposé {format_euros(ln.montant_propose)}" if ln.montant_propose is not None else "")
            for ln in mine
        )
    return {
        "number": row.number,
        "title": row.title or "(dossier sans titre)",
        "organisation": row.organisation,
        "state_label": STATE_LABELS.get(row.state, row.state),
        "when": when,
        "extra": extra,
        "deadline_fr": fr_date(occ.deadline),
        "link": (
            base_url.rstrip("/") + dict(occ.facts)["lien"]
            if "lien" in dict(occ.facts)
            else render.dossier_link(base_url, row.id)
        ),
    }


# one listed line of a digest: the occurrence, and the key that says it was listed
DigestItem = tuple[DueOccurrence, str]


def record_digests(
    session: Session,
    rules: list[Rule],
    today: date,
    now: datetime,
    base_url: str,
    zones: frozenset[str] | None = None,
) -> int:
    """One message per recipient and day, listing every dossier the digest rules bring today (in the
    contracts of `zones`, all for None); a line already listed for the same occurrence (or, for
    `repeat_daily`, the same day) is not repeated."""
    occurrences = _due(session, rules, today, zones)
    if not occurrences:
        return 0
    rows = dossier_rows(session, {o.dossier_id for o in occurrences})
    lines_by_dossier = pending_lines(
        session, {o.dossier_id for o in occurrences if o.rule.recipients == "financeurs_concernes"}
    )
    agent_financeurs = _agent_financeurs(session, lines_by_dossier)
    off = disabled(session, [r.code for r in rules if r.optional])
    per_user, who = _items_per_user(_recipients_by_rule(session, occurrences, rows), occurrences, off, today)
    digest_keys = {uid: f"digest:{today.isoformat()}:u{uid}" for uid in per_user}
    done = existing_keys(session, digest_keys.values())
    listed = existing_item_keys(session, (k for items in per_user.values() for _, k in items))
    order = {rule.code: i for i, rule in enumerate(rules)}
    count = 0
    for uid in sorted(per_user):
        if digest_keys[uid] in done:
            continue
        items = [(occ, key) for occ, key in per_user[uid] if key not in listed]
        if not items:
            continue
        person = who[uid]
        sections: dict[str, dict[str, Any]] = {}
        for occ, _key in sorted(
            items, key=lambda it: (order[it[0].rule.code], rows[it[0].dossier_id].number)
        ):
            section = sections.setdefault(occ.rule.code, {"label": occ.rule.label, "lines": []})
            section["lines"].append(
                _digest_line(
                    occ,
                    rows[occ.dossier_id],
                    base_url,
                    today,
                    lines_by_dossier.get(occ.dossier_id, []),
                    person,
                    agent_financeurs,
                )
            )
        message = _digest_message(digest_keys[uid], person, items, list(sections.values()), base_url, today)
        created = record(session, [message], now)
        if message.key in created:
            link_dossiers(
                session, created[message.key], ((occ.dossier_id, occ.rule.code, key) for occ, key in items)
            )
            count += 1
    return count


def _agent_financeurs(
    session: Session, lines_by_dossier: dict[int, list[PendingLine]]
) -> dict[int, set[int]]:
    """For each agent of a financer with a pending line: the financers it acts for."""
    out: dict[int, set[int]] = defaultdict(set)
    if lines_by_dossier:
        fids = {ln.financeur_id for ls in lines_by_dossier.values() for ln in ls}
        for fid, agents in agents_of(session, fids).items():
            for agent in agents:
                out[agent.user_id].add(fid)
    return out


def _items_per_user(
    people: dict[str, dict[int, list[Recipient]]],
    occurrences: list[DueOccurrence],
    off: set[tuple[int, str]],
    today: date,
) -> tuple[dict[int, list[DigestItem]], dict[int, Recipient]]:
    """Each recipient's lines (but those of optional rules it turned off), and who each recipient is."""
    per_user: dict[int, list[DigestItem]] = defaultdict(list)
    who: dict[int, Recipient] = {}
    for occ in occurrences:
        for person in people[occ.rule.recipients].get(occ.dossier_id, []):
            if occ.rule.optional and (person.user_id, occ.rule.code) in off:
                continue
            if occ.for_user is not None and person.user_id != occ.for_user:
                continue
            who[person.user_id] = person
            per_user[person.user_id].append(
                (occ, occ.rule.item_key(occ.dossier_id, person.user_id, occ.anchor, occ.offset, today))
            )
    return per_user, who


def _digest_message(
    key: str,
    person: Recipient,
    items: list[DigestItem],
    sections: list[dict[str, Any]],
    base_url: str,
    today: date,
) -> Message:
    ctx = render.context(
        {},
        base_url=base_url,
        today=today,
        deadline=None,
        recipient_name=person.name,
        optional=all(occ.rule.optional for occ, _ in items),
    )
    rendered = render.render_digest(sections, ctx)
    return Message(
        key=key,
        rule="digest",
        audience=items[0][0].rule.audience,
        recipient=person.email,
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        user_id=person.user_id,
        dossier_id=None,
        deadline=min(occ.deadline for occ, _ in items),
    )


def run_pass(
    bind: Engine | sessionmaker[Session],
    settings: Settings,
    now: datetime,
    *,
    rules: RulesFile | None = None,
    deliver_messages: bool = True,
) -> PassSummary:
    """`aap notifications run`: advance, record what is due today, deliver. Returns what it did.

    Days are the days of each contract's calendar (its territory's `fuseau`): a pass given a moment in
    UTC (`--now 2027-01-31T23:30:00Z`, that is 1 February 00:30 in Paris) counts 1 February for Manosque
    and 31 January for Cayenne. Its summary prints the moment on the app's clock (`AAP_TIMEZONE`)."""
    factory = _factory(bind)
    rules = rules or default_rules()
    now = now.astimezone(ZoneInfo(settings.timezone))
    summary = PassSummary(now=now)
    with factory() as session:
        summary.expired = advance(session, now)
    with factory() as session:
        summary.cpo = cpo_cycle.run(session, now)
    scheduled = [r for r in rules.scheduled if not r.per_commune]
    reminders = [r for r in scheduled if not r.digest]
    per_commune = [r for r in rules.scheduled if r.per_commune]
    digests = [r for r in scheduled if r.digest]
    with factory() as session:
        for today, zones in zone_days(session, now):
            for counts in (
                record_reminders(session, reminders, today, now, settings.base_url, zones),
                record_commune_reminders(session, per_commune, today, now, settings.base_url, zones),
            ):
                for rule, count in counts.items():
                    summary.recorded[rule] = summary.recorded.get(rule, 0) + count
            summary.digests += record_digests(session, digests, today, now, settings.base_url, zones)
        session.commit()
    for name, run in PASSES.items():
        with factory() as session:
            session.info["data_dir"] = settings.data_dir
            summary.recorded[name] = run(session, now)
    if deliver_messages:
        summary.delivery = deliver(factory, settings, now)
    return summary


def parse_now(value: str | None, clock_now: datetime) -> datetime:
    """`--now`: an ISO-8601 date (that day at 07:00 UTC) or date-time (naive means UTC)."""
    if not value:
        return clock_now
    parsed = datetime.fromisoformat(value)
    if len(value) <= 10:
        parsed = parsed + timedelta(hours=7)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
