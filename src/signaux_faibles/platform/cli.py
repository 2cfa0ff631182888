"""Operators' commands of the platform: ``users …``, ``regions …`` and ``serve``.

Every change is written with its ``admin_change`` audit event in one transaction (the operator is recorded as
``cli:<login>``). The database is the one of the settings (``SF_DATABASE_URL``, else ``DATA_DIR/platform.db``),
upgraded to the latest schema first.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

__all__ = ["DEMO_ACCOUNTS", "create_demo_accounts", "regions_app", "users_app"]

users_app = typer.Typer(help="Comptes de la plateforme (operators).", no_args_is_help=True)
regions_app = typer.Typer(
    help="Ouverture régionale de la plateforme (regional roll-out).", no_args_is_help=True
)
console = Console()
err = Console(stderr=True)

DbUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url", help="Platform database URL (default: settings, else DATA_DIR/platform.db)"
    ),
]


@contextmanager
def _db(database_url: str | None) -> Iterator[Session]:
    from pathlib import Path

    from ..config import get_settings
    from .store import db as platform_db

    settings = get_settings()
    engine = platform_db.get_engine(
        platform_db.resolve_url(database_url or settings.database_url, Path(settings.data_dir))
    )
    platform_db.upgrade(engine)
    with platform_db.sessions(engine)() as session:
        yield session
    engine.dispose()


def _operator() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # pragma: no cover - no login name in some containers
        return "cli"


def _audit(db: Session, action: str, **detail: object) -> None:
    from .audit import record

    record(db, "admin_change", email=_operator(), detail={"action": action, **detail})


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(2)


@users_app.command("add")
def users_add(
    email: Annotated[str, typer.Argument(help="E-mail address (the login)")],
    organisation: Annotated[
        str, typer.Option("--organisation", help="URSSAF, DREETS/DDETS, Banque de France, …")
    ],
    territory: Annotated[
        str, typer.Option("--territory", help="FR, R27 (région), 21 (département), comma-separated")
    ],
    rights: Annotated[str, typer.Option("--rights", help="Data rights among score,urssaf,dgefp,bdf")] = "",
    role: Annotated[str, typer.Option("--role", help="agent, org-admin or admin")] = "agent",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin")
    ] = False,
    name: Annotated[str | None, typer.Option("--name", help="Full name")] = None,
    expires: Annotated[str | None, typer.Option("--expires", help="Expiry date YYYY-MM-DD")] = None,
    database_url: DbUrl = None,
) -> None:
    """Create an account (without --password-stdin, the account can only log in by SSO)."""
    from .accounts import AccountError, add_user

    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    try:
        expires_at = datetime.strptime(expires, "%Y-%m-%d").replace(tzinfo=UTC) if expires else None
    except ValueError:
        raise _fail(f"--expires {expires!r}: expected a date YYYY-MM-DD") from None
    with _db(database_url) as db:
        try:
            user = add_user(db, email, organisation=organisation, territory=territory, rights=rights, role=role,
                            password=password, name=name, expires_at=expires_at)  # fmt: skip
        except AccountError as e:
            raise _fail(str(e)) from None
        _audit(
            db,
            "account created",
            email=user.email,
            territory=user.territory,
            rights=user.rights,
            role=user.role,
        )
        db.commit()
        console.print(
            f"account {user.email} created: {organisation}, territory {user.territory}, "
            f"rights {user.rights or 'none'}, role {user.role}"
            + ("" if password else " (no password: SSO only until one is set)"),
            highlight=False,
        )


@users_app.command("list")
def users_list(
    organisation: Annotated[str | None, typer.Option("--organisation", help="Only this organisation")] = None,
    database_url: DbUrl = None,
) -> None:
    """List the accounts."""
    from .accounts import aware, now
    from .models import Organisation, User
    from .security import review_due

    with _db(database_url) as db:
        q = (
            select(User, Organisation.name)
            .join(Organisation, Organisation.id == User.organisation_id)
            .order_by(User.email)
        )
        if organisation:
            q = q.where(Organisation.name == organisation)
        table = Table(
            "email", "organisation", "territory", "rights", "role", "state", "2FA", "review", "last login"
        )
        t = now()
        for u, org in db.execute(q).all():
            table.add_row(
                u.email, org, u.territory, u.rights or "-", u.role, "active" if u.active else "disabled",
                "yes" if u.totp_secret else "no", "due" if review_due(aware(u.reviewed_at), t) else "ok",
                aware(u.last_login_at).strftime("%Y-%m-%d %H:%M") if u.last_login_at else "-",  # type: ignore[union-attr]
            )  # fmt: skip
        Console(width=200).print(table)


def _change(email: str, database_url: str | None, action: str, **kw: object) -> None:
    from .accounts import AccountError, find_user, set_user

    with _db(database_url) as db:
        try:
            user = find_user(db, email)
            changes = set_user(db, user, **kw)  # type: ignore[arg-type]
        except AccountError as e:
            raise _fail(str(e)) from None
        _audit(db, action, email=user.email, changes={k: [str(a), str(b)] for k, (a, b) in changes.items()})
        db.commit()
        console.print(
            f"{user.email}: {action}" + "".join(f"; {k}: {a} → {b}" for k, (a, b) in changes.items()),
            highlight=False,
        )


@users_app.command("disable")
def users_disable(email: str, database_url: DbUrl = None) -> None:
    """Disable an account (its sessions and API tokens end at once)."""
    _change(email, database_url, "account disabled", active=False)


@users_app.command("enable")
def users_enable(email: str, database_url: DbUrl = None) -> None:
    """Enable a disabled account again."""
    _change(email, database_url, "account enabled", active=True)


@users_app.command("set-rights")
def users_set_rights(
    email: str,
    rights: Annotated[
        str | None, typer.Option("--rights", help="New data rights (replace), e.g. score,urssaf; '' for none")
    ] = None,
    territory: Annotated[
        str | None, typer.Option("--territory", help="New territory codes (replace)")
    ] = None,
    role: Annotated[str | None, typer.Option("--role", help="New role")] = None,
    database_url: DbUrl = None,
) -> None:
    """Change an account's data rights, territory or role."""
    if rights is None and territory is None and role is None:
        raise _fail("nothing to change: give --rights, --territory or --role")
    _change(email, database_url, "rights changed", rights=rights, territory=territory, role=role)


