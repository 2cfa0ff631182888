"""Account security rules: argon2 hashes, password strength, TOTP, lockout, sessions, notice, review, expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from signaux_faibles.platform.security import (
    LockoutPolicy,
    LoginState,
    SessionPolicy,
    account_expired,
    hash_password,
    needs_rehash,
    new_totp_secret,
    notice_due,
    password_problems,
    review_due,
    totp_uri,
    verify_password,
    verify_totp,
)

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
GOOD = "Correct-Cheval-42!"


def test_argon2_hashes() -> None:
    h = hash_password(GOOD)
    assert h.startswith("$argon2id$") and GOOD not in h
    assert h != hash_password(GOOD)  # salted
    assert verify_password(h, GOOD)
    assert not verify_password(h, GOOD + "x")
    assert not verify_password("not a hash", GOOD)
    assert not needs_rehash(h)


def test_password_rule() -> None:
    assert password_problems(GOOD) == []
    assert "au moins 12 caractères" in password_problems("Ab1!")
    assert password_problems("abcdefghijkl") == ["une lettre majuscule", "un chiffre", "un caractère spécial"]
    own = "ne pas contenir votre nom ni votre adresse électronique"
    assert own in password_problems("Jean.Dupont-2026!", "jean.dupont@urssaf.fr")


@pytest.mark.parametrize(
    "password", ["Password123!", "P@ssw0rd2024!", "Azerty123456!", "Motdepasse123!", "S0leil-2026!", "Marseille13008!"]
)
def test_common_passwords_are_refused(password: str) -> None:
    """Issue 18, defect 11: a common password (zxcvbn's list, a French list) is refused, even dressed up."""
    assert "ne pas être un mot de passe courant" in password_problems(password, "agent@urssaf.fr")


@pytest.mark.parametrize(
    "password, email, name",
    [("Dupont-Jean-2026!", "jean.dupont@urssaf.fr", None), ("Camille!Rousseau9", "c.r@dreets.gouv.fr", "Camille Rousseau"),
     ("jdupont-Bureau-42!", "jdupont@urssaf.fr", None)],
)  # fmt: skip
def test_own_name_or_email_is_refused(password: str, email: str, name: str | None) -> None:
    """Issue 18, defect 11: the account's own name or e-mail, in any order or case."""
    assert "ne pas contenir votre nom ni votre adresse électronique" in password_problems(password, email, name)


def test_strong_passwords_pass() -> None:
    for p in ("Correct-Horse-9-Battery", "Trombone-Velo-42!", "Zq8-acceptance-Lm4-passphrase", "Demo-Signaux-2026!"):
        assert password_problems(p, "agent@urssaf.fr", "Jeanne Agent") == [], p


def test_totp_accepts_current_code_once() -> None:
    secret = new_totp_secret()
    code = pyotp.TOTP(secret).at(NOW)
    step = verify_totp(secret, code, NOW)
    assert step is not None
    assert verify_totp(secret, code, NOW, last_step=step) is None  # no replay
    assert verify_totp(secret, code, NOW + timedelta(seconds=30)) is not None  # one step of drift
    assert verify_totp(secret, code, NOW + timedelta(minutes=5)) is None
    assert verify_totp(secret, "12345", NOW) is None and verify_totp(secret, "abcdef", NOW) is None
    assert totp_uri(secret, "a@b.fr").startswith("otpauth://totp/Signaux%20Faibles:a%40b.fr?secret=")


def test_lockout_after_five_failures() -> None:
    policy = LockoutPolicy()
    state = LoginState()
    for i in range(4):
        state = policy.failure(state, NOW + timedelta(minutes=i))
        assert not policy.locked(state, NOW + timedelta(minutes=i))
    state = policy.failure(state, NOW + timedelta(minutes=4))
    assert policy.locked(state, NOW + timedelta(minutes=5))
    assert not policy.locked(state, NOW + timedelta(minutes=20))
    # failures spread beyond the window do not add up
    state = LoginState()
    for i in range(6):
        state = policy.failure(state, NOW + timedelta(minutes=16 * i))
    assert not policy.locked(state, NOW + timedelta(minutes=16 * 5))
    assert policy.success() == LoginState()


def test_session_timeouts() -> None:
    p = SessionPolicy()
    assert p.valid(NOW, NOW, NOW + timedelta(minutes=29))
    assert not p.valid(NOW, NOW, NOW + timedelta(minutes=31))  # idle
    assert not p.valid(NOW, NOW + timedelta(hours=12), NOW + timedelta(hours=12, minutes=1))  # absolute


def test_notice_review_expiry() -> None:
    assert notice_due(None, NOW)
    assert not notice_due(NOW - timedelta(days=60), NOW)
    assert notice_due(NOW - timedelta(days=92), NOW)
    assert review_due(None, NOW) and review_due(NOW - timedelta(days=200), NOW)
    assert not review_due(NOW - timedelta(days=30), NOW)
    assert account_expired(NOW, NOW) and not account_expired(None, NOW)
    assert not account_expired(NOW + timedelta(days=1), NOW)
