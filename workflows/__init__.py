"""The pure core's state machines: dossier lifecycle, campaign calendar, cofinancement line.

No database, no web framework, no clock: callers pass the time in, so every rule is testable alone.
"""

from workflows.reasons import Reason

__all__ = ["Reason"]