@users_app.command("set-password")
def users_set_password(email: str, database_url: DbUrl = None) -> None:
    """Set an account's password (read from stdin)."""
    _change(email, database_url, "password set", password=sys.stdin.readline().rstrip("\n"))


def _found(db: Any, email: str) -> Any:
    """The account of ``email``, or the command fails saying why."""
    from .accounts import AccountError, find_user

    try:
        return find_user(db, email)
    except AccountError as e:
        raise _fail(str(e)) from None


@users_app.command("reset-2fa")
def users_reset_2fa(email: str, database_url: DbUrl = None) -> None:
    """Forget an account's TOTP secret: the next login enrols a new one."""
    with _db(database_url) as db:
        user = _found(db, email)
        user.totp_secret, user.totp_last_step = None, None
        _audit(db, "second factor reset", email=user.email)
        db.commit()
        console.print(f"{user.email}: second factor reset (enrolment at the next login)", highlight=False)


@users_app.command("token")
def users_token(
    email: str,
    days: Annotated[int, typer.Option("--days", min=1, max=366, help="Validity in days")] = 90,
    name: Annotated[str | None, typer.Option("--name", help="What the token is for")] = None,
    database_url: DbUrl = None,
) -> None:
    """Issue a personal API token (printed once, last line; only its hash is kept)."""
    from .accounts import AccountError, find_user, issue_token

    with _db(database_url) as db:
        try:
            user = find_user(db, email)
            token = issue_token(db, user, days=days, name=name)
        except AccountError as e:
            raise _fail(str(e)) from None
        _audit(db, "API token issued", email=user.email, days=days, prefix=token[:10])
        db.commit()
    err.print(f"API token for {email}, valid {days} days (send it as 'Authorization: Bearer <token>'):")
    print(token)


