"""The demo's two appels à projets, dated from today so the demo never goes stale.

- the open annual call of year N (N = the year of its validation): its dépôt window contains
  today;
- the previous year's call (N-1), validated, whose conventioned dossiers' bilans are due in two
  weeks.

Both are dicts in the campaign file format (``docs/territory-files.md``), checked by
``aap.rules_files.parse_campaign``, for the territory ``aap/demo/territory_dlva.yaml``.

Dates follow the calendar type ``annuel`` (``workflows/calendars/annuel.yaml``): the
focus bénéficiaires, which evaluates the year before, comes first, before the lancement.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

TERRITORY = "dlva"
FORM = {"code": "guichet_unique", "version": 1}

# Envelopes in euros for the two QPV of Manosque (4 400 inhabitants): État programme 147 first.
_ENVELOPES: dict[str, tuple[str, str]] = {
    #          previous call, open call
    "ETAT": ("82000.00", "86500.00"),
    "DLVA": ("55000.00", "58000.00"),
    "MANOSQUE": ("45000.00", "45000.00"),
    "CAF": ("22000.00", "24500.00"),
}


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _campaign(year: int, dates: dict[str, date], envelope_index: int) -> dict[str, Any]:
    return {
        "territory": TERRITORY,
        "code": f"{TERRITORY}-{year}-fonctionnement",
        "kind": "fonctionnement",
        "year": year,
        "title": f"Appel à projets {year} du contrat de ville DLVAgglo – Manosque",
        "calendar": "annuel",
        "dates": {name: value.isoformat() for name, value in dates.items()},
        "form": dict(FORM),
        "completion_apres_cloture": False,
        "financeurs": [
            {"code": code, "enveloppe": amounts[envelope_index]} for code, amounts in _ENVELOPES.items()
        ],
    }


def demo_campaigns(today: date) -> list[dict[str, Any]]:
    """[open call of year N, previous call of year N-1], as campaign file dicts."""
    d = timedelta
    validation = today + d(days=100)
    year = validation.year
    open_dates = {
        "focus_beneficiaires": today - d(days=40),
        "lancement": today - d(days=30),
        "depot_ouverture": today - d(days=20),
        "depot_cloture": today + d(days=30),
        "comite_technique": today + d(days=70),
        "validation": validation,
        "bilan_limite": date(year + 1, 6, 30),
    }
    previous_dates = {name: _year_before(value) for name, value in open_dates.items()}
    # Its bilans are due soon, whatever the season: that is what the demo shows.
    previous_dates["bilan_limite"] = today + d(days=14)
    return [
        _campaign(year, open_dates, 1),
        _campaign(year - 1, previous_dates, 0),
    ]
