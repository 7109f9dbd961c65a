"""The dépôt deadline: one rule for the lifecycle, the edit checks, the pages and the cron pass.

A campaign's dépôt window runs from `depot_ouverture` to `depot_cloture` (both days included); an
instructeur may give one dossier more time (`extension_until`, included), which reopens the window for
that dossier only. The SQL form used by the cron pass is `aap.dossiers.repository.past_depot_deadline`.
"""

from __future__ import annotations

from datetime import date

__all__ = ["depot_closed", "depot_deadline", "depot_open", "extended"]


def extended(today: date, extension_until: date | None) -> bool:
    """The dossier was given more time and that time is not over."""
    return extension_until is not None and today <= extension_until


def depot_deadline(depot_cloture: date, extension_until: date | None = None) -> date:
    """The last day this dossier may be deposited: the campaign's closing day, or its later extension."""
    if extension_until is not None and extension_until > depot_cloture:
        return extension_until
    return depot_cloture


def depot_open(
    today: date, depot_ouverture: date | None, depot_cloture: date | None, extension_until: date | None = None
) -> bool:
    """A dossier may be created, edited as a draft or deposited today."""
    if extended(today, extension_until):
        return True
    return (depot_ouverture is None or depot_ouverture <= today) and (
        depot_cloture is None or today <= depot_cloture
    )


def depot_closed(today: date, depot_cloture: date | None, extension_until: date | None = None) -> bool:
    """The deadline (and any extension) is past: a draft left undeposited expires."""
    return depot_cloture is not None and today > depot_cloture and not extended(today, extension_until)
