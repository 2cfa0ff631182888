"""French regions and départements (INSEE codes, 2016 regions), shipped with the package.

Used by the twin to place establishments and by the pipeline to map a département to its region.
"""

from __future__ import annotations

REGIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "84": ("Auvergne-Rhône-Alpes", ("01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74")),
    "27": ("Bourgogne-Franche-Comté", ("21", "25", "39", "58", "70", "71", "89", "90")),
    "53": ("Bretagne", ("22", "29", "35", "56")),
    "24": ("Centre-Val de Loire", ("18", "28", "36", "37", "41", "45")),
    "94": ("Corse", ("2A", "2B")),
    "44": ("Grand Est", ("08", "10", "51", "52", "54", "55", "57", "67", "68", "88")),
    "32": ("Hauts-de-France", ("02", "59", "60", "62", "80")),
    "11": ("Île-de-France", ("75", "77", "78", "91", "92", "93", "94", "95")),
    "28": ("Normandie", ("14", "27", "50", "61", "76")),
    "75": (
        "Nouvelle-Aquitaine",
        ("16", "17", "19", "23", "24", "33", "40", "47", "64", "79", "86", "87"),
    ),
    "76": (
        "Occitanie",
        ("09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82"),
    ),
    "52": ("Pays de la Loire", ("44", "49", "53", "72", "85")),
    "93": ("Provence-Alpes-Côte d'Azur", ("04", "05", "06", "13", "83", "84")),
    "01": ("Guadeloupe", ("971",)),
    "02": ("Martinique", ("972",)),
    "03": ("Guyane", ("973",)),
    "04": ("La Réunion", ("974",)),
    "06": ("Mayotte", ("976",)),
}

DEPARTEMENT_REGION: dict[str, str] = {d: r for r, (_, ds) in REGIONS.items() for d in ds}


def departements_of(region_codes: str | list[str]) -> list[str]:
    """Départements of one or more regions (``"27"`` or ``"27,84"``); raise ``ValueError`` on an unknown code."""
    codes = region_codes.split(",") if isinstance(region_codes, str) else region_codes
    out: list[str] = []
    for code in (c.strip().upper().removeprefix("R") for c in codes if c.strip()):
        if code not in REGIONS:
            raise ValueError(f"unknown region code {code!r}; expected one of {', '.join(sorted(REGIONS))}")
        out.extend(REGIONS[code][1])
    return out


def departement_from_commune(code_commune: str) -> str | None:
    """Département of an INSEE commune code: 3 characters overseas (97x, 98x), 2A/2B kept for Corsica."""
    c = (code_commune or "").strip().upper()
    if len(c) < 2:
        return None
    return c[:3] if c.startswith(("97", "98")) else c[:2]
