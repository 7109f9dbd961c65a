"""What a form needs to know about its campaign: the year and the enumerations of the territory."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class FormContext:
    """The campaign-specific part of a form: enumerations are data of the territory, not of the form.

    Every enumeration is a tuple of (code, label) in display order.
    """

    year: int
    financeurs: tuple[tuple[str, str], ...]
    qpvs: tuple[tuple[str, str], ...] = ()
    orientations: tuple[tuple[str, str], ...] = ()
    priorites: tuple[tuple[str, str], ...] = ()
    # how far a réalisé may move from its prévu before the bilan asks why (0.15: 15 %)
    gap_threshold: Decimal = Decimal("0.15")

    def options(self, source: str) -> tuple[tuple[str, str], ...]:
        """The (code, label) pairs of one enumeration, by the name used in definitions."""
        return {
            "financeurs": self.financeurs,
            "qpvs": self.qpvs,
            "orientations": self.orientations,
            "priorites": self.priorites,
        }[source]
