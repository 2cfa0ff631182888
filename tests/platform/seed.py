"""The seeded platform of the web tests: six companies, five accounts, one list (``seed_platform``), and an earlier
list with the changes between them (``seed_history``). A plain module: the tests import it (``from seed import …``),
the fixtures of ``conftest.py`` call it.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from fastapi.testclient import TestClient

from signaux_faibles.platform.accounts import sha256
from signaux_faibles.platform.models import Company, Establishment, User, WebSession

#: The seeded companies: (siren, [(siret, département, région)], alert on the list or None).
SEED_COMPANIES = {
    "in_alerted": ("111111111", [("11111111100011", "21", "27")], "Alerte seuil F1"),
    "in_quiet": ("222222222", [("22222222200011", "21", "27")], "Pas d'alerte"),
    "out_alerted": ("333333333", [("33333333300011", "75", "11")], "Alerte seuil F2"),
    "out_followed": ("444444444", [("44444444400011", "75", "11")], "Pas d'alerte"),
    "both_alerted": (
        "555555555",
        [("55555555500011", "75", "11"), ("55555555500029", "21", "27")],
        "Alerte seuil F1",
    ),
    "closed_region": ("666666666", [("66666666600011", "13", "93")], "Alerte seuil F1"),
}
#: The seeded accounts: kind -> (e-mail, organisation, territory, rights, role).
SEED_USERS = {
    "agent_a": ("agent.a@urssaf.fr", "URSSAF", "21", "score,urssaf,dgefp,bdf", "agent"),
    "agent_b": ("agent.b@urssaf.fr", "URSSAF", "75", "score,urssaf,dgefp,bdf", "agent"),
    "no_rights": ("sans.droit@dreets.gouv.fr", "DREETS/DDETS", "21", "", "agent"),
    "org_admin": ("admin.a@urssaf.fr", "URSSAF", "21", "score", "org-admin"),
    "admin": ("admin@beta.gouv.fr", "Équipe nationale", "FR", "", "admin"),
}
SEED_PASSWORD = "Correct-Horse-9-Battery"


def seed_platform(url: str) -> dict[str, int]:
    """A small platform database: the companies and accounts above, one list, agent A follows ``out_followed``.

    The platform is open in régions 27 and 11 only (``closed_region`` is in 93). Returns the users' ids by kind.
    """
    import datetime as dt

    from signaux_faibles.platform import accounts
    from signaux_faibles.platform.models import Company, CompanyMonth, Establishment, List, Score, User
    from signaux_faibles.platform.store import db as platform_db

    engine = platform_db.get_engine(url)
    platform_db.upgrade(engine)
    now = dt.datetime.now(dt.UTC)
    with platform_db.sessions(engine)() as db:
        li = List(batch="2609", algo="test", label="Septembre 2026", periode=dt.date(2026, 9, 1), published_at=now,
                  threshold_high=0.3, threshold_moderate=0.1)  # fmt: skip
        db.add(li)
        db.flush()
        for rank, (kind, (siren, etabs, alert)) in enumerate(SEED_COMPANIES.items(), start=1):
            d0, r0 = etabs[0][1], etabs[0][2]
            db.add(Company(siren=siren, raison_sociale=f"SOCIETE {kind.upper()}", departement=d0, region=r0,
                           siret_siege=etabs[0][0], snapshot_batch="2609", libelle_activite_principale="Test"))  # fmt: skip
            db.flush()
            for siret, d, r in etabs:
                db.add(Establishment(siret=siret, siren=siren, departement=d, region=r, siege=siret == etabs[0][0],
                                     snapshot_batch="2609", est_actif=True))  # fmt: skip
            for m in range(1, 10):
                db.add(CompanyMonth(siren=siren, periode=dt.date(2026, m, 1), cotisation=1000.0 * m, effectif=10,
                                    montant_part_ouvriere=50.0 * m, montant_part_patronale=100.0 * m,
                                    apart_heures_autorisees=20.0))  # fmt: skip
            p = {"Alerte seuil F1": 0.5, "Alerte seuil F2": 0.2}.get(alert, 0.01)
            db.add(Score(list_id=li.id, siren=siren, siret=etabs[0][0], algo="test", rank=rank, probability=p,
                         alert=alert, alert_pre_adjustment=alert, adjustments=[], first_alert=alert != "Pas d'alerte",
                         first_high_alert=alert == "Alerte seuil F1", base_probability=0.01,
                         macro_expl={"dette URSSAF": p - 0.01}, what_if={"dette URSSAF": p / 2},
                         dette_urssaf=1234.0, hausse_urssaf=True, ap_12m=False,
                         probability_3m=p * 0.15, probability_6m=p * 0.35, probability_12m=p * 0.7))  # fmt: skip
        ids = {}
        for kind, (email, org, territory, rights, role) in SEED_USERS.items():
            u = accounts.add_user(db, email, organisation=org, territory=territory, rights=rights, role=role,
                                  password=SEED_PASSWORD)  # fmt: skip
            ids[kind] = u.id
        accounts.follow(
            db, db.get(User, ids["agent_a"]), SEED_COMPANIES["out_followed"][0], "Veille"
        )
        accounts.close_regions(db, "FR")
        accounts.open_region_codes(db, "R27,R11", by="test")
        db.commit()
    engine.dispose()
    return ids


def seed_history(url: str) -> None:
    """An earlier list (August 2026, id 2) for the seeded companies, and list 1's changes against it."""
    import datetime as dt

    from signaux_faibles.platform.models import List, ListChange, Score
    from signaux_faibles.platform.store import db as platform_db

    engine = platform_db.get_engine(url)
    with platform_db.sessions(engine)() as db:
        li = List(batch="2608", algo="test", label="Août 2026", periode=dt.date(2026, 8, 1),
                  published_at=dt.datetime.now(dt.UTC), threshold_high=0.3, threshold_moderate=0.1)  # fmt: skip
        db.add(li)
        db.flush()
        before = {"in_alerted": "Alerte seuil F2", "in_quiet": "Alerte seuil F2", "both_alerted": "Alerte seuil F1"}
        for rank, (kind, alert) in enumerate(before.items(), start=1):
            siren, etabs, now = SEED_COMPANIES[kind]
            db.add(Score(list_id=li.id, siren=siren, siret=etabs[0][0], algo="test", rank=rank,
                         probability={"Alerte seuil F1": 0.4, "Alerte seuil F2": 0.15}[alert], alert=alert,
                         alert_pre_adjustment=alert, adjustments=[], first_alert=True,
                         first_high_alert=alert == "Alerte seuil F1"))  # fmt: skip
            change = "hausse" if now == "Alerte seuil F1" and alert == "Alerte seuil F2" else (
                "sortie" if now == "Pas d'alerte" else None)  # fmt: skip
            if change:
                db.add(ListChange(list_id=1, siren=siren, alert_previous=alert,
                                  alert=None if change == "sortie" else now, change=change, previous_batch="2608"))  # fmt: skip
        db.add(ListChange(list_id=1, siren=SEED_COMPANIES["out_alerted"][0], alert_previous=None,
                          alert="Alerte seuil F2", change="entrée", previous_batch="2608"))  # fmt: skip
        # two DIANE statements of 111111111 (amounts in k€, as DIANE gives them): the company page's table
        from signaux_faibles.platform.models import DianeStatement

        for year, ca, rex, ebe in ((2023, 18460.0, 612.5, 1235.0), (2024, 16890.0, -240.0, 410.0)):
            db.add(DianeStatement(siren=SEED_COMPANIES["in_alerted"][0], exercice=year, arrete_bilan=dt.date(year, 12, 31),
                                  nombre_mois=12, ca=ca, resultat_expl=rex, excedent_brut_d_exploitation=ebe))  # fmt: skip
        db.get(List, 1).previous_batch = "2608"  # type: ignore[union-attr]
        db.commit()
    engine.dispose()


