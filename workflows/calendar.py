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
    """A calendar file that does not make sense; the message says where."""


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


def _ref(text: object, known: set[str], where: str) -> DateRef:
    match = _REF.match(str(text))
    if not match or match.group(1) not in known:
        raise CalendarError(f"{where}: « {text} » ne désigne pas une date du calendrier")
    name, sign, days = match.groups()
    offset = int(days or 0) * (-1 if sign == "-" else 1)
    return DateRef(name, offset)


def parse_calendar(data: Any, source: str = "calendar") -> Calendar:
    """A Calendar from its YAML/JSON shape (see ``calendars/annuel.yaml``); errors name their location."""
    if not isinstance(data, dict):
        raise CalendarError(f"{source}: un calendrier doit être un objet")
    try:
        code, label, raw_dates = str(data["code"]), str(data["label"]), data["dates"]
        raw_phases = data["phases"]
    except KeyError as missing:
        raise CalendarError(f"{source}: clé obligatoire absente : {missing}") from None
    if not isinstance(raw_dates, dict) or not isinstance(raw_phases, list) or not raw_phases:
        raise CalendarError(f"{source}: `dates` doit être un objet et `phases` une liste non vide")
    known = set(raw_dates)
    labels = {name: str((spec or {}).get("label", name)) for name, spec in raw_dates.items()}
    required = tuple(n for n, s in raw_dates.items() if (s or {}).get("required"))
    optional = tuple(n for n in raw_dates if n not in required)
    order = []
    for i, chain in enumerate(data.get("order") or []):
        unknown = [n for n in chain if n not in known]
        if unknown:
            raise CalendarError(f"{source}: order[{i}]: dates inconnues {unknown}")
        order.append(tuple(chain))
    phases = []
    for i, raw in enumerate(raw_phases):
        where = f"{source}: phases[{i}]"
        if not isinstance(raw, dict) or "code" not in raw:
            raise CalendarError(f"{where}: une phase a un `code` et un `label`")
        refs = tuple(_ref(r, known, where) for r in raw.get("starts_at") or ())
        if i > 0 and not refs:
            raise CalendarError(f"{where}: seule la première phase peut n'avoir pas de `starts_at`")
        phases.append(
            Phase(str(raw["code"]), str(raw.get("label", raw["code"])), refs[0].name if refs else None, refs)
        )
    codes = [p.code for p in phases]
    if len(set(codes)) != len(codes):
        raise CalendarError(f"{source}: codes de phase en double")
    return Calendar(code, label, tuple(phases), required, optional, labels, tuple(order))


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
