"""Server-side drawings of the establishment page: its series as line charts (the builders of ``web.charts``) and a
map of its département with a dot at its coordinates, all inline SVG (no JavaScript, no tiles, no request outside
the platform).

The map's outlines come from ``platform/data/geo/departements.geojson`` (IGN ADMIN EXPRESS COG 2018 via
gregoiredavid/france-geojson, Licence Ouverte Etalab: see the README next to it). The projection is
equirectangular around the département's mid-latitude (longitudes shrunk by its cosine): at a département's scale
the distortion is invisible. Coordinates that fall outside the département's outline (a geocoding error, or the
twin's pseudo coordinates) are said so: the dot is drawn hollow, clamped to the map's edge.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from markupsafe import Markup, escape

from .charts import BLUE, FONT, GREY, ORANGE, RED, ChartSpec, Series, clean, finite, render_svg

__all__ = [
    "GEOJSON",
    "MAP_CREDIT",
    "SERIES_CHARTS",
    "DepartementMap",
    "departement_map",
    "establishment_charts",
    "osm_links",
]

#: The département outlines (see ``data/geo/README.md``).
GEOJSON = Path(__file__).resolve().parents[1] / "data" / "geo" / "departements.geojson"
#: The credit the licence asks for, shown under the map.
MAP_CREDIT = (
    "Contours des départements : IGN — ADMIN EXPRESS COG 2018 (via france-geojson), Licence Ouverte Etalab."
)

#: The establishment page's charts: (key = block of the view, title, unit, ((series label, column), …)).
SERIES_CHARTS: tuple[tuple[str, str, str, tuple[tuple[str, str], ...]], ...] = (
    ("effectif", "Effectif salarié de l'établissement", "salariés", (("Effectif", "effectif"),)),
    ("urssaf", "Cotisations appelées et dette URSSAF de l'établissement", "€",
     (("Cotisations appelées", "cotisation"), ("Dette part ouvrière", "dette_part_ouvriere"),
      ("Dette part patronale", "dette_part_patronale"))),
    ("dgefp", "Activité partielle de l'établissement (équivalents temps plein)", "ETP",
     (("ETP autorisés", "etp_autorise"), ("ETP consommés", "etp_consomme"))),
)  # fmt: skip


def establishment_charts(view: Mapping[str, Any]) -> dict[str, Markup]:
    """The charts of an ``establishment_view`` dict, only for the blocks present in it (the view is already
    filtered by the guard; a chart never adds data). A block without any value gives a "Pas de données"
    paragraph (``web.charts.line_chart``)."""
    out: dict[str, Markup] = {}
    for key, title, unit, columns in SERIES_CHARTS:
        if key not in view:
            continue
        rows = [r for r in view.get(key) or [] if isinstance(r, Mapping) and r.get("periode")]
        series: tuple[Series, ...] = tuple(
            (label, [(str(r["periode"]), finite(r.get(col))) for r in rows]) for label, col in columns
        )
        out[key] = render_svg(
            ChartSpec(f"etablissement-{key}", "line", title, unit, series), width=1000, height=260
        )
    return out


# ----------------------------------------------------------------------------------------------------- the map

Ring = list[tuple[float, float]]
Polygon = list[Ring]  # the outer ring, then the holes


@functools.cache
def _departements() -> dict[str, tuple[str, tuple[Polygon, ...]]]:
    """The outlines by département code: (name, polygons)."""
    out: dict[str, tuple[str, tuple[Polygon, ...]]] = {}
    for feature in json.loads(GEOJSON.read_text(encoding="utf-8"))["features"]:
        geom = feature["geometry"]
        polys = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
        props = feature["properties"]
        out[props["code"]] = (
            props["nom"],
            tuple([[(float(x), float(y)) for x, y in ring] for ring in poly] for poly in polys),
        )
    return out


def _bbox(polys: Sequence[Polygon]) -> tuple[float, float, float, float]:
    xs = [x for poly in polys for x, _ in poly[0]]
    ys = [y for poly in polys for _, y in poly[0]]
    return min(xs), min(ys), max(xs), max(ys)


def _inside(lon: float, lat: float, polys: Sequence[Polygon]) -> bool:
    """Whether the point is in the outline (even-odd rule over every ring: holes count)."""
    crossings = 0
    for poly in polys:
        for ring in poly:
            for (x1, y1), (x2, y2) in itertools.pairwise(ring):
                if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
                    crossings += 1
    return crossings % 2 == 1


@dataclass(frozen=True)
class DepartementMap:
    """The drawn map: its SVG, the département's name, and where the dot fell (``True`` in the outline, ``False``
    outside it — drawn clamped — ``None`` without coordinates)."""

    svg: Markup
    nom: str
    inside: bool | None


@dataclass(frozen=True)
class _Frame:
    """The projection of a département's bounding box onto the SVG."""

    lon0: float
    lat1: float
    k: float  # pixels per degree of latitude
    kx: float  # cos(mid-latitude)
    pad: float
    width: float
    height: float

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        return self.pad + (lon - self.lon0) * self.kx * self.k, self.pad + (self.lat1 - lat) * self.k

    def clamp(self, x: float, y: float) -> tuple[float, float]:
        m = 12.0
        return min(max(x, m), self.width - m), min(max(y, m), self.height - m)


