"""Identifiers of French organisations: SIRET (Luhn key) and RNA.

A mistyped SIRET is the most common reason a financer's system refuses a dossier, so the key is
checked at entry rather than at payment time.
"""

from __future__ import annotations

import re

LA_POSTE_SIREN = "356000000"
"""La Poste's SIRETs (one per office) do not follow Luhn: their digits sum to a multiple of 5."""

_RNA = re.compile(r"^W[0-9][0-9AB][0-9]{7}$")


def luhn_valid(digits: str) -> bool:
    """Luhn check: double every second digit from the right, the total is a multiple of 10."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def siret_valid(value: str) -> bool:
    """True for 14 digits passing the Luhn key, or for La Poste the sum-of-digits rule.

    La Poste's head office (35600000000048) does pass Luhn, so for La Poste either rule is accepted.
    """
    if len(value) != 14 or not value.isascii() or not value.isdigit():
        return False
    if value.startswith(LA_POSTE_SIREN) and sum(int(c) for c in value) % 5 == 0:
        return True
    return luhn_valid(value)


def rna_valid(value: str) -> bool:
    """RNA number: W then 9 characters (digits; the department may be 2A/2B for Corsica)."""
    return bool(_RNA.match(value))
