"""Campaign calendars as data: each type is a YAML file under ``calendars/``, so a territory with its own
rhythm needs a file, not code. The phase of a campaign is derived from its dates and today's date only,
so it never needs to be stored nor moved by a job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from workflows.reasons import Reason, fr_date

__all__ = [
    "Calendar",
    "CalendarError",
    "CalendarNotFound",
    "DateRef",
    "Phase",
    "add_calendar_dir",
    "calendar_codes",
    "load_calendar",
    "parse_calendar",
]

CALENDARS_DIR = Path(__file__).parent / "calendars"
# Where calendar types are looked for: the shipped ones, then those a territory loaded
# (`aap calendar load`, under AAP_DATA_DIR), added by the application at start (`add_calendar_dir`).
CALENDAR_DIRS: list[Path] = [CALENDARS_DIR]
_CODE = re.compile(r"^[a-z0-9_]+$")
_REF = re.compile(r"^\s*([a-z_][a-z0-9_]*)\s*(?:([+-])\s*(\d+)\s*)?$")


class CalendarNotFound(KeyError):
    """No calendar type with this code."""


class CalendarError(ValueError):
    """A calendar file that does not make sense; the message says where. `problems`: every mistake found,
    as (path in the file, French message)."""

    def __init__(self, message: str, problems: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.problems = problems if problems is not None else [("", message)]


@dataclass(frozen=True)
class DateRef:
    """A day relative to a named date of the campaign, e.g. ``depot_cloture + 1``."""

    name: str
    offset_days: int = 0

    def resolve(self, dates: dict[str, date]) -> date | None:
        day = dates.get(self.name)
        return None if day is None else day + timedelta(days=self.offset_days)


@dataclass(frozen=True)
class Phase:
    """A step of the campaign. `starts_at` is the date name that opens it (None for the first phase);
    `start_refs` are the candidates tried in order, the first given date wins."""

    code: str
    label: str
    starts_at: str | None
    start_refs: tuple[DateRef, ...] = ()

    def start(self, dates: dict[str, date]) -> tuple[date, DateRef] | tuple[None, None]:
        """The first day of this phase, and the reference that gave it."""
        for ref in self.start_refs:
            day = ref.resolve(dates)
            if day is not None:
                return day, ref
        return None, None


@dataclass(frozen=True)
class Calendar:
    """A calendar type: its phases in order, the dates a campaign gives, and how they must be ordered."""

    code: str
    label: str
    phases: tuple[Phase, ...]
    required_dates: tuple[str, ...]
    optional_dates: tuple[str, ...]
    date_labels: dict[str, str]
    order: tuple[tuple[str, ...], ...]

    @property
    def date_names(self) -> tuple[str, ...]:
        return self.required_dates + self.optional_dates

    def date_label(self, name: str) -> str:
        return self.date_labels.get(name, name)

    def validate_dates(self, dates: dict[str, Any]) -> list[Reason]:
        """Every problem with a campaign's dates: unknown names, missing required ones, wrong order."""
        reasons: list[Reason] = []
        known = set(self.date_names)
        for name, value in dates.items():
            if name not in known:
                reasons.append(
                    Reason(
                        "unknown_date",
                        f"La date « {name} » n'est pas prévue par le calendrier « {self.label} » "
                        f"(dates possibles : {', '.join(self.date_names)}).",
                        name,
                    )
                )
            elif value is not None and not isinstance(value, date):
                reasons.append(
                    Reason("date_invalid", f"« {self.date_label(name)} » n'est pas une date valide.", name)
                )
        reasons += [
            Reason("date_required", f"La date « {self.date_label(name)} » est obligatoire.", name)
            for name in self.required_dates
            if dates.get(name) is None
        ]
        good = _days(dates)
        seen: set[tuple[str, str]] = set()
        for chain in self.order:
            given = [name for name in chain if name in good]
            for before, after in zip(given, given[1:], strict=False):
                if good[after] < good[before] and (before, after) not in seen:
                    seen.add((before, after))
                    reasons.append(
                        Reason(
                            "date_order",
                            f"« {self.date_label(after)} » ({fr_date(good[after])}) ne peut pas précéder "
                            f"« {self.date_label(before)} » ({fr_date(good[before])}).",
                            after,
                        )
                    )
        return reasons

    def _spans(self, dates: dict[str, Any]) -> list[tuple[Phase, date | None, date | None, str | None]]:
        """(phase, first day, last day, date name used) of every phase that lasts at least a day, in order.

        Starts never go backwards (a phase cannot open before the previous one), and a phase whose
        dates are not given, or that a later phase overtakes, is left out.
        """
        good = _days(dates)
        starts: list[tuple[Phase, date | None, str | None]] = []
        floor: date | None = None
        for phase in self.phases:
            start, ref = phase.start(good)
            if phase is not self.phases[0] and start is None:
                continue
            if start is not None and floor is not None:
                start = max(start, floor)
            floor = start if start is not None else floor
            if starts and starts[-1][1] == start:
                starts.pop()  # overtaken: zero days long
            starts.append((phase, start, ref.name if ref else None))
        spans: list[tuple[Phase, date | None, date | None, str | None]] = []
        for i, (phase, start, name) in enumerate(starts):
            nxt = starts[i + 1][1] if i + 1 < len(starts) else None
            spans.append((phase, start, None if nxt is None else nxt - timedelta(days=1), name))
        return spans

    def phase_on(self, dates: dict[str, Any], today: date) -> Phase:
        """The phase a campaign with these dates is in on `today`."""
        if isinstance(today, datetime):
            today = today.date()
        current = self.phases[0]
        for phase, start, _end, _name in self._spans(dates):
            if start is None or start <= today:
                current = phase
        return current

    def timeline(self, dates: dict[str, Any], today: date) -> list[dict[str, Any]]:
        """The phases with `start`/`end` (dates, None when open-ended) and a `status` for a page to draw:
        ``passee``, ``en_cours`` or ``a_venir``; `starts_at` is the date name that opened it."""
        if isinstance(today, datetime):
            today = today.date()
        rows = []
        for phase, start, end, name in self._spans(dates):
            if end is not None and end < today:
                status = "passee"
            elif start is None or start <= today:
                status = "en_cours"
            else:
                status = "a_venir"
            rows.append(
                {
                    "code": phase.code,
                    "label": phase.label,
                    "starts_at": name,
                    "start": start,
                    "end": end,
                    "status": status,
                }
            )
        return rows