def _frame(bbox: tuple[float, float, float, float], size: float, pad: float) -> _Frame:
    lon0, lat0, lon1, lat1 = bbox
    kx = math.cos(math.radians((lat0 + lat1) / 2))
    dx, dy = max((lon1 - lon0) * kx, 1e-6), max(lat1 - lat0, 1e-6)
    k = (size - 2 * pad) / max(dx, dy)
    return _Frame(lon0, lat1, k, kx, pad, dx * k + 2 * pad, dy * k + 2 * pad)


def _path(frame: _Frame, polys: Sequence[Polygon]) -> str:
    parts = []
    for poly in polys:
        for ring in poly:
            pts = [frame.xy(x, y) for x, y in ring]
            parts.append("M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in pts) + " Z")
    return " ".join(parts)


def _neighbours(code: str, bbox: tuple[float, float, float, float]) -> list[tuple[Polygon, ...]]:
    lon0, lat0, lon1, lat1 = bbox
    out = []
    for other, (_, polys) in _departements().items():
        if other == code:
            continue
        a, b, c, d = _bbox(polys)
        if a <= lon1 and c >= lon0 and b <= lat1 and d >= lat0:
            out.append(polys)
    return out


def _coordinates(latitude: Any, longitude: Any) -> tuple[float, float] | None:
    lat, lon = finite(latitude), finite(longitude)
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None
    return lat, lon


def _dot(frame: _Frame, lat: float, lon: float, inside: bool) -> str:
    x, y = frame.xy(lon, lat)
    if inside:
        return (f'<circle cx="{x:.1f}" cy="{y:.1f}" r="7" fill="{RED}" stroke="#ffffff" stroke-width="2"'
                ' data-position="inside"/>')  # fmt: skip
    x, y = frame.clamp(x, y)
    return (f'<circle cx="{x:.1f}" cy="{y:.1f}" r="7" fill="#ffffff" stroke="{ORANGE}" stroke-width="3"'
            ' stroke-dasharray="4 2" data-position="outside"/>')  # fmt: skip


def departement_map(
    departement: str | None, latitude: Any, longitude: Any, size: int = 420
) -> DepartementMap | None:
    """The département's outline (its neighbours in light grey) with a dot at the establishment's coordinates, as
    an accessible inline SVG (``role="img"``, French title and description); None for a département the outlines
    do not have (abroad, unknown)."""
    found = _departements().get((departement or "").strip().upper())
    if found is None:
        return None
    nom, polys = found
    code = (departement or "").strip().upper()
    pad = 14.0
    bbox = _bbox(polys)
    frame = _frame(bbox, size, pad)
    margin_lon = pad / (frame.k * frame.kx)
    margin_lat = pad / frame.k
    view = (bbox[0] - margin_lon, bbox[1] - margin_lat, bbox[2] + margin_lon, bbox[3] + margin_lat)
    point = _coordinates(latitude, longitude)
    inside = _inside(point[1], point[0], polys) if point else None
    title = f"Carte du département {nom} ({code})"
    if point is None:
        desc = "Coordonnées de l'établissement inconnues : pas de point sur la carte."
    else:
        where = "dans le département" if inside else "hors du département (point ramené au bord de la carte)"
        lat, lon = (f"{v:.4f}".replace(".", ",") for v in point)
        desc = f"Établissement à la latitude {lat} et à la longitude {lon}, {where}."
    uid = f"sf-map-{code}"
    w, h = frame.width, frame.height
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="{uid}-title {uid}-desc"'
        f' class="sf-map" data-map="departement" data-departement="{escape(code)}" width="{w:.0f}" height="{h:.0f}"'
        f' viewBox="0 0 {w:.1f} {h:.1f}" style="max-width:100%;height:auto" font-family="{FONT}" font-size="12">',
        f'<title id="{uid}-title">{escape(clean(title))}</title>',
        f'<desc id="{uid}-desc">{escape(clean(desc))}</desc>',
        f'<rect x="0" y="0" width="{w:.1f}" height="{h:.1f}" fill="#f6f6f6"/>',
    ]
    for other in _neighbours(code, view):
        out.append(f'<path d="{_path(frame, other)}" fill="#ffffff" stroke="#cecece" stroke-width="1"/>')
    out.append(
        f'<path d="{_path(frame, polys)}" fill="#e3e3fd" fill-rule="evenodd" stroke="{BLUE}" stroke-width="2"'
        ' data-outline="departement"/>'
    )
    if point is not None and inside is not None:
        out.append(_dot(frame, point[0], point[1], inside))
    out.append(
        f'<rect x="0.5" y="0.5" width="{w - 1:.1f}" height="{h - 1:.1f}" fill="none" stroke="{GREY}"/>'
    )
    out.append("</svg>")
    return DepartementMap(Markup("".join(out)), nom, inside)


def osm_links(adresse: str | None, latitude: Any, longitude: Any) -> dict[str, str]:
    """Links to openstreetmap.org (links only, never tiles on the page): ``adresse`` (a search of the address, its
    lines joined) and ``position`` (the coordinates, zoom 17), each when known."""
    out = {}
    text = ", ".join(line.strip() for line in (adresse or "").splitlines() if line.strip())
    if text:
        out["adresse"] = "https://www.openstreetmap.org/search?" + urlencode({"query": text}, quote_via=quote)
    point = _coordinates(latitude, longitude)
    if point is not None:
        lat, lon = (f"{v:.5f}" for v in point)
        out["position"] = f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}"
    return out
