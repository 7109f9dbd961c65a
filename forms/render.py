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
from forms.definition import FieldDef, FormDef, RuleDef, SectionDef
from forms.errors import FieldError
from forms.schema import widget_of
from forms.validate import rule_totals
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
    totals: list[dict[str, Any]] = field(default_factory=list)

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
    builder = _Builder(ctx, answers, _summed(form))
    nodes = [builder.section(s) for s in sections]
    for node in nodes:
        node.totals = _totals(form, node.name, answers, ctx)
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


# --- totals of the amounts rules (balance, not_above), shown where the amounts are typed ---------------

TOTAL_RULES = ("balance", "not_above")  # the inputs they add up are marked
BOXED_RULES = ("balance",)  # a totals box under the amounts (a not_above refusal names both totals)


def _amount_rules(form: FormDef) -> list[RuleDef]:
    return [r for r in form.rules if r.kind in TOTAL_RULES]


def _summed(form: FormDef) -> dict[str, tuple[str, list[str]]]:
    """For each path a total adds up (a list, per-financer amounts, an amount): the column read in a
    list's lines and the tokens « rule:side » that the page's inputs carry (`data-sum`), so that the
    browser adds up exactly what the check adds up."""
    out: dict[str, tuple[str, list[str]]] = {}
    for rule in _amount_rules(form):
        for side, paths in (("left", rule.left), ("right", rule.right)):
            for path in paths:
                out.setdefault(path, (rule.column, []))[1].append(f"{rule.code}:{side}")
    return out


def _totals(form: FormDef, section: str, answers: dict[str, Any], ctx: FormContext) -> list[dict[str, Any]]:
    """The totals box of each amounts rule located in this section: both sides as the server adds them
    up, and the sentences the browser reuses when it adds them up again as the person types."""
    out = []
    for rule in _amount_rules(form):
        if rule.kind not in BOXED_RULES or rule.path.split(".")[0] != section:
            continue
        left, right = rule_totals(form, rule, answers, ctx)
        texts = {
            "equal": "Budget équilibré.",
            "gap": f"Écart de {{ecart}} : le {rule.label_left} et le {rule.label_right} doivent être égaux.",
            "over": f"Le {rule.label_left} dépasse le {rule.label_right} de {{ecart}}.",
            "unreadable": "Un montant n'est pas lisible : corrigez-le pour voir le total.",
        }
        if left is None or right is None:
            verdict = texts["unreadable"]
        elif rule.kind == "balance":
            verdict = (
                texts["equal"]
                if left == right
                else texts["gap"].format(ecart=french_amount(abs(left - right)))
            )
        else:
            verdict = texts["over"].format(ecart=french_amount(left - right)) if left > right else ""
        out.append(
            {
                "code": rule.code,
                "kind": rule.kind,
                "label_left": rule.label_left[:1].upper() + rule.label_left[1:],
                "label_right": rule.label_right[:1].upper() + rule.label_right[1:],
                "left": french_amount(left) if left is not None else "—",
                "right": french_amount(right) if right is not None else "—",
                "verdict": verdict,
                "texts": texts,
            }
        )
    return out


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
    def __init__(
        self,
        ctx: FormContext,
        answers: dict[str, Any],
        summed: dict[str, tuple[str, list[str]]] | None = None,
    ):
        self.ctx = ctx
        self.answers = answers
        self.summed = summed or {}

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
            if f.max_items:
                node.attrs["data-max-items"] = str(f.max_items)
            self._mark_sums(path, [child for row in node.rows for child in row])
        elif t == "per_financeur":
            amounts = v if isinstance(v, dict) else {}
            for code, name in self.ctx.financeurs:
                child = Node(widget="amount", name=f"{path}.{code}", label=name)
                self._scalar_value(child, "amount", amounts.get(code))
                node.children.append(child)
            self._mark_sums(path, node.children, column=None)
        elif t in ("choice", "multichoice"):
            node.options = option_pairs(f, self.ctx)
            self._scalar_value(node, t, v)
        else:
            self._scalar_value(node, t, v)
            if t == "amount":
                self._mark_sums(path, [node], column=None)
        if f.placeholder:
            node.attrs["placeholder"] = f.placeholder
        return node

    def _mark_sums(self, path: str, nodes: list[Node], column: str | None = "") -> None:
        """Marks the inputs a total adds up at `path` (a list's lines: those of the rule's column)."""
        summed = self.summed.get(_unindexed(path))
        if summed is None:
            return
        wanted = summed[0] if column == "" else None
        for n in nodes:
            if wanted is None or n.name.rsplit(".", 1)[-1] == wanted:
                n.attrs["data-sum"] = " ".join(summed[1])

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


def _unindexed(path: str) -> str:
    """« budget.charges.2.montant » → « budget.charges.montant »: the path a rule names."""
    return ".".join(p for p in path.split(".") if not p.isdigit())


def _attr(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
