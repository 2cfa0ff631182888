"""Company groups (Ellisphere): who belongs to which group, and the group's head.

``stg_ellisphere`` has one row per filiale and group (the filiale's SIREN is the key; ``siren_groupe`` is the head's
SIREN, NULL when foreign or unknown). ``clean_ellisphere`` is one row per (group, member): the filiales, plus the
head itself as a member at ``niveau_detention`` 0 when its SIREN is known.
"""

from __future__ import annotations

import ibis

from signaux_faibles.panel.clean._common import drop_blacklisted

__all__ = ["clean_ellisphere"]


def clean_ellisphere(stg_ellisphere: ibis.Table, blacklist: ibis.Table | None = None) -> ibis.Table:
    """``(siren, code_groupe, siren_tete, raison_sociale_groupe, niveau_detention, part_financiere)``.

    ``code_groupe`` is Ellisphere's group code (the head's SIREN when the code is missing); a member listed twice
    in a group keeps its closest holding (smallest level, then largest share). The head's own row has
    ``niveau_detention`` 0 and no ``part_financiere``.
    """
    e = stg_ellisphere
    e = e.select(
        siren=e.siren,
        code_groupe=e.code_groupe.coalesce(e.siren_groupe),
        siren_tete=e.siren_groupe,
        raison_sociale_groupe=e.raison_sociale_groupe,
        niveau_detention=e.niveau_detention.cast("int32"),
        part_financiere=e.part_financiere.cast("float64"),
    )
    e = e.filter(e.siren.notnull() & e.code_groupe.notnull())
    heads = e.filter(e.siren_tete.notnull()).select(
        siren=e.siren_tete,
        code_groupe=e.code_groupe,
        siren_tete=e.siren_tete,
        raison_sociale_groupe=e.raison_sociale_groupe,
        niveau_detention=ibis.literal(0, "int32"),
        part_financiere=ibis.null("float64"),
    )
    m = e.union(heads, distinct=True)
    w = ibis.window(
        group_by=[m.code_groupe, m.siren],
        order_by=[
            m.niveau_detention.asc(nulls_first=False),
            m.part_financiere.desc(nulls_first=False),
            m.siren_tete.asc(nulls_first=False),
            m.raison_sociale_groupe.asc(nulls_first=False),
        ],
    )
    m = m.mutate(_rn=ibis.row_number().over(w)).filter(lambda t: t._rn == 0).drop("_rn")
    return drop_blacklisted(m, blacklist)
