"""The monthly risk list: scoring, flags, expert adjustments, diff, merge (:mod:`.score`, :mod:`.adjustments`)
and exports (:mod:`.export`). Publication to the platform database is :mod:`signaux_faibles.platform`."""
