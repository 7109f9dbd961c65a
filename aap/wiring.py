"""The composition root: which domain reacts to which dossier transition, and which holds a payment.

The dossier service never imports the domains that react to it; they register here, once per process,
before the first request or cron pass (`create_app`, the CLI and the tests call `wire()`).
"""

from aap.attachments import pieces
from aap.avis import service as avis
from aap.dossiers import comite, complements
from aap.dossiers.effects import TABLE, EffectsTable
from aap.financing import documents
from aap.financing.guards import GUARDS, PaymentGuards
from notifications import events, scheduled

_wired = False


def register_payment_guards(guards: PaymentGuards) -> None:
    """Domains that may hold a payment add their guard here (none in the first half of the year)."""


def register_scheduled() -> None:
    """Passes of the domains that the cron pass runs after the reminders."""
    scheduled.register("avis_rappel", avis.record_reminders)


def register_all(table: EffectsTable) -> None:
    """Order matters where effects read each other's writes: pièces are linked before messages go."""
    complements.register(table)
    comite.register(table)
    pieces.register(table)
    documents.register(table)
    events.register(table)


def wire() -> EffectsTable:
    global _wired
    if not _wired:
        register_all(TABLE)
        register_payment_guards(GUARDS)
        register_scheduled()
        _wired = True
    return TABLE
