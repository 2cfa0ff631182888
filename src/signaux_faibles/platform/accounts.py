"""Accounts, one import place: organisations and users, API tokens, follows, the regional roll-out and the facts of
a company for the policy. Each concern lives in its own module of ``services/`` (``users``, ``tokens``, ``follows``,
``regions``, ``facts``; ``common`` for what they share); this module gathers them for the operators' commands, the
web application and the tests.
"""

from __future__ import annotations

# ``User`` and ``_region_codes``: read under these names outside the platform (``monthly.py``, the tests)
from .models import User as User
from .services.common import AccountError, aware, login_blocker, now, sha256
from .services.facts import company_facts
from .services.follows import follow, is_followed, unfollow
from .services.regions import _region_codes as _region_codes
from .services.regions import (
    close_regions,
    open_region_codes,
    open_regions,
)
from .services.tokens import TOKEN_DAYS, issue_token, revoke_tokens, token_row, user_for_token
from .services.users import (
    THROTTLE,
    actor_of,
    add_user,
    find_user,
    login_throttled,
    parse_rights,
    record_failed_login,
    seal_totp_secrets,
    set_user,
)

__all__ = [
    "THROTTLE",
    "TOKEN_DAYS",
    "AccountError",
    "actor_of",
    "add_user",
    "aware",
    "close_regions",
    "company_facts",
    "find_user",
    "follow",
    "is_followed",
    "issue_token",
    "login_blocker",
    "login_throttled",
    "now",
    "open_region_codes",
    "open_regions",
    "parse_rights",
    "record_failed_login",
    "revoke_tokens",
    "seal_totp_secrets",
    "set_user",
    "sha256",
    "token_row",
    "unfollow",
    "user_for_token",
]
