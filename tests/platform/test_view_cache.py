"""The view cache reuses a user's list rows until something they depend on changes; never across users."""

from __future__ import annotations

from typing import Any

from seed import SEED_COMPANIES
from test_web_matrix import _login

from signaux_faibles.platform.models import User


def test_list_rows_cached_per_user_and_invalidated(web_app: Any, seeded: tuple[str, dict[str, int]]) -> None:
    ids = seeded[1]
    cache = web_app.state.view_cache
    a, _ = _login(web_app, "agent_a", ids)
    b, _ = _login(web_app, "agent_b", ids)
    assert a.get("/listes/1").status_code == 200
    assert a.get("/listes/1").status_code == 200
    assert cache.hits == 1 and cache.misses == 1
    # another user never gets agent A's rows
    page_b = b.get("/listes/1").text
    assert SEED_COMPANIES["out_alerted"][0] in page_b and SEED_COMPANIES["in_alerted"][0] not in page_b
    assert cache.misses == 2
    # a follow changes agent A's view: a miss, and the company shows up
    from signaux_faibles.platform.accounts import follow

    with web_app.state.sessions() as db:
        follow(db, db.get(User, ids["agent_a"]), SEED_COMPANIES["out_alerted"][0], "Veille")
        db.commit()
    page = a.get("/listes/1").text
    assert cache.misses == 3 and SEED_COMPANIES["out_alerted"][0] in page
    # losing the score right: refused at once, whatever is cached
    with web_app.state.sessions() as db:
        db.get(User, ids["agent_a"]).rights = "urssaf"
        db.commit()
    assert a.get("/listes/1").status_code == 403
