"""Issue 22, item 10: the demo's accounts cover each partner's view; ``demo --serve`` reuses an existing demo."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from signaux_faibles.platform.cli import DEMO_ACCOUNTS, create_demo_accounts
from signaux_faibles.platform.models import Organisation, User
from signaux_faibles.platform.store import db as platform_db


def test_demo_accounts_cover_each_partner(seeded: tuple[str, dict[str, int]]) -> None:
    engine = platform_db.get_engine(seeded[0])
    try:
        with platform_db.sessions(engine)() as db:
            out = {email: (org, terr, rights, role) for email, org, terr, rights, role in create_demo_accounts(db, "21", "27")}
            assert len(out) == len(DEMO_ACCOUNTS) >= 7
            assert out["dge@finances.gouv.fr"] == ("DGE", "FR", "score,urssaf,dgefp,bdf", "agent")
            assert out["correspondant@banque-france.fr"] == ("Banque de France", "R27", "score,bdf", "agent")
            assert out["codefi@dgfip.finances.gouv.fr"] == ("DGFiP/CODEFI", "21", "score", "org-admin")
            users = {u.email: u for u in db.scalars(select(User))}
            orgs = {o.id: o.name for o in db.scalars(select(Organisation))}
            assert orgs[users["codefi@dgfip.finances.gouv.fr"].organisation_id] == "DGFiP/CODEFI"
            assert create_demo_accounts(db, "21", "27")  # again: kept, not duplicated
            assert len([e for e in users if e in out]) == len(out)
    finally:
        engine.dispose()


def test_no_demo_in_an_empty_data_dir(tmp_path: Path) -> None:
    from signaux_faibles.cli import _demo_exists
    from signaux_faibles.config import Settings

    settings: Any = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'absent.db'}")
    assert not _demo_exists(settings)


def test_a_published_demo_is_found(seeded: tuple[str, dict[str, int]], tmp_path: Path) -> None:
    from signaux_faibles.cli import _demo_exists
    from signaux_faibles.config import Settings
    from signaux_faibles.layout import DataDir

    settings: Any = Settings(data_dir=tmp_path / "data", database_url=seeded[0])
    assert not _demo_exists(settings)  # no twin yet
    DataDir(settings.data_dir).twin.mkdir(parents=True)
    assert _demo_exists(settings)  # the seeded platform has a published list