def login(app: Any, kind: str, ids: dict[str, int]) -> tuple[TestClient, str | None]:
    """A client with a logged-in session for the seeded account ``kind`` (notice accepted), and its CSRF token
    (``None`` for ``"anonymous"``, a client without a session)."""
    client = TestClient(app)
    if kind == "anonymous":
        return client, None
    token, csrf = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    now = dt.datetime.now(dt.UTC)
    with app.state.sessions() as db:
        db.add(WebSession(token_hash=sha256(token), user_id=ids[kind], stage="ok", method="password",
                          csrf_token=csrf, created_at=now, last_seen_at=now))  # fmt: skip
        db.get(User, ids[kind]).notice_accepted_at = now
        db.commit()
    client.cookies.set("sf_session", token)
    return client, csrf


def add_hotel_in_dijon(db: Any, siren: str, name: str, adresse: str = "1 RUE DE LA GARE\n21000 DIJON") -> str:
    """A company of agent A's territory (département 21) with its head office, for the search tests; its SIRET."""
    siret = siren + "00011"
    db.add(Company(siren=siren, raison_sociale=name, departement="21", libelle_departement="Côte-d'Or", region="27",
                   siret_siege=siret, snapshot_batch="2609",
                   libelle_activite_principale="Hôtels et hébergement similaire"))  # fmt: skip
    db.flush()
    db.add(Establishment(siret=siret, siren=siren, departement="21", region="27", siege=True, adresse=adresse,
                         est_actif=True, snapshot_batch="2609"))  # fmt: skip
    return siret
