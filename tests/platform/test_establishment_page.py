"""The establishment page (issue 23): an agent works establishment by establishment. Its series (effectif, URSSAF
cotisations and debt, activité partielle) and URSSAF délais, each block as the guard decides (the company's rule);
the département map drawn from the shipped outlines; the company's other establishments; 404 for an unknown SIRET;
the audit trail.

Positive cases use agent A, in the territory (département 21) with every data right, on an alerted company;
negative cases take the data rights away, so that they hold whichever way the territory rule goes."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from typing import Any

import pytest
from seed import SEED_COMPANIES, SEED_PASSWORD, login
from sqlalchemy import select

from signaux_faibles.platform import accounts
from signaux_faibles.platform.models import AuditEvent, Delai, Establishment, EstablishmentMonth
from signaux_faibles.platform.web.establishment_charts import GEOJSON, departement_map, osm_links

SIREN = SEED_COMPANIES["in_alerted"][0]
SIRET = SEED_COMPANIES["in_alerted"][1][0][0]  # the head office, in Dijon (21)
SECOND = SIREN + "00029"  # a second establishment of the same company, in Beaune (21)
DIJON = (47.3220, 5.0415)


@pytest.fixture
def etab_app(web_app: Any) -> Any:
    """The seeded platform with the head office's series and délais, its address and coordinates, and a second
    establishment whose recorded coordinates fall outside the département (as the twin's pseudo coordinates do)."""
    with web_app.state.sessions() as db:
        head = db.get(Establishment, SIRET)
        head.adresse, head.libelle_departement, head.libelle_region = "1 RUE DE LA GARE\n21000 DIJON", "Côte-d'Or", "Bourgogne-Franche-Comté"  # fmt: skip
        head.latitude, head.longitude = DIJON
        db.add(Establishment(siret=SECOND, siren=SIREN, departement="21", region="27", siege=False,
                             adresse="3 PLACE CARNOT\n21200 BEAUNE", libelle_departement="Côte-d'Or", est_actif=True,
                             latitude=43.60, longitude=-0.50, snapshot_batch="2609"))  # fmt: skip
        for m in range(1, 7):
            db.add(EstablishmentMonth(siret=SIRET, siren=SIREN, periode=dt.date(2026, m, 1), effectif=40 - m,
                                      cotisation=12345.0 + m, part_ouvriere=1000.0 * m, part_patronale=2000.0 * m,
                                      etp_autorise=2.5 if m >= 3 else None, etp_consomme=1.25 * (m >= 4)))  # fmt: skip
        db.add(EstablishmentMonth(siret=SECOND, siren=SIREN, periode=dt.date(2026, 1, 1), effectif=3))
        db.add(Delai(siret=SIRET, siren=SIREN, numero_compte="427986174187062566", numero_contentieux="C-2026-17",
                     date_creation=dt.date(2026, 3, 2), date_echeance=dt.date(2026, 9, 2), duree_delai=184,
                     montant_echeancier=15230.6, stade="APPROB", action="DELAI"))  # fmt: skip
        db.commit()
    return web_app


def _page(client: Any, siret: str = SIRET) -> str:
    r = client.get(f"/etablissements/{siret}")
    assert r.status_code == 200, r.text[:500]
    return html.unescape(r.text)


def _events(app: Any, user_id: int, siret: str) -> list[AuditEvent]:
    with app.state.sessions() as db:
        return list(db.scalars(
            select(AuditEvent).where(AuditEvent.user_id == user_id, AuditEvent.siret == siret).order_by(AuditEvent.id)
        ))  # fmt: skip


def test_blocks_appear_with_the_right_data(etab_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    client, _ = login(etab_app, "agent_a", seeded[1])
    page = _page(client)
    for chart in ("etablissement-effectif", "etablissement-urssaf", "etablissement-dgefp"):
        assert f'data-chart="{chart}"' in page, chart
    # the table fallback of each chart, in French formats
    effectif = page.split('id="effectif-tableau"')[1].split("</details>")[0]
    assert (
        "janvier 2026" in effectif and ">39<" in effectif and "juin 2026" in effectif and ">34<" in effectif
    )
    urssaf = page.split('id="urssaf-tableau"')[1].split("</details>")[0]
    assert "12 351 €" in urssaf.replace("\u202f", " ").replace("\u00a0", " ")  # June: 12 345 + 6
    assert "18 000 €" in urssaf.replace("\u202f", " ").replace("\u00a0", " ")  # June's debt: 6 000 + 12 000
    dgefp = page.split('id="dgefp-tableau"')[1].split("</details>")[0]
    assert "2,50" in dgefp and "1,25" in dgefp and "—" in dgefp  # no authorisation before March
    # the délais, in French
    delais = page.split('id="delais-tableau"')[1].split("</table>")[0]
    assert "02/03/2026" in delais and "02/09/2026" in delais and "184 jours" in delais
    assert "15 231 €" in delais.replace("\u202f", " ").replace("\u00a0", " ")
    assert (
        "accordé" in delais
        and "<td>délai</td>" in delais
        and "427986174187062566" in delais
        and "C-2026-17" in delais
    )
    assert "APPROB" not in delais
    # the company's other establishment, linked
    others = page.split('id="autres-etablissements"')[1]
    assert f'href="/etablissements/{SECOND}"' in others and f'href="/etablissements/{SIRET}"' not in others
    assert f'href="/entreprises/{SIREN}"' in page
    # the API gives the same blocks
    api = client.get(f"/api/establishments/{SIRET}").json()
    assert [r["effectif"] for r in api["effectif"]] == [39, 38, 37, 36, 35, 34]
    assert api["urssaf"][-1] == {"periode": "2026-06-01", "cotisation": 12351.0, "dette_part_ouvriere": 6000.0,
                                 "dette_part_patronale": 12000.0, "dette": 18000.0}  # fmt: skip
    assert api["dgefp"][0] == {"periode": "2026-01-01", "etp_autorise": None, "etp_consomme": 0.0}
    assert api["delais"][0]["stade_fr"] == "accordé" and api["delais"][0]["montant_echeancier"] == 15230.6
    assert api["permissions"] == {"effectif": True, "urssaf": True, "delais": True, "dgefp": True}
    assert [o["siret"] for o in api["other_establishments"]] == [SECOND]


def test_blocks_disappear_without_the_rights(etab_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    client, _ = login(etab_app, "no_rights", seeded[1])  # département 21, no data right
    page = _page(client)
    assert 'data-chart="etablissement-effectif"' in page  # effectif: every agent's
    for block in ("urssaf", "delais", "dgefp"):
        assert f'id="{block}-hidden"' in page, block
        assert f'id="{block}-tableau"' not in page, block
    assert 'data-chart="etablissement-urssaf"' not in page and 'data-chart="etablissement-dgefp"' not in page
    for secret in ("427986174187062566", "C-2026-17", "12 351", "15 231", "accordé"):
        assert secret not in page.replace("\u202f", " ").replace("\u00a0", " "), secret
    api = client.get(f"/api/establishments/{SIRET}").json()
    assert "effectif" in api and not {"urssaf", "delais", "dgefp"} & set(api)
    assert api["permissions"] == {"effectif": True, "urssaf": False, "delais": False, "dgefp": False}


def test_each_block_follows_its_own_right(etab_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    """An agent of the territory with the score and URSSAF rights but not DGEFP: cotisations, debt and délais, no
    activité partielle."""
    with etab_app.state.sessions() as db:
        user = accounts.add_user(db, "urssaf.seul@urssaf.fr", organisation="URSSAF", territory="21",
                                 rights="score,urssaf", password=SEED_PASSWORD)  # fmt: skip
        db.commit()
        ids = {"urssaf_only": user.id}
    client, _ = login(etab_app, "urssaf_only", ids)
    page = _page(client)
    assert 'id="urssaf-tableau"' in page and 'id="delais-tableau"' in page
    assert 'id="dgefp-hidden"' in page and 'data-chart="etablissement-dgefp"' not in page
    shown = [e.detail for e in _events(etab_app, user.id, SIRET) if e.event == "confidential_shown"]
    assert shown == [{"blocks": ["urssaf", "delais"]}]


def test_unknown_siret_is_a_404(etab_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    client, _ = login(etab_app, "agent_a", seeded[1])
    for siret in ("99999999999999", SEED_COMPANIES["closed_region"][1][0][0]):
        r = client.get(f"/etablissements/{siret}")
        assert r.status_code == 404, siret
        assert "Établissement inconnu" in html.unescape(r.text)
        assert client.get(f"/api/establishments/{siret}").status_code == 404
    assert client.get("/etablissements/123").status_code == 422
    denied = [e for e in _events(etab_app, seeded[1]["agent_a"], "99999999999999") if e.event == "denied"]
    assert denied, "the refused access is recorded"


def test_viewing_is_audited(etab_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    ids = seeded[1]
    client, _ = login(etab_app, "agent_a", ids)
    _page(client)
    events = _events(etab_app, ids["agent_a"], SIRET)
    assert [e.event for e in events] == ["company_viewed", "confidential_shown"]
    assert all(e.siren == SIREN for e in events)
    assert events[1].detail == {"blocks": ["urssaf", "delais", "dgefp"]}
    client, _ = login(etab_app, "no_rights", ids)
    _page(client)
    assert [e.event for e in _events(etab_app, ids["no_rights"], SIRET)] == ["company_viewed"]


def test_map_of_the_departement(etab_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    client, _ = login(etab_app, "agent_a", seeded[1])
    page = _page(client)
    carte = page.split('id="carte"')[1].split("</figure>")[0]
    assert 'data-map="departement" data-departement="21"' in carte and 'role="img"' in carte
    assert 'data-position="inside"' in carte and "Carte du département Côte-d'Or (21)" in carte
    assert "Licence Ouverte" in carte and "IGN" in carte
    links = page.split('id="liens-osm"')[1].split("</ul>")[0]
    assert "https://www.openstreetmap.org/search?query=1%20RUE%20DE%20LA%20GARE%2C%2021000%20DIJON" in links
    assert "mlat=47.32200&mlon=5.04150" in links and 'rel="noopener noreferrer"' in links
    # no tile, no script, no image from outside the platform
    assert not re.findall(r'(?:src)\s*=\s*["\']https?://', page)
    # coordinates outside the outline: said, and the dot drawn clamped
    page = _page(client, SECOND)
    assert 'data-position="outside"' in page and 'id="carte-hors-contour"' in page
    assert "43,6000" in page and "hors du département" in page
    # the company page links each establishment to its page
    company = html.unescape(client.get(f"/entreprises/{SIREN}").text)
    assert f'href="/etablissements/{SIRET}"' in company and f'href="/etablissements/{SECOND}"' in company


def test_departement_map_drawing() -> None:
    m = departement_map("21", *DIJON)
    assert m is not None and m.inside is True and m.nom == "Côte-d'Or"
    assert departement_map("21", 43.6, -0.5).inside is False  # type: ignore[union-attr]
    assert departement_map("21", None, None).inside is None  # type: ignore[union-attr]
    assert "data-position" not in str(departement_map("21", None, None).svg)  # type: ignore[union-attr]
    assert departement_map("2a", 41.93, 8.74).inside is True  # type: ignore[union-attr]  # Ajaccio
    assert departement_map("971", 16.24, -61.53).inside is True  # type: ignore[union-attr]  # Pointe-à-Pitre
    assert departement_map("75", 48.8566, 2.3522).inside is True  # type: ignore[union-attr]
    assert departement_map("99", 1, 2) is None and departement_map(None, 1, 2) is None
    assert osm_links(None, None, None) == {}
    assert "position" not in osm_links("X", 0, 0)  # (0, 0): no coordinates


def test_shipped_outlines_are_small_and_credited() -> None:
    assert GEOJSON.stat().st_size < 600_000
    data = json.loads(GEOJSON.read_text(encoding="utf-8"))
    codes = {f["properties"]["code"] for f in data["features"]}
    assert len(codes) == 101 and {"01", "2A", "2B", "95", "971", "976"} <= codes
    readme = (GEOJSON.parent / "README.md").read_text(encoding="utf-8")
    assert (
        "Licence Ouverte" in readme and "gregoiredavid/france-geojson" in readme and "ADMIN EXPRESS" in readme
    )


def test_outside_the_territory_nothing_confidential(
    etab_app: Any, seeded: tuple[str, dict[str, int]]
) -> None:
    """Agent B (Paris, every data right) on an establishment of Dijon he does not follow: refused, or (the
    identity being every agent's) shown with the identity and effectif only, the access recorded as out of the
    territory — whichever way the territory rule goes, no URSSAF nor activité partielle data."""
    ids = seeded[1]
    client, _ = login(etab_app, "agent_b", ids)
    r = client.get(f"/etablissements/{SIRET}")
    assert r.status_code in (200, 403)
    page = html.unescape(r.text)
    for secret in (
        "427986174187062566",
        "12 351",
        'id="urssaf-tableau"',
        'id="delais-tableau"',
        'id="dgefp-tableau"',
    ):
        assert secret not in page.replace("\u202f", " ").replace("\u00a0", " "), secret
    events = [e.event for e in _events(etab_app, ids["agent_b"], SIRET)]
    if r.status_code == 200:
        assert 'id="hors-territoire"' in page and 'id="urssaf-hidden"' in page
        assert "out_of_territory" in events and "confidential_shown" not in events
    else:
        assert events == ["denied"]
