"""Account security rules: passwords (argon2id, strength), TOTP second factor, lockout, sessions, notices, reviews.

Pure functions and small policies, with the clock passed in, so that the web layer and the tests share them.

- Passwords are hashed with argon2id (``argon2-cffi`` defaults); a password has at least 12 characters with a
  lower-case letter, an upper-case letter, a digit and another character (SFOR's rule), is not a common password
  (zxcvbn's list and a shipped French one), holds neither the account's e-mail nor its name (nor their reverse),
  and scores at least 3 with zxcvbn.
- TOTP (RFC 6238, ``pyotp``): 30-second steps, one step of clock drift accepted, a code is never accepted twice.
- Lockout: 5 failures within 15 minutes lock the account for 15 minutes.
- Throttle: 20 failed attempts from one address within 10 minutes, or 10 on one e-mail address (an account or
  not) within 15 minutes, and further attempts are refused unchecked (counted in the database).
- Sessions: 30 minutes idle, 12 hours absolute.
- The confidentiality notice is accepted at first login and again every 3 months (91 days); habilitations are
  reviewed every 6 months (183 days) by the organisation admin; an account past its expiry date cannot log in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = [
    "LockoutPolicy",
    "LoginState",
    "SessionPolicy",
    "ThrottlePolicy",
    "account_expired",
    "hash_password",
    "needs_rehash",
    "new_totp_secret",
    "notice_due",
    "password_problems",
    "review_due",
    "seal",
    "totp_uri",
    "unseal",
    "verify_password",
    "verify_totp",
]

_HASHER = PasswordHasher()
NOTICE_EVERY = timedelta(days=91)
REVIEW_EVERY = timedelta(days=183)
MIN_LENGTH = 12


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (salted; never store the password itself)."""
    return _HASHER.hash(password)


def verify_password(hashed: str, password: str) -> bool:
    try:
        return _HASHER.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(hashed: str) -> bool:
    """True when the hash was made with weaker parameters than today's (rehash at the next login)."""
    return _HASHER.check_needs_rehash(hashed)


_LEET = str.maketrans({"@": "a", "4": "a", "0": "o", "1": "l", "!": "i", "3": "e", "$": "s", "5": "s", "7": "t",
                       "+": "t", "8": "b", "9": "g", "€": "e"})  # fmt: skip
#: zxcvbn accepts a password from this score (0–4: "safely unguessable" is 3).
MIN_SCORE = 3


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """Common passwords: zxcvbn's 30 000 (maintained), and a shipped list of French ones (letters only)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    french = (Path(__file__).parent / "data" / "mots_de_passe_courants.txt").read_text(encoding="utf-8")
    words = {w.strip() for w in french.splitlines() if w.strip() and not w.startswith("#")}
    return frozenset(words | {_core(p) for p in FREQUENCY_LISTS["passwords"]} - {""})


def _core(text: str, leet: bool = True) -> str:
    """The letters of ``text``, lower case, without accents, l33t undone (``P@ssw0rd`` → ``password``)."""
    import unicodedata

    plain = unicodedata.normalize("NFKD", text.lower().translate(_LEET) if leet else text.lower())
    return "".join(c for c in plain if c.isalpha() and c.isascii())


def _cores(text: str) -> set[str]:
    """``text``'s letters with and without l33t undone (``Azerty123!``: ``azerty`` and ``azertyleei``), and with
    l33t undone in the letters' part only (``P@ssw0rd2024!`` → ``password``)."""
    stripped = re.sub(r"[^A-Za-zÀ-ÿ@$]+$", "", re.sub(r"^[^A-Za-zÀ-ÿ@$]+", "", text))
    return {c for c in (_core(text), _core(text, leet=False), _core(stripped)) if c}


def _personal_words(email: str | None, name: str | None) -> list[str]:
    """The words of the account's e-mail (its local part) and name, 3 letters or more."""
    parts: list[str] = []
    if email:
        local = email.lower().partition("@")[0]
        parts += [*re.split(r"[^a-z0-9]+", local), local]
    if name:
        parts += re.split(r"[\s\-'.]+", name)
    return sorted({_core(p) for p in parts if len(_core(p)) >= 3})


