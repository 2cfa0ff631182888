"""Server-side charts of the company page: inline, accessible SVG (no JavaScript, no external asset).

Every chart is an ``<svg role="img" aria-labelledby="…">`` with a French ``<title>`` and ``<desc>`` (the desc
summarises the data for screen readers), DSFR colours, French number formats (thin-space thousands, decimal
comma) and months as ``01/2026``. Functions return ``markupsafe.Markup`` ready for a Jinja2 template.

``chart_specs(view)`` says which charts a company's view (``data.company_view``) gets and with which series;
``company_charts(view)`` renders them as SVG and ``dossier.company_dossier_docx`` as PNG, so the page and the
dossier always show the same data. Only the blocks present in the view are drawn: the view is already filtered
by the access policy, the charts never add data.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from markupsafe import Markup, escape

__all__ = [
    "COLORS",
    "ChartSpec",
    "Series",
    "as_mapping",
    "bar_chart",
    "chart_specs",
    "clean",
    "company_charts",
    "finite",
    "fmt_month",
    "fmt_number",
    "fmt_percent",
    "fmt_points",
    "latest_score",
    "line_chart",
    "parse_date",
    "render_svg",
    "waterfall",
    "waterfall_rows",
]

#: A named series of (label, value) points; the label is a date "YYYY-MM-DD" (line) or a category (bar).
Series = tuple[str, Sequence[tuple[str, float | None]]]

BLUE, RED, ORANGE, GREY, GREEN = "#000091", "#c9191e", "#b34000", "#666666", "#18753c"
#: Series colours, in order.
COLORS = (BLUE, RED, ORANGE, GREY)
TEXT, GRID, AXIS = "#3a3a3a", "#dddddd", "#666666"
FONT = "Marianne, arial, sans-serif"
NNBSP, NBSP, MINUS = "\u202f", "\u00a0", "\u2212"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# --------------------------------------------------------------------------------------------- formatting


def clean(text: Any) -> str:
    """Text without the control characters XML refuses."""
    return _CONTROL.sub("", str(text))


def _decimals(step: float) -> int:
    """The decimals a tick step needs to be written truthfully (2,5 / 7,5 / 12,5, not 2 / 8 / 12)."""
    if step <= 0:
        return 0
    return next((d for d in range(4) if abs(round(step, d) - step) < 1e-9 * max(1.0, step)), 4)


def fmt_number(v: float, unit: str = "", decimals: int | None = None) -> str:
    """``12345.6, "€"`` → ``12 345 €`` (narrow no-break space between thousands, decimal comma)."""
    if decimals is None:
        decimals = 0 if abs(v) >= 100 or float(v).is_integer() else 1
    s = f"{abs(v):,.{decimals}f}".replace(",", NNBSP).replace(".", ",")
    if v < 0 and float(s.replace(NNBSP, "").replace(",", ".")) != 0:
        s = MINUS + s
    return f"{s}{NBSP}{unit}" if unit else s


def fmt_points(v: float) -> str:
    """A probability difference in percentage points: ``0.123`` → ``+12,3 pts``."""
    s = f"{abs(v) * 100:.1f}".replace(".", ",")
    return f"{'+' if v >= 0 else MINUS}{s}{NBSP}pts"


def fmt_percent(v: float, decimals: int = 1) -> str:
    """A probability as a percentage: ``0.085`` → ``8,5 %``."""
    return fmt_number(v * 100, "%", decimals)


def parse_date(label: Any) -> dt.date | None:
    """``"2026-01-01"`` (or a longer ISO text, or a date) → the date; anything else → None."""
    if isinstance(label, dt.date):
        return label if not isinstance(label, dt.datetime) else label.date()
    try:
        return dt.date.fromisoformat(str(label)[:10])
    except ValueError:
        return None


def fmt_month(label: str) -> str:
    """``2026-01-01`` → ``01/2026`` (other labels as they are)."""
    d = parse_date(label)
    return f"{d.month:02d}/{d.year}" if d else str(label)


def finite(v: Any) -> float | None:
    """A finite float, or None (NULL, NaN, infinities, booleans, text)."""
    if v is None or isinstance(v, bool):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """Round tick values covering ``[lo, hi]``."""
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / max(n, 1)
    mag = 10 ** math.floor(math.log10(raw))
    # no step of 2,5 units (counts of salariés or hours read best on whole ticks); 0,25, 25, 250 are fine
    steps = (1, 2, 5, 10) if mag == 1 else (1, 2, 2.5, 5, 10)
    step = next(m * mag for m in steps if raw <= m * mag * (1 + 1e-9))
    start = math.floor(lo / step + 1e-9) * step
    end = math.ceil(hi / step - 1e-9) * step
    return [start + i * step for i in range(round((end - start) / step) + 1)]


def _text_width(s: str, size: float = 12) -> float:
    return len(s) * size * 0.58


# ------------------------------------------------------------------------------------------------ SVG parts


def _f(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _uid(chart_id: str | None) -> str:
    base = re.sub(r"[^A-Za-z0-9_-]", "-", chart_id) if chart_id else secrets.token_hex(4)
    return f"sf-chart-{base}"


def _open(
    uid: str, width: float, height: float, title: str, desc: str, css_class: str, chart_id: str | None
) -> list[str]:
    data = f' data-chart="{escape(clean(chart_id))}"' if chart_id else ""
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="{uid}-title {uid}-desc"'
        f' class="{escape(css_class)}"{data} width="{_f(width)}" height="{_f(height)}"'
        f' viewBox="0 0 {_f(width)} {_f(height)}" style="max-width:100%;height:auto"'
        f' font-family="{FONT}" font-size="12">',
        f'<title id="{uid}-title">{escape(clean(title))}</title>',
        f'<desc id="{uid}-desc">{escape(clean(desc))}</desc>',
    ]


def _empty(title: str, css_class: str, chart_id: str | None) -> Markup:
    data = f' data-chart="{escape(clean(chart_id))}"' if chart_id else ""
    return Markup(
        f'<p class="{escape(css_class)}-empty fr-text--sm"{data}>'
        f"Pas de données pour « {escape(clean(title))} ».</p>"
    )


def _text(x: float, y: float, s: str, anchor: str = "start", fill: str = TEXT, extra: str = "") -> str:
    return (
        f'<text x="{_f(x)}" y="{_f(y)}" text-anchor="{anchor}" fill="{fill}"{extra}>{escape(clean(s))}</text>'
    )


def _legend(series_names: Sequence[str], x0: float, y: float, width: float) -> list[str]:
    out = ['<g class="sf-chart-legend">']
    x = x0
    for i, name in enumerate(series_names):
        w = 18 + _text_width(name) + 16
        if x + w > width and x > x0:
            x, y = x0, y + 16
        colour = COLORS[i % len(COLORS)]
        out.append(f'<rect x="{_f(x)}" y="{_f(y - 9)}" width="12" height="10" fill="{colour}"/>')
        out.append(_text(x + 17, y, name))
        x += w
    out.append("</g>")
    return out


def _legend_height(series_names: Sequence[str], x0: float, width: float) -> float:
    lines, x = 1, x0
    for name in series_names:
        w = 18 + _text_width(name) + 16
        if x + w > width and x > x0:
            lines, x = lines + 1, x0
        x += w
    return 16.0 * lines


def _summary(
    name: str, points: Sequence[tuple[str, float]], unit: str, label: Callable[[str], str] = fmt_month
) -> str:
    if not points:
        return f"{name} : pas de données."
    lo = min(points, key=lambda p: p[1])
    hi = max(points, key=lambda p: p[1])
    last = points[-1]
    return (
        f"{name} : dernière valeur {fmt_number(last[1], unit)} ({label(last[0])}), "
        f"minimum {fmt_number(lo[1], unit)} ({label(lo[0])}), maximum {fmt_number(hi[1], unit)} ({label(hi[0])})."
    )


def _y_axis(
    ticks: list[float], y_of: Callable[[float], float], left: float, right: float, unit: str, decimals: int
) -> list[str]:
    out = ['<g class="sf-chart-axis">']
    for t in ticks:
        y = y_of(t)
        colour = AXIS if t == 0 else GRID
        out.append(f'<line x1="{_f(left)}" x2="{_f(right)}" y1="{_f(y)}" y2="{_f(y)}" stroke="{colour}"/>')
        out.append(_text(left - 6, y + 4, fmt_number(t, unit if len(unit) <= 3 else "", decimals), "end"))
    out.append("</g>")
    return out


def _y_labels_width(ticks: list[float], unit: str, decimals: int) -> float:
    unit = (
        unit if len(unit) <= 3 else ""
    )  # a long unit ("salariés") is in the desc and legend, not on each tick
    return max(_text_width(fmt_number(t, unit, decimals)) for t in ticks) + 12


# ------------------------------------------------------------------------------------------------ the charts


def _clean_series(series: Iterable[Series]) -> list[tuple[str, list[tuple[str, float | None]]]]:
    return [(str(name), [(str(label), finite(v)) for label, v in points]) for name, points in series]


def line_chart(
    series: Sequence[Series],
    title: str,
    unit: str = "",
    width: int = 640,
    height: int = 240,
    css_class: str = "sf-chart",
    chart_id: str | None = None,
) -> Markup:
    """One or more named series over dates ("YYYY-MM-DD"), one ``<path data-series>`` each, a gap for each
    ``None``; the y axis starts at 0 (or at the minimum if negative). No value at all: a "Pas de données"
    paragraph. ``chart_id`` becomes ``data-chart`` and the base of the element ids (unique on the page)."""
    data = _clean_series(series)
    values = [v for _, pts in data for _, v in pts if v is not None]
    if not data or not values:
        return _empty(title, css_class, chart_id)
    dates = sorted({d for _, pts in data for label, _ in pts if (d := parse_date(label)) is not None})
    if not dates:
        return _empty(title, css_class, chart_id)
    ticks = _ticks(min(0.0, *values), max(0.0, *values))
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    decimals = _decimals(step)
    names = [n for n, _ in data]
    left = _y_labels_width(ticks, unit, decimals)
    right = width - 28
    top = 10 + _legend_height(names, left, width) + 8
    bottom = height - 26
    lo, hi = ticks[0], ticks[-1]
    d0, d1 = dates[0].toordinal(), dates[-1].toordinal()

    def x_of(d: dt.date) -> float:
        if d1 == d0:
            return (left + right) / 2
        return left + (d.toordinal() - d0) / (d1 - d0) * (right - left)

    def y_of(v: float) -> float:
        return bottom - (v - lo) / (hi - lo) * (bottom - top)

    uid = _uid(chart_id)
    span = f"de {fmt_month(dates[0].isoformat())} à {fmt_month(dates[-1].isoformat())}"
    summaries = [
        _summary(n, [(lab, v) for lab, v in pts if v is not None and parse_date(lab)], unit)
        for n, pts in data
    ]
    desc = f"Graphique en courbes, {span}, {len(data)} série(s). " + " ".join(summaries)
    out = _open(uid, width, height, title, desc, css_class, chart_id)
    out += _legend(names, left, 10 + 12, width)
    out += _y_axis(ticks, y_of, left, right, unit, decimals)
    out.append('<g class="sf-chart-axis">')
    for d in _month_ticks(dates[0], dates[-1], max(1, int((right - left) / 75))):
        x = x_of(d)
        out.append(
            f'<line x1="{_f(x)}" x2="{_f(x)}" y1="{_f(bottom)}" y2="{_f(bottom + 4)}" stroke="{AXIS}"/>'
        )
        out.append(_text(x, bottom + 18, fmt_month(d.isoformat()), "middle"))
    out.append("</g>")
    for i, (name, pts) in enumerate(data):
        colour = COLORS[i % len(COLORS)]
        ordered = sorted(
            ((d, v) for label, v in pts if (d := parse_date(label)) is not None), key=lambda p: p[0]
        )
        segments: list[list[tuple[float, float]]] = [[]]
        for d, v in ordered:
            if v is None:
                if segments[-1]:
                    segments.append([])
                continue
            segments[-1].append((x_of(d), y_of(v)))
        path = " ".join("M" + " L".join(f"{_f(x)},{_f(y)}" for x, y in seg) for seg in segments if seg)
        out.append(
            f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2" stroke-linejoin="round"'
            f' data-series="{escape(clean(name))}"/>'
        )
        for seg in segments:  # a lone point has no line: a dot
            if len(seg) == 1:
                x, y = seg[0]
                out.append(f'<circle cx="{_f(x)}" cy="{_f(y)}" r="3" fill="{colour}"/>')
    out.append("</svg>")
    return Markup("".join(out))


def _month_ticks(first: dt.date, last: dt.date, most: int) -> list[dt.date]:
    """First days of months between ``first`` and ``last``, every 1, 2, 3, 4, 6, 12… months (at most ``most``),
    on round months (a 3-month step gives 01, 04, 07, 10)."""
    m0 = first.year * 12 + first.month - 1 + (first.day > 1)
    m1 = last.year * 12 + last.month - 1
    if m1 < m0:
        return [first]
    step = next((s for s in (1, 2, 3, 4, 6, 12, 24, 36, 60, 120) if (m1 - m0) // s + 1 <= most), 120)
    start = -(-m0 // step) * step
    ticks = [dt.date(m // 12, m % 12 + 1, 1) for m in range(start, m1 + 1, step)]
    return ticks or [first]


def _category_key(label: str) -> tuple[int, float | str]:
    f = finite(label)
    return (0, f) if f is not None else (1, label)


def bar_chart(
    series: Sequence[Series],
    title: str,
    unit: str = "",
    width: int = 640,
    height: int = 240,
    css_class: str = "sf-chart",
    chart_id: str | None = None,
) -> Markup:
    """Grouped vertical bars per category (e.g. an exercice "2023"), one ``<g data-series>`` per series and one
    ``<rect data-value>`` per known value; negative values go below the zero line. Categories are sorted
    (numerically when they are numbers). No value at all: a "Pas de données" paragraph."""
    data = _clean_series(series)
    values = [v for _, pts in data for _, v in pts if v is not None]
    if not data or not values:
        return _empty(title, css_class, chart_id)
    cats = sorted({label for _, pts in data for label, v in pts if v is not None}, key=_category_key)
    ticks = _ticks(min(0.0, *values), max(0.0, *values))
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    decimals = _decimals(step)
    names = [n for n, _ in data]
    left = _y_labels_width(ticks, unit, decimals)
    right = width - 16
    top = 10 + _legend_height(names, left, width) + 8
    bottom = height - 26
    lo, hi = ticks[0], ticks[-1]

    def y_of(v: float) -> float:
        return bottom - (v - lo) / (hi - lo) * (bottom - top)

    uid = _uid(chart_id)
    summaries = [_summary(n, [(lab, v) for lab, v in pts if v is not None], unit, str) for n, pts in data]
    desc = (
        f"Graphique en barres, {len(cats)} période(s) de {cats[0]} à {cats[-1]}, {len(data)} série(s). "
        + " ".join(summaries)
    )
    out = _open(uid, width, height, title, desc, css_class, chart_id)
    out += _legend(names, left, 10 + 12, width)
    out += _y_axis(ticks, y_of, left, right, unit, decimals)
    group = (right - left) / len(cats)
    bar = min(48.0, group * 0.72 / len(data))
    out.append('<g class="sf-chart-axis">')
    for j, c in enumerate(cats):
        out.append(_text(left + group * (j + 0.5), bottom + 18, c, "middle"))
    out.append("</g>")
    zero = y_of(0.0)
    for i, (name, pts) in enumerate(data):
        colour = COLORS[i % len(COLORS)]
        out.append(f'<g fill="{colour}" data-series="{escape(clean(name))}">')
        known = {label: v for label, v in pts if v is not None}
        for j, c in enumerate(cats):
            if c not in known:
                continue
            v = known[c]
            x = left + group * (j + 0.5) - bar * len(data) / 2 + bar * i
            y = min(zero, y_of(v))
            h = max(abs(y_of(v) - zero), 0.5)
            out.append(
                f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(bar - 2)}" height="{_f(h)}" data-value="{v!r}">'
                f"<title>{escape(clean(name))} {escape(clean(c))} : {escape(fmt_number(v, unit))}</title></rect>"
            )
        out.append("</g>")
    out.append("</svg>")
    return Markup("".join(out))


BASE_LABEL = "Entreprise moyenne"
TOTAL_LABEL = "Probabilité de l'entreprise"
GAP_LABEL = "Écart non expliqué"


def waterfall_rows(
    base: float, contributions: Mapping[str, Any], total: float
) -> list[tuple[str, str, float, float, float]]:
    """The waterfall's rows ``(label, kind, start, end, value)``, kind in base/increase/decrease/total: the base
    probability, each non-zero theme contribution (in the given order), a "gap" row if the contributions do not
    add up to ``total`` (should not happen with ``model.explain.waterfall``), then the total."""
    rows = [(BASE_LABEL, "base", 0.0, base, base)]
    run = base
    for theme, raw in contributions.items():
        c = finite(raw)
        if c is None or c == 0:
            continue
        rows.append((str(theme), "increase" if c > 0 else "decrease", run, run + c, c))
        run += c
    gap = total - run
    if abs(gap) > 1e-6:
        rows.append((GAP_LABEL, "increase" if gap > 0 else "decrease", run, total, gap))
    rows.append((TOTAL_LABEL, "total", 0.0, total, total))
    return rows


def waterfall(
    base: float,
    contributions: Mapping[str, Any],
    total: float,
    title: str,
    width: int = 640,
    css_class: str = "sf-chart",
    chart_id: str | None = None,
) -> Markup:
    """Horizontal waterfall from the base probability (the average company) to the displayed probability: one
    bar per theme contribution, red when it raises the risk, green when it lowers it, labelled in percentage
    points; base and total in blue, labelled in %. Each bar is a ``<rect data-kind data-value>``. The height
    follows the number of rows."""
    base_f, total_f = finite(base), finite(total)
    if base_f is None or total_f is None:
        return _empty(title, css_class, chart_id)
    rows = waterfall_rows(base_f, contributions, total_f)
    ends = [x for r in rows for x in (r[2], r[3])]
    ticks = _ticks(min(0.0, *ends), max(*ends, 0.01))
    if max(base_f, total_f) <= 1:  # a probability: the axis stops at 100 % (a running sum may pass it)
        ticks = [t for t in ticks if t <= 1 + 1e-9] or [0.0, 1.0]
    lo, hi = ticks[0], ticks[-1]
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 0.1
    row_h, top = 26.0, 8.0
    left = min(max(_text_width(r[0]) for r in rows) + 14, width * 0.4)
    right = width - 72.0
    bottom = top + row_h * len(rows)
    height = bottom + 28

    def x_of(v: float) -> float:
        return left + (min(max(v, lo), hi) - lo) / (hi - lo) * (right - left)

    uid = _uid(chart_id)
    parts = [f"{label} {fmt_points(v)}" for label, kind, _, _, v in rows if kind in ("increase", "decrease")]
    desc = (
        f"Décomposition de la probabilité de défaillance : {BASE_LABEL.lower()} {fmt_percent(base_f)}, "
        + (", ".join(parts) + ", " if parts else "")
        + f"soit {fmt_percent(total_f)}."
    )
    out = _open(uid, width, height, title, desc, css_class, chart_id)
    out.append('<g class="sf-chart-axis">')
    for t in ticks:
        x = x_of(t)
        colour = AXIS if t == 0 else GRID
        out.append(f'<line x1="{_f(x)}" x2="{_f(x)}" y1="{_f(top)}" y2="{_f(bottom)}" stroke="{colour}"/>')
        out.append(_text(x, bottom + 18, fmt_number(t * 100, "%", _decimals(step * 100)), "middle"))
    out.append("</g>")
    colours = {"base": BLUE, "total": BLUE, "increase": RED, "decrease": GREEN}
    prev_end: float | None = None
    for i, (label, kind, start, end, value) in enumerate(rows):
        y = top + i * row_h
        x0, x1 = sorted((x_of(start), x_of(end)))
        out.append(_text(left - 8, y + row_h / 2 + 4, label, "end"))
        if prev_end is not None:
            xp = x_of(prev_end)
            out.append(
                f'<line x1="{_f(xp)}" x2="{_f(xp)}" y1="{_f(y - 5)}" y2="{_f(y + 5)}"'
                f' stroke="{AXIS}" stroke-dasharray="2 2"/>'
            )
        shown = fmt_percent(value) if kind in ("base", "total") else fmt_points(value)
        out.append(
            f'<rect x="{_f(x0)}" y="{_f(y + 5)}" width="{_f(max(x1 - x0, 1.0))}" height="{_f(row_h - 10)}"'
            f' fill="{colours[kind]}" data-kind="{kind}" data-value="{value!r}">'
            f"<title>{escape(clean(label))} : {escape(shown)}</title></rect>"
        )
        out.append(_text(max(x1, x0 + 1) + 4, y + row_h / 2 + 4, shown, extra=' font-weight="bold"'))
        prev_end = end
    out.append("</svg>")
    return Markup("".join(out))


# ------------------------------------------------------------------------------------------ the company page


@dataclass(frozen=True)
class ChartSpec:
    """A chart of the company page, independent of the rendering (SVG on the page, PNG in the dossier)."""

    key: str
    kind: Literal["line", "bar", "waterfall"]
    title: str
    unit: str = ""
    series: tuple[Series, ...] = ()
    base: float = 0.0
    contributions: dict[str, float] = field(default_factory=dict)
    total: float = 0.0

    def has_data(self) -> bool:
        if self.kind == "waterfall":
            return True
        return any(finite(v) is not None for _, pts in self.series for _, v in pts)


def as_mapping(value: Any) -> dict[str, Any]:
    """An explanation column (``macro_expl``, ``what_if``): a dict, or its JSON text (as in the list's Parquet)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return dict(value) if isinstance(value, Mapping) else {}


def _points(
    rows: Any, date_key: str, key: str, label: Callable[[Any], str] = str, pct: bool = False
) -> list[tuple[str, float | None]]:
    out = []
    for r in rows or []:
        if isinstance(r, Mapping) and r.get(date_key) is not None:
            v = finite(r.get(key))
            out.append((label(r[date_key]), None if v is None else v * 100 if pct else v))
    return out


def _year(v: Any) -> str:
    s = str(v)
    return s[:4] if parse_date(s) else s


def latest_score(view: Mapping[str, Any]) -> dict[str, Any] | None:
    """The newest score row of the view (``scores`` is newest first), if the view has one."""
    scores = view.get("scores")
    return dict(scores[0]) if isinstance(scores, list) and scores and isinstance(scores[0], Mapping) else None


#: The charts of the series blocks, in page order: (chart, block of the view, kind, title, unit, date column,
#: ((series label, column), …), label of a date).
SERIES_CHARTS: tuple[tuple[str, str, Literal["line", "bar"], str, str, str, tuple[tuple[str, str], ...],
                           Callable[[Any], str]], ...] = (
    ("effectif", "effectif", "line", "Effectif salarié (nombre de salariés)", "salariés", "periode",
     (("Établissement siège", "effectif"), ("Entreprise", "effectif_ent")), str),
    ("urssaf", "urssaf", "line", "Cotisations et dette URSSAF", "€", "periode",
     (("Cotisations appelées", "cotisation"), ("Dette URSSAF", "dette")), str),
    ("dgefp", "dgefp", "line", "Activité partielle", "h", "periode",
     (("Heures autorisées", "apart_heures_autorisees"), ("Heures consommées", "apart_heures_consommees")), str),
    ("finance", "diane", "bar", "Chiffre d'affaires et résultat d'exploitation (comptes publiés)", "k€", "exercice",
     (("Chiffre d'affaires", "ca"), ("Résultat d'exploitation", "resultat_expl")), _year),
    ("bdf", "bdf", "bar", "Taux de marge (Banque de France)", "%", "arrete_bilan",
     (("Taux de marge", "taux_marge"),), _year),
)  # fmt: skip


def _waterfall_spec(view: Mapping[str, Any]) -> ChartSpec | None:
    """The latest score's decomposition, when it has one."""
    score = latest_score(view)
    if score is None:
        return None
    macro = {str(k): f for k, v in as_mapping(score.get("macro_expl")).items() if (f := finite(v)) is not None}
    base, p = finite(score.get("base_probability")), finite(score.get("probability"))
    if not (macro and base is not None and p is not None):
        return None
    title = "Décomposition du score"
    if score.get("liste"):
        title += f" — liste {score['liste']}"
    return ChartSpec("waterfall", "waterfall", title, base=base, contributions=macro, total=p)


def _history_spec(scores: list[Any]) -> ChartSpec:
    history = list(reversed(scores))  # oldest first
    return ChartSpec(
        "historique",
        "line",
        "Historique du score : probabilité de défaillance à 18 mois et seuils de chaque liste",
        "%",
        (
            ("Probabilité", _points(history, "periode", "probability", pct=True)),
            ("Seuil risque élevé", _points(history, "periode", "threshold_high", pct=True)),
            ("Seuil risque modéré", _points(history, "periode", "threshold_moderate", pct=True)),
        ),
    )


def chart_specs(view: Mapping[str, Any]) -> dict[str, ChartSpec]:
    """The charts of a ``company_view`` dict, only for the blocks present in it (in page order): ``waterfall``
    (latest score's ``macro_expl``), ``effectif``, ``urssaf``, ``dgefp``, ``finance`` (DIANE, k€), ``bdf``
    (Banque de France taux de marge, %)."""
    out: dict[str, ChartSpec] = {}
    if (waterfall := _waterfall_spec(view)) is not None:
        out["waterfall"] = waterfall
    scores = view.get("scores")
    if isinstance(scores, list) and scores:
        out["historique"] = _history_spec(scores)
    for name, block, kind, title, unit, date_key, series, label in SERIES_CHARTS:
        if block in view:
            rows = view.get(block) or []
            out[name] = ChartSpec(
                name, kind, title, unit, tuple((s, _points(rows, date_key, key, label)) for s, key in series)
            )
    out.update(payment_specs(view))
    return out


def render_svg(spec: ChartSpec, width: int = 640, height: int = 240, css_class: str = "sf-chart") -> Markup:
    """One spec as inline SVG (``data-chart`` = the spec's key)."""
    if spec.kind == "waterfall":
        return waterfall(spec.base, spec.contributions, spec.total, spec.title, width, css_class, spec.key)
    draw = line_chart if spec.kind == "line" else bar_chart
    return draw(list(spec.series), spec.title, spec.unit, width, height, css_class, spec.key)


def company_charts(view: Mapping[str, Any]) -> dict[str, Markup]:
    """The company page's charts as inline SVG, keyed like ``chart_specs`` (only the blocks present in the view;
    a block without any value gives a "Pas de données" paragraph). Each SVG carries ``data-chart="<key>"`` and
    the ids ``sf-chart-<key>-title``/``-desc`` (one company per page: unique)."""
    out: dict[str, Markup] = {}
    for key, spec in chart_specs(view).items():
        if key == "dgefp" and spec.has_data() and not _any_nonzero(spec):
            out[key] = Markup(
                '<p class="sf-chart-empty fr-text--sm" data-chart="dgefp" id="dgefp-none">'
                "Aucune activité partielle : ni heures autorisées ni heures consommées sur la période.</p>"
            )
        else:
            out[key] = render_svg(spec)
    return out


def _any_nonzero(spec: ChartSpec) -> bool:
    return any((f := finite(v)) is not None and f != 0 for _, pts in spec.series for _, v in pts)


# ------------------------------------------------------------------------- the payments block (issue 23)

#: The charts of the « Paiements » block (``view["paiements"]``, Altares): (chart, title, unit, series).
PAYMENT_CHARTS: tuple[tuple[str, str, str, tuple[tuple[str, str], ...]], ...] = (
    ("paydex", "Retards de paiement aux fournisseurs (paydex, jours de retard en moyenne)", "j",
     (("Jours de retard", "paydex_jours"),)),
    ("fpi", "Indices FPI : risque de retard de paiement de plus de 30 et de 90 jours (sur 100)", "",
     (("FPI 30 jours", "fpi_30"), ("FPI 90 jours", "fpi_90"))),
)  # fmt: skip


def payment_specs(view: Mapping[str, Any]) -> dict[str, ChartSpec]:
    """The « Paiements » block's line charts (``paydex``, ``fpi``), when the view has the block and the chart a
    value (a block without any paydex, or without any FPI, gets no chart: its table says what there is)."""
    if "paiements" not in view:
        return {}
    rows = view.get("paiements") or []
    out = {}
    for key, title, unit, series in PAYMENT_CHARTS:
        spec = ChartSpec(key, "line", title, unit, tuple((s, _points(rows, "date_valeur", c)) for s, c in series))
        if spec.has_data():
            out[key] = spec
    return out
