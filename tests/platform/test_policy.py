"""The access policy: the real system's V/A/F golden cases, the rule matrix, territories, deny by default."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from signaux_faibles.platform.policy import (
    Action,
    Actor,
    CompanyFacts,
    OrganisationRef,
    Territory,
    allowed,
    territory_filter,
    visible,
)

ALL_RIGHTS = frozenset({"score", "urssaf", "dgefp", "bdf"})
DATA = (Action.VIEW_SCORE, Action.VIEW_URSSAF, Action.VIEW_DGEFP, Action.VIEW_BDF)
GOLDEN_FLAG = {
    Action.VIEW_SCORE: "permScore",
    Action.VIEW_URSSAF: "permUrssaf",
    Action.VIEW_DGEFP: "permDGEFP",
    Action.VIEW_BDF: "permBDF",
}


#: The actions that name no company (the authenticated ones, and those of the score right).
NO_COMPANY = (Action.SEARCH, Action.VIEW_LIST, Action.VIEW_LIST_SCORES, Action.EXPORT_LIST, Action.ACCOUNT)


def agent(territory: str = "21", rights: frozenset[str] = ALL_RIGHTS, **kw: object) -> Actor:
    return Actor(user_id=1, organisation="URSSAF", territory=Territory.parse(territory), rights=rights, **kw)  # type: ignore[arg-type]


def company(
    dept: str = "21", region: str = "27", alerted: bool = False, followed: bool = False
) -> CompanyFacts:
    return CompanyFacts("123456789", ((dept, region),), alerted=alerted, followed=followed)


def test_golden_visible_alerted_followed_cases(shared_dir: Path) -> None:
    """``getEtablissement-<VAF>-*.json`` of datapi: upper case = visible (in the territory), alerted, followed."""
    files = sorted((shared_dir / "reference" / "datapi" / "api_golden").glob("getEtablissement-*.json"))
    assert len(files) == 8
    for f in files:
        code = f.name.split("-")[1]
        golden = json.loads(f.read_text())
        facts = company(dept="21" if code[0] == "V" else "75", region="27" if code[0] == "V" else "11",
                        alerted=code[1] == "A", followed=code[2] == "F")  # fmt: skip
        actor = agent("21")
        for action, flag in GOLDEN_FLAG.items():
            assert bool(allowed(actor, action, facts)) == golden[flag], (f.name, action)
        # the confidential blocks are only in the answer when the score is allowed
        shown = bool(allowed(actor, Action.VIEW_SCORE, facts))
        assert ("scores" in golden and bool(golden["scores"])) <= shown, f.name
        # every golden answer carries the identity (sirene, entreprise with DIANE and group, effectif): the company
        # page opens in every case, out of the territory too (recorded), and any company may be followed
        assert all(k in golden for k in ("sirene", "entreprise", "periodeUrssaf")), f.name
        for action in (Action.VIEW_COMPANY, Action.FOLLOW):
            decision = allowed(actor, action, facts)
            assert decision.allowed and decision.out_of_territory == (not golden["visible"]), (f.name, action)


def test_rule_matrix() -> None:
    for inside, alerted, followed, has_right in itertools.product([True, False], repeat=4):
        facts = company(
            dept="21" if inside else "75", region="27" if inside else "11", alerted=alerted, followed=followed
        )
        actor = agent("21", ALL_RIGHTS if has_right else frozenset())
        for action in DATA:
            d = allowed(actor, action, facts)
            assert d.allowed == (has_right and ((inside and alerted) or followed))
            assert d.out_of_territory == (d.allowed and not inside)
        view = allowed(actor, Action.VIEW_COMPANY, facts)
        assert view.allowed and view.out_of_territory == (not inside)
        assert visible(actor, facts) == (inside or followed)  # what lists and the territory search show
        # a company outside the open régions does not exist for anyone
        closed = CompanyFacts(facts.siren, facts.establishments, alerted, followed, open=False)
        for action in Action:
            assert not allowed(actor, action, closed) or action in NO_COMPANY
        assert allowed(actor, Action.FOLLOW, facts).allowed
        for action in (Action.COMMENT, Action.CASE):
            assert allowed(actor, action, facts).allowed == (inside or followed)
        assert allowed(actor, Action.VIEW_CODEFI, facts).allowed == (
            has_right and ((inside and alerted) or followed)
        )


def test_rights_are_separate() -> None:
    facts = company(alerted=True)
    actor = agent("21", frozenset({"urssaf"}))
    # without the score right the alert cannot open the block (it would tell the alert): following does
    assert not allowed(actor, Action.VIEW_URSSAF, facts)
    assert allowed(actor, Action.VIEW_URSSAF, company(alerted=True, followed=True))
    assert allowed(agent("21", frozenset({"urssaf", "score"})), Action.VIEW_URSSAF, facts)
    for action in (Action.VIEW_SCORE, Action.VIEW_DGEFP, Action.VIEW_BDF):
        assert not allowed(actor, action, facts)
    assert not allowed(actor, Action.EXPORT_LIST)
    assert allowed(agent("21", frozenset({"score"})), Action.EXPORT_LIST)


def test_deny_by_default() -> None:
    facts = company(alerted=True, followed=True)
    for action in Action:
        assert not allowed(Actor.anonymous(), action, facts), action
        assert not allowed(agent("21", active=False), action, facts), action
    assert not allowed(agent(), "delete_everything", facts)
    assert not allowed(agent(), Action.VIEW_SCORE, None)
    assert not allowed(agent(), Action.ADMIN)


def test_territories() -> None:
    assert Territory.parse("FR").covers("13", "93")
    r = Territory.parse("R27")
    assert r.covers("58", "27") and not r.covers("75", "11")
    d = Territory.parse("21, 2A,971")
    assert d.covers("2A", None) and d.covers("971", "01") and not d.covers("25", "27")
    assert d.codes() == ["21", "2A", "971"]
    for bad in ("", "R2", "XX", "123"):
        with pytest.raises(ValueError):
            Territory.parse(bad)
    # a company with several establishments is in the territory when one of them is
    facts = CompanyFacts("123456789", (("75", "11"), ("21", "27")), alerted=True)
    assert allowed(agent("21"), Action.VIEW_SCORE, facts)


def test_user_management() -> None:
    org_admin = agent(role="org-admin")
    assert allowed(org_admin, Action.MANAGE_USERS, OrganisationRef("URSSAF"))
    assert not allowed(org_admin, Action.MANAGE_USERS, OrganisationRef("DGFiP"))
    assert not allowed(agent(), Action.MANAGE_USERS, OrganisationRef("URSSAF"))
    admin = agent(role="admin")
    assert allowed(admin, Action.MANAGE_USERS, OrganisationRef("DGFiP"))
    assert allowed(admin, Action.ADMIN)
    assert allowed(admin, Action.IMPORT_CODEFI)
    assert not allowed(org_admin, Action.IMPORT_CODEFI)
    codefi = Actor(user_id=2, organisation="DGFiP/CODEFI", territory=Territory.parse("21"), role="org-admin")
    assert allowed(codefi, Action.IMPORT_CODEFI)
    assert not allowed(agent(), Action.IMPORT_CODEFI)
    # a platform admin sees confidential data only under the same rules as anyone
    assert not allowed(agent("21", frozenset(), role="admin"), Action.VIEW_SCORE, company(alerted=True))


def test_territory_filter_in_sql() -> None:
    import sqlalchemy as sa

    engine = sa.create_engine("sqlite://")
    meta = sa.MetaData()
    etab = sa.Table(
        "e", meta, sa.Column("siret", sa.String), sa.Column("dept", sa.String), sa.Column("region", sa.String)
    )
    meta.create_all(engine)
    with engine.begin() as con:
        con.execute(etab.insert(), [{"siret": "a", "dept": "21", "region": "27"},
                                    {"siret": "b", "dept": "75", "region": "11"},
                                    {"siret": "c", "dept": "58", "region": "27"}])  # fmt: skip

        def sirets(actor: Actor) -> set[str]:
            q = sa.select(etab.c.siret).where(territory_filter(actor, etab.c.dept, etab.c.region))
            return {r[0] for r in con.execute(q)}

        assert sirets(agent("21")) == {"a"}
        assert sirets(agent("R27")) == {"a", "c"}
        assert sirets(agent("FR")) == {"a", "b", "c"}
        assert sirets(Actor.anonymous()) == set()
