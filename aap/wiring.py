"""The composition root: which domain reacts to which dossier transition, and which holds a payment.

The dossier service never imports the domains that react to it; they register here, once per process,
before the first request or cron pass (`create_app`, the CLI and the tests call `wire()`).
"""

from aap.attachments import pieces
from aap.avis import service as avis
from aap.bilans import repository as bilans_repository
from aap.bilans import service as bilans
from aap.cpo import cycle as cpo_cycle
from aap.cpo import guards as cpo_guards
from aap.dossiers import comite, complements, queries
from aap.dossiers.effects import TABLE, EffectsTable
from aap.financing import documents
from aap.financing.guards import GUARDS, PaymentGuards
from notifications import events, scheduled
from notifications.rules import default_rules

_wired = False


def register_payment_guards(guards: PaymentGuards) -> None:
    """Domains that may hold a payment add their guard here: the solde waits for the bilan, a CPO year
    for last year's bilan."""
    bilans.register_guards(guards)
    guards.add("cpo.bilan_precedent", cpo_guards.previous_bilan_pending(bilans_repository.bilan_validated))


def register_scheduled() -> None:
    """Passes of the domains that the cron pass runs after the reminders."""
    scheduled.register("avis_rappel", avis.record_reminders)
    documents.register_scheduled(scheduled)


def register_all(table: EffectsTable) -> None:
    """Order matters where effects read each other's writes: pièces are linked before messages go."""
    complements.register(table)
    comite.register(table)
    pieces.register(table)
    documents.register(table)
    bilans.register(table)  # before messages: the bilan's due date is set before they are written
    cpo_cycle.register(table)
    events.register(table)


def overdue_depose_days() -> int:
    """The staff lists' « en retard »: the delay of the instructeurs' reminder about waiting dépôts."""
    rule = default_rules().get("instructeurs_depots_en_attente")
    return rule.offsets[0] if rule is not None and rule.offsets else 5


def wire() -> EffectsTable:
    global _wired
    if not _wired:
        register_all(TABLE)
        register_payment_guards(GUARDS)
        register_scheduled()
        queries.use_overdue_days(overdue_depose_days)
        _wired = True
    return TABLE