def _days(dates: dict[str, Any]) -> dict[str, date]:
    """The well-formed dates only (datetimes count as their day), so a bad value cannot crash a page."""
    out: dict[str, date] = {}
    for name, value in dates.items():
        if isinstance(value, datetime):
            out[name] = value.date()
        elif isinstance(value, date):
            out[name] = value
    return out


def _ref(text: object, known: set[str]) -> DateRef | str:
    """The reference, or why it is refused (the accepted date names listed)."""
    match = _REF.match(str(text))
    if not match or match.group(1) not in known:
        accepted = ", ".join(sorted(known)) or "aucune"
        return (
            f"« {text} » ne désigne pas une date du calendrier (dates possibles : {accepted} ; "
            "par ex. « depot_cloture + 1 »)"
        )
    name, sign, days = match.groups()
    offset = int(days or 0) * (-1 if sign == "-" else 1)
    return DateRef(name, offset)


Problems = list[tuple[str, str]]


def _accepted(known: set[str]) -> str:
    return ", ".join(sorted(known)) or "aucune"


def _parse_dates(data: dict[str, Any], problems: Problems) -> dict[str, dict[str, Any]]:
    raw = data.get("dates")
    if raw is not None and not isinstance(raw, dict):
        problems.append(("dates", "bloc de dates attendu (une ligne « nom: {label: …} » par date)"))
    raw = raw if isinstance(raw, dict) else {}
    for name, spec in raw.items():
        if not _CODE.match(str(name)):
            problems.append((f"dates.{name}", "nom de date : minuscules, chiffres et « _ » seulement"))
        if spec is not None and not isinstance(spec, dict):
            problems.append((f"dates.{name}", "bloc attendu, par ex. « {label: Clôture, required: true} »"))
    return {str(n): (spec if isinstance(spec, dict) else {}) for n, spec in raw.items()}


def _parse_order(data: dict[str, Any], known: set[str], problems: Problems) -> tuple[tuple[str, ...], ...]:
    raw = data.get("order") or []
    if not isinstance(raw, list):
        problems.append(("order", "liste de suites de dates attendue"))
        return ()
    order = []
    for i, chain in enumerate(raw):
        if not isinstance(chain, list):
            problems.append(
                (f"order[{i}]", "suite de dates attendue, par ex. « [depot_ouverture, depot_cloture] »")
            )
            continue
        problems.extend(
            (f"order[{i}][{j}]", f"date inconnue « {name} » (dates possibles : {_accepted(known)})")
            for j, name in enumerate(chain)
            if str(name) not in known
        )
        order.append(tuple(str(n) for n in chain))
    return tuple(order)