def password_problems(password: str, email: str | None = None, name: str | None = None) -> list[str]:
    """What the password lacks (in French, shown to the user); empty when it is strong enough.

    Besides length and character classes: not a common password (zxcvbn's list and a French one, compared
    without digits, symbols, case, accents and l33t), not made of the account's e-mail or name (even reversed),
    and a zxcvbn score of at least ``MIN_SCORE`` with those as user inputs."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"au moins {MIN_LENGTH} caractères")
    if not re.search(r"[a-z]", password):
        problems.append("une lettre minuscule")
    if not re.search(r"[A-Z]", password):
        problems.append("une lettre majuscule")
    if not re.search(r"\d", password):
        problems.append("un chiffre")
    if not re.search(r"[^A-Za-z0-9]", password):
        problems.append("un caractère spécial")
    cores = _cores(password)
    personal = _personal_words(email, name)
    if any(w in c for w in personal for core in cores for c in (core, core[::-1])):  # reversed too
        problems.append("ne pas contenir votre nom ni votre adresse électronique")
    if cores & common_passwords():
        problems.append("ne pas être un mot de passe courant")
    if not problems:
        from zxcvbn import zxcvbn

        if zxcvbn(password[:100], user_inputs=personal)["score"] < MIN_SCORE:
            problems.append("être moins facile à deviner (évitez les suites, les dates et les mots courants)")
    return problems


#: Prefix of a sealed value (``seal``); a value without it is a secret stored in clear before sealing existed.
SEALED = "enc1:"


def _fernet(key: str) -> Any:
    import base64
    import hashlib

    from cryptography.fernet import Fernet

    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"signaux-faibles/totp\x00" + key.encode()).digest()))


def seal(secret: str, key: str) -> str:
    """``secret`` encrypted and authenticated (Fernet: AES-128-CBC + HMAC-SHA256) with a key derived from the
    application's secret key; the database holds only this form."""
    return SEALED + _fernet(key).encrypt(secret.encode()).decode()


def unseal(value: str, key: str) -> str:
    """The secret of a ``seal``-ed value (a value in clear, from before sealing, is returned as it is)."""
    if not value.startswith(SEALED):
        return value
    return str(_fernet(key).decrypt(value[len(SEALED) :].encode()).decode())


def new_totp_secret() -> str:
    import pyotp

    return pyotp.random_base32()


def totp_uri(secret: str, email: str, issuer: str = "Signaux Faibles") -> str:
    """The ``otpauth://`` URI an authenticator app scans (as a QR code)."""
    import pyotp

    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def verify_totp(secret: str, code: str, now: datetime, last_step: int | None = None) -> int | None:
    """The time step the code belongs to (now, or one step before or after), or ``None``.

    A step at or before ``last_step`` (the last accepted one) is refused: a code cannot be replayed.
    """
    import pyotp

    code = code.strip().replace(" ", "")
    if not re.fullmatch(r"\d{6}", code):
        return None
    totp = pyotp.TOTP(secret)
    step_now = totp.timecode(now)
    for step in (step_now, step_now - 1, step_now + 1):
        if last_step is not None and step <= last_step:
            continue
        if totp.generate_otp(step) == code:
            return step
    return None


@dataclass(frozen=True)
class LoginState:
    failures: int = 0
    first_failure: datetime | None = None
    locked_until: datetime | None = None


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)

    def locked(self, state: LoginState, now: datetime) -> bool:
        return state.locked_until is not None and now < state.locked_until

    def failure(self, state: LoginState, now: datetime) -> LoginState:
        """The state after a failed attempt (failures older than the window are forgotten)."""
        if state.first_failure is None or now - state.first_failure > self.window:
            state = LoginState(0, now, state.locked_until)
        failures = state.failures + 1
        locked = now + self.lockout if failures >= self.max_failures else state.locked_until
        return replace(state, failures=failures, locked_until=locked)

    @staticmethod
    def success() -> LoginState:
        return LoginState()


@dataclass(frozen=True)
class ThrottlePolicy:
    """Failed login attempts (password or code) allowed within a window, per client address and per account (the
    e-mail typed, whether an account has it or not, so that the answer tells nothing about accounts); beyond
    either limit, further attempts are refused before any check. Successful logins never count."""

    per_address: int = 20
    address_window: timedelta = timedelta(minutes=10)
    per_account: int = 10
    account_window: timedelta = timedelta(minutes=15)

    @property
    def keep(self) -> timedelta:
        """How long a failed attempt matters (older ones are purged)."""
        return max(self.address_window, self.account_window)

    def exceeded(self, address_failures: int, account_failures: int) -> str | None:
        """``"address"`` or ``"account"`` when that limit is reached, else None."""
        if address_failures >= self.per_address:
            return "address"
        if account_failures >= self.per_account:
            return "account"
        return None


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=12)

    def valid(self, created: datetime, last_seen: datetime, now: datetime) -> bool:
        return now - last_seen <= self.idle and now - created <= self.absolute


def notice_due(accepted_at: datetime | None, now: datetime) -> bool:
    """The confidentiality notice must be (re)accepted: never accepted, or more than 3 months ago."""
    return accepted_at is None or now - accepted_at > NOTICE_EVERY


def review_due(last_review: datetime | None, now: datetime) -> bool:
    """The organisation admin must confirm this agent's habilitation (every 6 months)."""
    return last_review is None or now - last_review > REVIEW_EVERY


def account_expired(expires_at: datetime | None, now: datetime) -> bool:
    return expires_at is not None and now >= expires_at
