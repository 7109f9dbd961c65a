"""Server-rendered SVG bar charts: no JavaScript, no library, readable by screen readers.

Each chart is an `<svg role="img">` named by its `<title>` and described by a `<desc>` that states
every value in words; the page also shows the same figures as a table.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

from markupsafe import Markup

Number = Decimal | int | float

WIDTH = 400
VALUE_WIDTH = 120
LABEL_HEIGHT = 18  # the label sits above its bar, so long labels fit on a phone
BAR_HEIGHT = 16
ROW_HEIGHT = 44
TOP = 4
LEFT = 2
BAR_COLOR = "#000091"  # contrast 15:1 on white
TARGET_COLOR = "#b34000"


@dataclass
class Bar:
    label: str
    value: Number
    text: str  # the value as people read it ("12 000,00 €", "34 jours")


def _clip(label: str, size: int = 46) -> str:
    return label if len(label) <= size else label[: size - 1].rstrip() + "…"


def bar_chart(
    chart_id: str,
    title: str,
    bars: Sequence[Bar],
    *,
    maximum: Number | None = None,
    target: tuple[Number, str] | None = None,
    empty: str = "Aucune donnée pour le moment.",
) -> Markup:
    """A horizontal bar chart, each label above its bar; `target` draws a dashed reference line."""
    top_value = max(
        [float(b.value) for b in bars] + [float(maximum or 0), float(target[0]) if target else 0.0]
    )
    scale_width = WIDTH - LEFT - VALUE_WIDTH
    rows = max(len(bars), 1)
    bottom = TOP + rows * ROW_HEIGHT
    height = bottom + (22 if target else 4)
    desc = "; ".join(f"{b.label} : {b.text}" for b in bars) or empty
    if target:
        desc += f". {target[1]}."
    parts = [
        f'<svg class="chart" id="{chart_id}" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
    ]
    if not bars:
        parts.append(f'<text x="{LEFT}" y="{TOP + 20}" class="chart-empty">{escape(empty)}</text>')
    for i, b in enumerate(bars):
        y = TOP + i * ROW_HEIGHT
        bar_w = 0.0 if top_value <= 0 else max(float(b.value), 0.0) / top_value * scale_width
        bar_y = y + LABEL_HEIGHT + 4
        parts.append(
            f'<g class="chart-row"><text x="{LEFT}" y="{y + LABEL_HEIGHT - 4}" class="chart-label">'
            f"{escape(_clip(b.label))}</text>"
            f'<rect class="bar" x="{LEFT}" y="{bar_y}" width="{bar_w:.1f}" height="{BAR_HEIGHT}" '
            f'fill="{BAR_COLOR}"><title>{escape(b.label)} : {escape(b.text)}</title></rect>'
            f'<text x="{LEFT + bar_w + 6:.1f}" y="{bar_y + BAR_HEIGHT - 3}" class="chart-value">'
            f"{escape(b.text)}</text></g>"
        )
    parts.append(
        f'<line x1="{LEFT}" y1="{TOP + LABEL_HEIGHT}" x2="{LEFT}" y2="{bottom - 2}" '
        'stroke="#3a3a3a" stroke-width="1"/>'
    )
    if target and top_value > 0:
        x = LEFT + float(target[0]) / top_value * scale_width
        parts.append(
            f'<line class="target" x1="{x:.1f}" y1="{TOP + LABEL_HEIGHT}" x2="{x:.1f}" y2="{bottom}" '
            f'stroke="{TARGET_COLOR}" stroke-width="2" stroke-dasharray="6 4"/>'
            f'<text x="{x:.1f}" y="{bottom + 16}" text-anchor="middle" class="chart-target" '
            f'fill="{TARGET_COLOR}">{escape(target[1])}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def money_bars(items: Sequence[tuple[str, Decimal]], fmt: Callable[[Decimal], str]) -> list[Bar]:
    return [Bar(label, value, fmt(value)) for label, value in items]
