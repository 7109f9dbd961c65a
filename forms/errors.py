"""Errors of the form engine: one per wrong answer (FieldError), and refusals of definitions."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One wrong or missing answer.

    ``path`` is dotted with list indexes ("budget.charges.2.montant") so that the API, the HTML
    error summary (id "f-budget-charges-2-montant") and tests all point at the same place;
    ``code`` is stable for programs; ``message`` is French and names the field by its label.
    """

    path: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "code": self.code, "message": self.message}


class FormNotFound(KeyError):
    """No definition file for this form code (and version)."""


class DefinitionError(ValueError):
    """A form definition file was refused; ``errors`` lists every mistake with its location."""

    def __init__(self, source: str, errors: list[str]):
        self.source = source
        self.errors = errors
        super().__init__(
            f"{source} : définition de formulaire invalide\n" + "\n".join(f"  {e}" for e in errors)
        )