@users_app.command("revoke-tokens")
def users_revoke_tokens(email: str, database_url: DbUrl = None) -> None:
    """Revoke every API token of an account."""
    from .accounts import revoke_tokens

    with _db(database_url) as db:
        user = _found(db, email)
        n = revoke_tokens(db, user)
        _audit(db, "API tokens revoked", email=user.email, tokens=n)
        db.commit()
        console.print(f"{user.email}: {n} token(s) revoked", highlight=False)


@regions_app.command("list")
def regions_list(database_url: DbUrl = None) -> None:
    """The régions where the platform is open (FR: the whole country)."""
    from .models import OpenRegion

    with _db(database_url) as db:
        rows = db.scalars(select(OpenRegion).order_by(OpenRegion.code)).all()
        if not rows:
            console.print(
                "the platform is open nowhere: open a région with 'signaux-faibles regions open R27'"
            )
        for r in rows:
            console.print(
                f"{'FR (whole country)' if r.code == 'FR' else 'R' + r.code}  opened {r.opened_at:%Y-%m-%d} by {r.opened_by}"
            )


def _regions(database_url: str | None, done_word: str, change: Callable[[Session], list[str]], none: str) -> None:
    """Open or close régions (``change``), recorded in the audit trail, and say which."""
    from .accounts import AccountError

    with _db(database_url) as db:
        try:
            done = change(db)
        except AccountError as e:
            raise _fail(str(e)) from None
        _audit(db, f"régions {done_word}", codes=done)
        db.commit()
        console.print(f"{done_word}: {', '.join(done) or none}")


@regions_app.command("open")
def regions_open(
    codes: Annotated[str, typer.Argument(help="FR or régions R27,R44 (comma-separated)")],
    database_url: DbUrl = None,
) -> None:
    """Open the platform in these régions: their companies become visible and searchable."""
    from .accounts import open_region_codes

    _regions(database_url, "opened", lambda db: open_region_codes(db, codes, by=_operator()), "nothing new")


@regions_app.command("close")
def regions_close(
    codes: Annotated[str, typer.Argument(help="FR or régions R27,R44 (comma-separated)")],
    database_url: DbUrl = None,
) -> None:
    """Close the platform in these régions (closing FR ends the national opening; opened régions stay)."""
    from .accounts import close_regions

    _regions(database_url, "closed", lambda db: close_regions(db, codes), "nothing")


#: The demo's accounts: (e-mail, organisation, territory, rights, role). Password printed by the demo.
DEMO_ACCOUNTS = (
    ("agent.urssaf@urssaf.fr", "URSSAF", "{dept}", "score,urssaf", "agent"),
    ("crp@dreets.gouv.fr", "DREETS/DDETS", "R{region}", "score,urssaf,dgefp,bdf", "agent"),
    ("admin.urssaf@urssaf.fr", "URSSAF", "{dept}", "score,urssaf", "org-admin"),
    ("admin@beta.gouv.fr", "Équipe nationale", "FR", "", "admin"),
    # each partner's view: the DGE nationally with every data right, a Banque de France regional correspondent,
    # the CODEFI of the département (DGFiP; organisation admin: imports the CODEFI alert list)
    ("dge@finances.gouv.fr", "DGE", "FR", "score,urssaf,dgefp,bdf", "agent"),
    ("correspondant@banque-france.fr", "Banque de France", "R{region}", "score,bdf", "agent"),
    ("codefi@dgfip.finances.gouv.fr", "DGFiP/CODEFI", "{dept}", "score", "org-admin"),
)
DEMO_PASSWORD = "Demo-Signaux-2026!"


def create_demo_accounts(db: Session, dept: str, region: str) -> list[tuple[str, str, str, str, str]]:
    """Create (or keep) the demo accounts for a département and its région; returns their descriptions."""
    from .accounts import add_user
    from .models import User

    out = []
    for email, org, terr, rights, role in DEMO_ACCOUNTS:
        territory = terr.format(dept=dept, region=region)
        if db.scalar(select(User.id).where(User.email == email)) is None:
            add_user(
                db,
                email,
                organisation=org,
                territory=territory,
                rights=rights,
                role=role,
                password=DEMO_PASSWORD,
            )
            _audit(db, "demo account created", email=email)
        out.append((email, org, territory, rights or "aucun", role))
    db.commit()
    return out
