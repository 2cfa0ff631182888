"""Suggested support measures and the work records (comments thread, cases, CODEFI import)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from signaux_faibles.platform.accounts import AccountError
from signaux_faibles.platform.models import CaseMeasure, SuggestionDecision, User
from signaux_faibles.platform.services.support import suggest
from signaux_faibles.platform.services.work import (
    add_comment,
    case_of,
    codefi_flag,
    comments_of,
    decide_suggestion,
    edit_comment,
    import_codefi,
    open_case,
    update_case,
    work_summary,
)


def test_suggestions_follow_the_explanation() -> None:
    score = {
        "probability": 0.40,
        "macro_expl": {
            "santé financière": 0.02,
            "dette URSSAF": 0.20,
            "activité partielle": 0.01,
            "retards de paiement": 0.0,
            "emploi": -0.01,
            "autres": 0.0,
        },
        "what_if": {"dette URSSAF": 0.15, "activité partielle": 0.38, "retards de paiement": 0.40},
    }
    out = suggest(score, {"dette_urssaf": 12_345.0, "hausse_urssaf": True})
    measures = [s.measure for s in out]
    # the strongest signal first: the URSSAF debt → délai, CCSF, with the what-if of settling the debt
    assert measures[:2] == ["delai_urssaf", "ccsf"]
    assert out[0].delta == pytest.approx(-0.25) and "12 345 €" in out[0].signal and "hausse" in out[0].signal
    assert "fne_formation" in measures and "mediation_credit" in measures
    fne = next(s for s in out if s.measure == "fne_formation")
    assert fne.delta == pytest.approx(-0.02)
    # nothing pushing the risk up, no flag: nothing to suggest; no score: nothing either
    calm = {"probability": 0.05, "macro_expl": {"dette URSSAF": -0.01}, "what_if": {}}
    assert suggest(calm, {}) == [] and suggest(None) == []
    # the CODEFI flag alone suggests the CODEFI
    assert [s.measure for s in suggest(calm, {"codefi": True})] == ["codefi"]
    # AP in the last 12 months without a contribution still suggests FNE-Formation, without a what-if
    ap = suggest(calm, {"ap_12m": True})
    assert [s.measure for s in ap] == ["fne_formation"] and ap[0].delta is None


def _session(seeded: tuple[str, dict[str, int]]) -> Any:
    from signaux_faibles.platform.store import db as platform_db

    engine = platform_db.get_engine(seeded[0])
    return engine, platform_db.sessions(engine)()


def test_comments_cases_and_decisions(seeded: tuple[str, dict[str, int]]) -> None:
    engine, db = _session(seeded)
    ids = seeded[1]
    a, b = db.get(User, ids["agent_a"]), db.get(User, ids["org_admin"])
    root = add_comment(db, a, "111111111", "Premier échange")
    reply = add_comment(db, b, "111111111", "Réponse", parent_id=root.id)
    add_comment(db, b, "111111111", "Réponse à la réponse", parent_id=reply.id)
    with pytest.raises(AccountError):
        add_comment(db, a, "111111111", "   ")
    with pytest.raises(AccountError):  # a reply to a comment of another company
        add_comment(db, a, "222222222", "x", parent_id=root.id)
    thread = comments_of(db, "111111111")
    assert len(thread) == 1 and thread[0]["replies"][0]["replies"][0]["body"] == "Réponse à la réponse"
    with pytest.raises(PermissionError):
        edit_comment(db, b, root, "pas à moi")
    edit_comment(db, a, root, "Premier échange (corrigé)")
    assert comments_of(db, "111111111")[0]["edited_at"] is not None
    # one open case at a time; confirming a suggestion adds the measure to it
    case = open_case(db, a, "111111111", ["trésorerie", " "])
    assert case.difficulties == ["trésorerie"]
    with pytest.raises(AccountError):
        open_case(db, b, "111111111")
    decide_suggestion(db, b, "111111111", "ccsf", "confirmed", "dette URSSAF", -0.1)
    decide_suggestion(db, b, "111111111", "fne_formation", "discarded", "AP", None)
    assert [m.measure for m in db.scalars(select(CaseMeasure))] == ["ccsf"]
    summary = work_summary(db, "111111111")
    assert summary["decisions"] == {"ccsf": "confirmed", "fne_formation": "discarded"}
    assert summary["case"]["state_label"] == "En cours" and summary["case"]["referent"]["email"] == a.email
    update_case(db, case, state="completed")
    assert case.closed_at is not None
    # a new case can be opened once the previous one is completed; confirming on a company without case opens one
    decide_suggestion(db, a, "222222222", "delai_urssaf", "confirmed", None, None)
    assert case_of(db, "222222222") is not None
    assert (
        db.scalar(select(SuggestionDecision.case_id).where(SuggestionDecision.siren == "222222222"))
        is not None
    )
    db.commit()
    db.close()
    engine.dispose()


def test_codefi_import_keeps_bad_lines(seeded: tuple[str, dict[str, int]]) -> None:
    engine, db = _session(seeded)
    content = b"SIREN;Motif\n111 111 111;dette fiscale\n12345;\n111111111;doublon\n222222222;\n"
    res = import_codefi(db, "alerte.csv", content, "test")
    assert res.rows == 2 and [(line, reason) for line, _, reason in res.rejected] == [
        (3, "SIREN attendu : 9 chiffres"),
        (4, "SIREN en double"),
    ]
    assert codefi_flag(db, "111111111") == {
        "motif": "dette fiscale",
        "imported_at": codefi_flag(db, "111111111")["imported_at"],
    }  # type: ignore[index]
    assert codefi_flag(db, "333333333") is None
    # the latest import is the current list
    import_codefi(db, "alerte2.csv", b"siren\n333333333\n", "test")
    assert codefi_flag(db, "111111111") is None and codefi_flag(db, "333333333") is not None
    with pytest.raises(AccountError, match="siren"):
        import_codefi(db, "bad.csv", b"numero;motif\n1;2\n", "test")
    db.rollback()
    db.close()
    engine.dispose()
