"""Accessible HTML for a form, from the same definition that drives the schema and the checks.

The page works without JavaScript: input names are the dotted answer paths (so a plain form post
comes back through ``answers_from_form``), every input has a label, help and errors are tied to
it with ``aria-describedby``, and the error summary links to ``#f-<path-with-dashes>``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from forms.context import FormContext
from forms.definition import FieldDef, FormDef, SectionDef
from forms.errors import FieldError
from forms.schema import widget_of
from forms.values import french_amount, parse_amount
from forms.walk import is_blank, option_pairs, same, shown

TEMPLATES = Path(__file__).parent / "templates"
_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def element_id(path: str) -> str:
    """The HTML id of the element for an answer path: "f-budget-charges-2-montant"."""
    return "f-" + path.replace(".", "-") if path else "f-form"


@dataclass
class Node:
    """What the template needs to draw one field, group or section."""

    widget: str
    name: str
    label: str
    help: str = ""
    required: bool = False
    value: Any = None
    display: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)
    rows: list[list[Node]] = field(default_factory=list)
    condition: str = ""
    visible: bool = True
    errors: list[str] = field(default_factory=list)
    attrs: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return element_id(self.name)

    @property
    def describedby(self) -> str:
        ids = ([self.id + "-help"] if self.help or self.condition else []) + (
            [self.id + "-error"] if self.errors else []
        )
        return " ".join(ids)


def render(
    form: FormDef,
    answers: dict[str, Any],
    ctx: FormContext,
    errors: Iterable[FieldError] = (),
    section: str | None = None,
    readonly: bool = False,
) -> Markup:
    """The form (or one section of it) as HTML, with its error summary."""
    sections = [s for s in form.sections if section is None or s.key == section]
    builder = _Builder(ctx, answers)
    nodes = [builder.section(s) for s in sections]
    index: dict[str, Node] = {}
    for n in nodes:
        _index(n, index)
    summary: list[tuple[str | None, str]] = []
    for e in errors:
        if section is not None and e.path.split(".")[0] != section:
            continue
        target = _nearest(e.path, index)
        if target is not None:
            index[target].errors.append(e.message)
        summary.append((element_id(target) if target is not None else None, e.message))
    template = _env.get_template("form.html")
    return Markup(
        template.render(
            form=form, sections=nodes, summary=summary, readonly=readonly, single=section is not None
        )
    )


def _index(node: Node, index: dict[str, Node]) -> None:
    index[node.name] = node
    for child in node.children:
        _index(child, index)
    for row in node.rows:
        for child in row:
            _index(child, index)


def _nearest(path: str, index: dict[str, Node]) -> str | None:
    parts = path.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in index:
            return candidate
        parts.pop()
    return None


class _Builder:
    def __init__(self, ctx: FormContext, answers: dict[str, Any]):
        self.ctx = ctx
        self.answers = answers

    def section(self, s: SectionDef) -> Node:
        value = self.answers.get(s.key)
        value = value if isinstance(value, dict) else {}
        return Node(
            widget="section",
            name=s.key,
            label=s.label,
            help=s.help,
            children=self.fields(s.fields, value, s.key),
        )

    def fields(self, fields: list[FieldDef], value: dict[str, Any], prefix: str) -> list[Node]:
        labels = {f.key: f for f in fields}
        nodes = []
        for f in fields:
            node = self.field(f, value.get(f.key), f"{prefix}.{f.key}")
            if f.shown_when is not None:
                target = labels[f.shown_when.field]
                node.condition = (
                    f"À remplir si « {target.label} » : {self._plain(target, f.shown_when.equals)}."
                )
                node.visible = shown(f, value)
                node.attrs["data-show-when"] = f"{prefix}.{f.shown_when.field}={_attr(f.shown_when.equals)}"
            nodes.append(node)
        return nodes

    def field(self, f: FieldDef, v: Any, path: str) -> Node:
        node = Node(
            widget=widget_of(f),
            name=path,
            label=f.label,
            help=f.help,
            required=f.required and f.scope != "organisation",
        )
        t = f.type
        if t == "group":
            node.children = self.fields(f.fields or [], v if isinstance(v, dict) else {}, path)
        elif t == "list":
            items = [item for item in v if isinstance(item, dict)] if isinstance(v, list) else []
            total = len(items) + f.blank_rows
            if f.max_items:
                total = min(total, max(f.max_items, len(items)))
            for i in range(max(total, 1)):
                item = items[i] if i < len(items) else {}
                node.rows.append(self.fields(f.fields or [], item, f"{path}.{i}"))
        elif t == "per_financeur":
            amounts = v if isinstance(v, dict) else {}
            for code, name in self.ctx.financeurs:
                child = Node(widget="amount", name=f"{path}.{code}", label=name)
                self._scalar_value(child, "amount", amounts.get(code))
                node.children.append(child)
        elif t in ("choice", "multichoice"):
            node.options = option_pairs(f, self.ctx)
            self._scalar_value(node, t, v)
        else:
            self._scalar_value(node, t, v)
        if f.placeholder:
            node.attrs["placeholder"] = f.placeholder
        return node

    def _scalar_value(self, node: Node, t: str, v: Any) -> None:
        if is_blank(v):
            node.value = [] if t == "multichoice" else ""
            node.display = "—"
            return
        if t == "multichoice":
            node.value = [x for x in v if isinstance(x, str)] if isinstance(v, list) else []
            labels = dict(node.options)
            node.display = ", ".join(labels.get(x, x) for x in node.value)
        elif t == "boolean":
            node.value = "true" if v is True else "false" if v is False else str(v)
            node.display = "Oui" if v is True else "Non" if v is False else str(v)
        elif t == "amount":
            node.value = str(v)
            parsed = parse_amount(v)
            node.display = french_amount(parsed) if parsed is not None else str(v)
        elif t == "choice":
            node.value = str(v)
            node.display = dict(node.options).get(node.value, node.value)
        elif t == "attachment":
            node.value = str(v)
            node.display = f"Pièce n° {v}"
        else:
            node.value = str(v)
            node.display = str(v)

    @staticmethod
    def _plain(target: FieldDef, equals: Any) -> str:
        if isinstance(equals, bool):
            return "oui" if equals else "non"
        for value, label in [(o.value, o.label) for o in target.options or []]:
            if same(value, equals):
                return label
        return str(equals)


def _attr(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
