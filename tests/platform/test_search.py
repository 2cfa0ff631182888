"""The name search ignores case and accents (issue 22, item 2): one folded name column (``fold_name``, written at
publication and by the ORM, filled by migration 0009), one path for ``/recherche``, ``/api/search`` and the list's
filter ``q``, the best matches first, the total beyond the first page, and each result's town, département, alert
level (with the score right) and proceeding. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from seed import add_hotel_in_dijon, login
from sqlalchemy import select, text

from signaux_faibles.platform.models import Company, Establishment, ProcolEvent, Score
from signaux_faibles.platform.store.db import get_engine, sessions, upgrade
from signaux_faibles.platform.store.identity import fold_name

#: Accented companies of the seeded territory (département 21, région 27), with their alert on list 1.
ACCENTED = {
    "777777771": ("HÔTEL SIMON", "Alerte seuil F1"),
    "777777772": ("SOCIÉTÉ LEFÈVRE ET FILS", "Alerte seuil F2"),
    "777777773": ("GRAND HOTEL DU LAC", None),
    "777777774": ("L'ŒUVRE DES CHÂTEAUX", None),
}


def test_fold_name() -> None:
    assert fold_name("SOCIÉTÉ  LEFÈVRE") == "societe lefevre"
    assert fold_name("HÔTEL-DE-VILLE l'Été") == "hotel de ville l ete"
    assert fold_name("L'ŒUVRE") == "l oeuvre"
    assert fold_name("100% _bio_") == "100% _bio_"  # LIKE's wildcards stay characters
    assert fold_name(None) is None


def _add_accented(app: Any) -> None:
    with app.state.sessions() as db:
        for i, (siren, (name, alert)) in enumerate(ACCENTED.items(), start=10):
            siret = add_hotel_in_dijon(db, siren, name)
            if alert:
                db.add(Score(list_id=1, siren=siren, siret=siret, algo="test", rank=i, probability=0.4,
                             alert=alert, alert_pre_adjustment=alert, adjustments=[], first_alert=True,
                             first_high_alert=False, base_probability=0.01))  # fmt: skip
        db.add(ProcolEvent(siren="777777772", date_effet=dt.date(2026, 6, 1), action_procol="redressement",
                           stade_procol="ouverture"))  # fmt: skip
        db.commit()


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("hôtel", {"777777771", "777777773"}),
        ("HÔTEL", {"777777771", "777777773"}),
        ("hotel", {"777777771", "777777773"}),
        ("societe lefevre", {"777777772"}),
        ("SOCIÉTÉ LEFÈVRE", {"777777772"}),
        ("lefèvre société", {"777777772"}),  # every word, in any order
        ("l'oeuvre", {"777777774"}),
        ("chateaux", {"777777774"}),
    ],
)
def test_search_ignores_case_and_accents(
    web_app: Any, seeded: tuple[str, dict[str, int]], q: str, found: set[str]
) -> None:
    _add_accented(web_app)
    client, _ = login(web_app, "agent_a", seeded[1])
    r = client.get("/api/search", params={"q": q})
    assert r.status_code == 200
    assert {c["siren"] for c in r.json()} == found
    assert r.headers["X-Total-Count"] == str(len(found))
    page = client.get("/recherche", params={"q": q}).text
    assert all(f"/entreprises/{s}" in page for s in found)
    listed = {s for s in found if ACCENTED[s][1]}
    r = client.get("/listes/1", params={"q": q})
    assert {s for s in ACCENTED if f"/entreprises/{s}" in r.text} == listed


def test_search_ranks_and_describes(web_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    _add_accented(web_app)
    client, _ = login(web_app, "agent_a", seeded[1])
    got = client.get("/api/search", params={"q": "hotel"}).json()
    assert [c["siren"] for c in got] == ["777777771", "777777773"]  # the name's beginning before a word inside
    simon = got[0]
    assert simon["commune"] == "DIJON" and simon["departement"] == "21"
    assert simon["libelle_departement"] == "Côte-d'Or" and simon["alert"] == "Alerte seuil F1"
    assert got[1]["alert"] is None  # not alerted: no level
    lefevre = client.get("/api/search", params={"q": "lefevre"}).json()[0]
    assert lefevre["procedure"] == "redressement judiciaire (ouverture)"
    page = client.get("/recherche", params={"q": "hotel"}).text
    assert "2 entreprises trouvées" in page and "DIJON" in page and "Risque élevé" in page
    assert page.index("HÔTEL SIMON") < page.index("GRAND HOTEL DU LAC")
    # without the score right, no alert level
    other, _ = login(web_app, "no_rights", seeded[1])
    got = other.get("/api/search", params={"q": "hotel"}).json()
    assert [c["alert"] for c in got] == [None, None]
    assert "Risque élevé" not in other.get("/recherche", params={"q": "hotel"}).text


def test_search_says_how_many_beyond_the_first_page(web_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    from signaux_faibles.platform.web.data import SEARCH_LIMIT

    with web_app.state.sessions() as db:
        for i in range(SEARCH_LIMIT + 5):
            siren = f"8{i:08d}"
            db.add(Company(siren=siren, raison_sociale=f"BOULANGERIE N°{i}", departement="21", region="27",
                           snapshot_batch="2609"))  # fmt: skip
            db.flush()
            db.add(Establishment(siret=siren + "00011", siren=siren, departement="21", region="27",
                                 snapshot_batch="2609"))  # fmt: skip
        db.commit()
    client, _ = login(web_app, "agent_a", seeded[1])
    r = client.get("/api/search", params={"q": "Boulangerie"})
    assert len(r.json()) == SEARCH_LIMIT and r.headers["X-Total-Count"] == str(SEARCH_LIMIT + 5)
    page = client.get("/recherche", params={"q": "boulangerie"}).text
    assert f"{SEARCH_LIMIT + 5} entreprises trouvées" in page and "(5 de plus)" in page


def test_migration_0009_folds_the_published_names(db_url: str) -> None:
    from alembic import command

    from signaux_faibles.platform.store.db import _alembic_config

    engine = get_engine(db_url)
    try:
        with engine.begin() as c:
            command.upgrade(_alembic_config(c), "0008")
        with engine.begin() as c:
            c.execute(text("INSERT INTO companies (siren, raison_sociale, snapshot_batch) "
                           "VALUES ('123456789', 'CAFÉ DE L''ÉTOILE', '2609'), ('987654321', NULL, '2609')"))  # fmt: skip
        upgrade(engine)
        with sessions(engine)() as db:
            got = dict(db.execute(select(Company.siren, Company.raison_sociale_folded)).all())
        assert got == {"123456789": "cafe de l etoile", "987654321": None}
    finally:
        engine.dispose()


def test_publication_writes_the_folded_names(db_url: str, twin_data: tuple[Path, str]) -> None:
    from signaux_faibles.platform.store.publish import publish

    data, batch = twin_data
    publish(data, batch, db_url)
    engine = get_engine(db_url)
    try:
        with sessions(engine)() as db:
            rows = db.execute(select(Company.raison_sociale, Company.raison_sociale_folded)).all()
    finally:
        engine.dispose()
    named = [(n, f) for n, f in rows if n]
    assert named and all(f == fold_name(n) for n, f in named)


def test_national_search_gives_identity_only(web_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    """« Recherche nationale » (the real system's ``ignorezone``): the companies of the whole platform, those
    outside the actor's view with their identity only; never a company of a closed région."""
    from seed import SEED_COMPANIES

    client, _ = login(web_app, "agent_a", seeded[1])
    out, closed = SEED_COMPANIES["out_alerted"][0], SEED_COMPANIES["closed_region"][0]
    local = {c["siren"] for c in client.get("/api/search", params={"q": "societe"}).json()}
    assert out not in local
    got = {c["siren"]: c for c in client.get("/api/search", params={"q": "societe", "national": "true"}).json()}
    assert out in got and closed not in got and local < set(got)
    assert got[out]["visible"] is False and got[out]["alert"] is None and got[out]["procedure"] is None
    assert got[SEED_COMPANIES["in_alerted"][0]]["visible"] is True
    assert got[SEED_COMPANIES["in_alerted"][0]]["alert"] == "Alerte seuil F1"
    page = client.get("/recherche", params={"q": "societe", "nationale": "1"}).text
    assert "SOCIETE OUT_ALERTED" in page and f"/entreprises/{out}" in page
    assert "Hors de votre territoire" in page and "toutes celles de la plateforme" in page
    assert f"/entreprises/{closed}" not in page and "SOCIETE CLOSED_REGION" not in page
    # the company page opens out of the territory with the identity only (datapi's golden ``vAf`` case)
    company = client.get(f"/api/companies/{out}").json()
    assert company["in_territory"] is False and not any(company["permissions"].values())
    assert 'id="score-hidden"' in client.get(f"/entreprises/{out}").text
