"""The lifecycle drawn as SVG, from the same table as the rules: a simple layered layout, no library.

States are boxes in layers (the longest path from the initial state, once the edges that go back are
set aside); an edge between neighbouring layers is a straight arrow, a longer one goes down a lane on the
right, one that goes back goes up a lane on the left, so that no line crosses a box. The drawing carries
its text alternative (`<title>`, `<desc>`: every step and where it leads). Colours are presentation
attributes, not `style`, so the page's Content-Security-Policy holds. Pure: returns markup text.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from html import escape

BOX_W, BOX_H = 180, 44
GAP_X, GAP_Y = 28, 40
LANE = 14  # between two lanes
MARGIN = 12

FILL, STROKE, TEXT = "#ffffff", "#1e3a8a", "#111827"
CURRENT_FILL, CURRENT_STROKE = "#fde68a", "#b45309"
TERMINAL_FILL, TERMINAL_STROKE = "#f3f4f6", "#6b7280"
EDGE = "#4b5563"


@dataclass(frozen=True)
class Edge:
    source: str
    dest: str
    label: str


def _back_edges(states: Sequence[str], initial: str, edges: Sequence[Edge]) -> set[tuple[str, str]]:
    """The edges that go back to a state on the current path of a depth-first walk (the loops)."""
    out: dict[str, list[str]] = {s: [] for s in states}
    for e in edges:
        if e.dest not in out[e.source]:
            out[e.source].append(e.dest)
    back: set[tuple[str, str]] = set()
    seen: set[str] = set()
    on_path: list[str] = []

    def walk(s: str) -> None:
        seen.add(s)
        on_path.append(s)
        for d in out[s]:
            if d in on_path:
                back.add((s, d))
            elif d not in seen:
                walk(d)
        on_path.pop()

    walk(initial)
    for s in states:  # states the initial one does not reach
        if s not in seen:
            walk(s)
    return back


def _layers(states: Sequence[str], edges: Sequence[Edge], back: set[tuple[str, str]]) -> dict[str, int]:
    """Longest path from the sources over the forward edges."""
    layer = dict.fromkeys(states, 0)
    forward = [(e.source, e.dest) for e in edges if (e.source, e.dest) not in back and e.source != e.dest]
    for _ in states:  # at most len(states) rounds on a DAG
        changed = False
        for s, d in forward:
            if layer[d] < layer[s] + 1:
                layer[d] = layer[s] + 1
                changed = True
        if not changed:
            break
    return layer


@dataclass
class _Layout:
    """Where each box stands, and the lanes of the long edges."""

    layer: dict[str, int]
    box: dict[str, tuple[float, float]]  # top-left corners
    ups: list[tuple[str, str]]  # back edges over more than one layer: up the left lane
    up_lanes: dict[str, int]
    down_lanes: dict[str, int]
    left: float
    content: float
    width: float
    height: float

    def cx(self, s: str) -> float:
        return self.box[s][0] + BOX_W / 2

    def top(self, s: str) -> float:
        return self.box[s][1]

    def bottom(self, s: str) -> float:
        return self.box[s][1] + BOX_H

    def points(self, s: str, d: str, back: bool) -> list[tuple[float, float]]:
        if back and (s, d) not in self.ups:  # back to the layer above: a straight arrow up
            return [(self.cx(s) - 20, self.top(s)), (self.cx(d) - 20, self.bottom(d))]
        if back:
            lane: float = MARGIN + LANE * (len(self.up_lanes) - self.up_lanes[d])
            y1, y2 = self.top(s) - GAP_Y / 2, self.bottom(d) + GAP_Y / 2
            xs, xd = self.cx(s) - 20, self.cx(d) - 20
            return [(xs, self.top(s)), (xs, y1), (lane, y1), (lane, y2), (xd, y2), (xd, self.bottom(d))]
        if self.layer[d] - self.layer[s] > 1:
            lane = self.left + self.content + LANE * (self.down_lanes[d] + 1)
            y1, y2 = self.bottom(s) + GAP_Y / 2, self.top(d) - GAP_Y / 2
            xs, xd = self.cx(s) + 20, self.cx(d) + 20
            return [(xs, self.bottom(s)), (xs, y1), (lane, y1), (lane, y2), (xd, y2), (xd, self.top(d))]
        return [(self.cx(s), self.bottom(s)), (self.cx(d), self.top(d))]


def _layout(
    states: Sequence[str],
    pairs: Sequence[tuple[str, str]],
    back: set[tuple[str, str]],
    layer: dict[str, int],
    terminal: Collection[str],
) -> _Layout:
    depth = max(layer.values()) + 1
    rows: list[list[str]] = [[] for _ in range(depth)]
    for s in sorted(states, key=lambda s: (s in terminal, states.index(s))):  # the ends on the right
        rows[layer[s]].append(s)
    width_of = max(len(r) for r in rows)
    ups = [p for p in pairs if p in back and layer[p[0]] - layer[p[1]] > 1]
    longs = [p for p in pairs if p not in back and layer[p[1]] - layer[p[0]] > 1]
    up_lanes = {d: i for i, d in enumerate(dict.fromkeys(d for _, d in ups))}
    down_lanes = {d: i for i, d in enumerate(dict.fromkeys(d for _, d in longs))}
    left = MARGIN + LANE * (len(up_lanes) + 1)
    content = width_of * BOX_W + (width_of - 1) * GAP_X
    box: dict[str, tuple[float, float]] = {}
    for i, row in enumerate(rows):
        row_w = len(row) * BOX_W + (len(row) - 1) * GAP_X
        x0 = left + (content - row_w) / 2
        for j, s in enumerate(row):
            box[s] = (x0 + j * (BOX_W + GAP_X), MARGIN + i * (BOX_H + GAP_Y))
    return _Layout(
        layer=layer,
        box=box,
        ups=ups,
        up_lanes=up_lanes,
        down_lanes=down_lanes,
        left=left,
        content=content,
        width=left + content + LANE * (len(down_lanes) + 1) + MARGIN,
        height=2 * MARGIN + depth * BOX_H + (depth - 1) * GAP_Y,
    )


def _state_markup(s: str, label: str, x: float, y: float, is_current: bool, is_end: bool) -> str:
    fill = CURRENT_FILL if is_current else TERMINAL_FILL if is_end else FILL
    stroke = CURRENT_STROKE if is_current else TERMINAL_STROKE if is_end else STROKE
    classes = "lc-state" + (" current" if is_current else "") + (" terminal" if is_end else "")
    bold = ' font-weight="bold"' if is_current else ""
    return (
        f'<g class="{classes}" data-state="{escape(s)}">'
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{BOX_W}" height="{BOX_H}" rx="8" fill="{fill}" '
        f'stroke="{stroke}" stroke-width="{3 if is_current else 1.5}"/>'
        f'<text x="{x + BOX_W / 2:.1f}" y="{y + BOX_H / 2:.1f}" text-anchor="middle" dominant-baseline="central" '
        f'font-size="14" font-family="sans-serif" fill="{TEXT}"{bold}>{escape(label)}</text></g>'
    )


def lifecycle_svg(
    states: Sequence[str],
    edges: Sequence[Edge],
    state_labels: Mapping[str, str],
    *,
    initial: str,
    current: str | None = None,
    terminal: Collection[str] = (),
    title: str = "Cycle de vie",
) -> str:
    """The SVG markup of the lifecycle: boxes, arrows, `current` highlighted, its text alternative."""
    if current is not None and current not in states:
        raise ValueError(f"unknown state {current!r}")
    back = _back_edges(states, initial, edges)
    pairs = sorted(
        {(e.source, e.dest) for e in edges if e.source != e.dest},
        key=lambda p: (states.index(p[0]), states.index(p[1])),
    )
    names: dict[tuple[str, str], list[str]] = {p: [] for p in pairs}
    for e in edges:
        if e.source != e.dest and e.label not in names[(e.source, e.dest)]:
            names[(e.source, e.dest)].append(e.label)
    lay = _layout(states, pairs, back, _layers(states, edges, back), terminal)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="lifecycle-svg" viewBox="0 0 {lay.width:.0f} '
        f'{lay.height:.0f}" width="{lay.width:.0f}" height="{lay.height:.0f}" role="img" '
        'aria-labelledby="lc-title lc-desc">',
        f'<title id="lc-title">{escape(title)}</title>',
        f'<desc id="lc-desc">{escape(_description(states, pairs, names, state_labels, current))}</desc>',
        '<defs><marker id="lc-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{EDGE}"/></marker></defs>',
    ]
    for s, d in pairs:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in lay.points(s, d, (s, d) in back))
        out.append(
            f'<g class="lc-edge"><title>{escape(" ; ".join(names[(s, d)]))}</title><polyline points="{path}" '
            f'fill="none" stroke="{EDGE}" stroke-width="1.5" marker-end="url(#lc-arrow)"/></g>'
        )
    out += [
        _state_markup(s, state_labels.get(s, s), *lay.box[s], s == current, s in terminal) for s in states
    ]
    out.append("</svg>")
    return "\n".join(out)


def _description(
    states: Sequence[str],
    pairs: Sequence[tuple[str, str]],
    names: Mapping[tuple[str, str], list[str]],
    labels: Mapping[str, str],
    current: str | None,
) -> str:
    """The drawing in words: where each step leads, and which one is the dossier's."""
    parts = []
    for s in states:
        nexts = [f"{' ou '.join(names[(a, d)])} vers « {labels.get(d, d)} »" for a, d in pairs if a == s]
        here = " (l'état actuel)" if s == current else ""
        parts.append(
            f"« {labels.get(s, s)} »{here} : " + ("; ".join(nexts) if nexts else "étape finale") + "."
        )
    return " ".join(parts)
