"""The account tables: ``organisations``, ``users``, ``web_sessions`` and ``api_tokens`` (their SHA-256 only),
``follows``, ``open_regions`` (the regional roll-out; ``FR`` = the whole country), ``login_attempts`` (the login
throttle's counter).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class Organisation(Base):
    """A partner organisation (URSSAF, DREETS/DDETS, Banque de France, …); its admins manage its agents."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    domains: Mapped[list[Any]]  # e-mail domains of its agents (SSO without roles)


class User(Base):
    """An account: organisation, territory (codes ``FR``, ``R27``, ``21``), data rights, role, login state."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str | None]
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    territory: Mapped[str] = mapped_column(Text)  # comma-separated codes (policy.Territory.parse)
    rights: Mapped[str] = mapped_column(String(64), default="")  # comma-separated data rights
    role: Mapped[str] = mapped_column(String(16), default="agent")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str | None] = mapped_column(Text)
    totp_secret: Mapped[str | None] = mapped_column(String(255))  # sealed (security.seal): never in clear
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    sso_subject: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime | None]
    last_login_at: Mapped[dt.datetime | None]
    notice_accepted_at: Mapped[dt.datetime | None]
    reviewed_at: Mapped[dt.datetime | None]
    reviewed_by: Mapped[int | None] = mapped_column(Integer)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    first_failure_at: Mapped[dt.datetime | None]
    locked_until: Mapped[dt.datetime | None]


class WebSession(Base):
    """A browser session; ``token_hash`` is the SHA-256 of the cookie's random token (never stored itself)."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(16))  # "totp" (password checked, code awaited) or "ok"
    method: Mapped[str] = mapped_column(String(16))  # "password" or "sso"
    csrf_token: Mapped[str] = mapped_column(String(64))
    pending_totp: Mapped[str | None] = mapped_column(String(255))  # secret being enrolled, sealed, until confirmed
    next_url: Mapped[str | None] = mapped_column(Text)  # where to go once logged in
    created_at: Mapped[dt.datetime]
    last_seen_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(Text)


class ApiToken(Base):
    """A personal API token (``Authorization: Bearer sf_…``), hashed at rest, expiring and revocable."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # the first characters, to recognise a token in a list
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str | None]
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]


class Follow(Base):
    """A user follows a company (the real system's ``follow``: a category is mandatory); kept when ended."""

    __tablename__ = "follows"
    __table_args__ = (Index("ix_follows_user_active", "user_id", "active"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    siren: Mapped[str] = mapped_column(String(9), index=True)
    category: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    since: Mapped[dt.datetime]
    until: Mapped[dt.datetime | None]
    end_category: Mapped[str | None] = mapped_column(String(64))
    end_comment: Mapped[str | None] = mapped_column(Text)


class OpenRegion(Base):
    """A région where the platform is open (regional roll-out); ``FR`` opens the whole country."""

    __tablename__ = "open_regions"

    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    opened_at: Mapped[dt.datetime]
    opened_by: Mapped[str | None]


class LoginAttempt(Base):
    """A failed login attempt (password, code, refused SSO callback), counted per address and per account to throttle
    guessing (``accounts.login_throttled``); successful logins are never recorded, and rows older than the longest
    window are purged at each new failure."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_ip_at", "ip", "at"),
        Index("ix_login_attempts_account_at", "account", "at"),
        Index("ix_login_attempts_at", "at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[dt.datetime]
    ip: Mapped[str | None] = mapped_column(String(64))  # the client's address (``web.context.client_address``)
    # SHA-256 of the e-mail typed, lower case (never the text); None: no e-mail (an SSO refusal before any identity)
    account: Mapped[str | None] = mapped_column(String(64))
