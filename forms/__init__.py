"""The guichet unique and other forms: one declarative definition drives the JSON Schema, the
server validation and the HTML. Pure: no database, no web framework, no clock."""

from forms.context import FormContext
from forms.definition import FieldDef, FormDef, SectionDef, parse_definition
from forms.errors import DefinitionError, FieldError, FormNotFound
from forms.form import Form, form_versions, load_form
from forms.siret import rna_valid, siret_valid

__all__ = [
    "DefinitionError",
    "FieldDef",
    "FieldError",
    "Form",
    "FormContext",
    "FormDef",
    "FormNotFound",
    "SectionDef",
    "form_versions",
    "load_form",
    "parse_definition",
    "rna_valid",
    "siret_valid",
]