def _parse_phase(i: int, raw: Any, known: set[str], problems: Problems) -> Phase | None:
    where = f"phases[{i}]"
    if not isinstance(raw, dict) or not raw.get("code"):
        problems.append((where, "une phase a un `code` et un `label`"))
        return None
    code = str(raw["code"])
    raw_refs = raw.get("starts_at") or []
    raw_refs = raw_refs if isinstance(raw_refs, list) else [raw_refs]
    refs: list[DateRef] = []
    for j, text in enumerate(raw_refs):
        ref = _ref(text, known)
        if isinstance(ref, str):
            problems.append((f"{where}.starts_at[{j}]", ref))
        else:
            refs.append(ref)
    if i > 0 and not raw_refs:
        problems.append((where, "seule la première phase peut n'avoir pas de `starts_at`"))
    return Phase(code, str(raw.get("label", code)), refs[0].name if refs else None, tuple(refs))


def _parse_phases(data: dict[str, Any], known: set[str], problems: Problems) -> tuple[Phase, ...]:
    raw = data.get("phases")
    if raw is not None and (not isinstance(raw, list) or not raw):
        problems.append(("phases", "liste non vide de phases attendue (lignes commençant par « - »)"))
    phases: list[Phase] = []
    first: dict[str, int] = {}
    for i, item in enumerate(raw if isinstance(raw, list) else []):
        phase = _parse_phase(i, item, known, problems)
        if phase is None:
            continue
        if phase.code in first:
            problems.append(
                (
                    f"phases[{i}].code",
                    f"code de phase en double « {phase.code} » (déjà phases[{first[phase.code]}])",
                )
            )
        first.setdefault(phase.code, i)
        phases.append(phase)
    return tuple(phases)


def parse_calendar(data: Any, source: str = "calendar") -> Calendar:
    """A Calendar from its YAML/JSON shape (see ``calendars/annuel.yaml``). Every mistake is reported at
    once: `CalendarError.problems` holds (path, message) pairs, e.g. ``("phases[2].starts_at[0]", …)``."""
    problems: Problems = []
    if not isinstance(data, dict):
        problems.append(("", "un calendrier doit être un objet (« code: … », « label: … », « dates: … »…)"))
    else:
        problems.extend(
            (key, "champ obligatoire")
            for key in ("code", "label", "dates", "phases")
            if data.get(key) in (None, "")
        )
        code, label = str(data.get("code") or ""), str(data.get("label") or "")
        if code and not _CODE.match(code):
            problems.append(
                ("code", f"« {code} » : minuscules, chiffres et « _ » seulement (ex. quartiers_ete)")
            )
        raw_dates = _parse_dates(data, problems)
        known = set(raw_dates)
        order = _parse_order(data, known, problems)
        phases = _parse_phases(data, known, problems)
    if problems:
        lines = "\n".join(f"{source}: {p}: {m}" if p else f"{source}: {m}" for p, m in problems)
        raise CalendarError(lines, problems)
    labels = {name: str(spec.get("label", name)) for name, spec in raw_dates.items()}
    required = tuple(n for n, spec in raw_dates.items() if spec.get("required"))
    optional = tuple(n for n in raw_dates if n not in required)
    return Calendar(code, label, phases, required, optional, labels, order)


def add_calendar_dir(path: Path) -> None:
    """Also look for calendar types in `path` (after the shipped ones, which a file never replaces)."""
    if path not in CALENDAR_DIRS:
        CALENDAR_DIRS.append(path)
        load_calendar.cache_clear()


@cache
def load_calendar(code: str) -> Calendar:
    """The calendar type `code`, read once from ``<dir>/<code>.yaml``, the first of `CALENDAR_DIRS`."""
    path = next((d / f"{code}.yaml" for d in CALENDAR_DIRS if (d / f"{code}.yaml").is_file()), None)
    if not _CODE.match(code) or path is None:
        raise CalendarNotFound(code)
    calendar = parse_calendar(yaml.safe_load(path.read_text(encoding="utf-8")), path.name)
    if calendar.code != code:
        raise CalendarError(f"{path.name}: le code « {calendar.code} » ne correspond pas au nom du fichier")
    return calendar


def calendar_codes() -> list[str]:
    """The calendar types known: shipped with the application, then loaded by territories."""
    return sorted({p.stem for d in CALENDAR_DIRS for p in d.glob("*.yaml")})
