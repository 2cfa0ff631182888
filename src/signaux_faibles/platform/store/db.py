"""The platform database: engine and sessions from a URL, schema migrations (Alembic, shipped in the package).

SQLite by default (``DATA_DIR/platform.db``), PostgreSQL by URL (``postgresql+psycopg://user@host:5432/db``),
setting ``database_url`` (``SF_DATABASE_URL``).

SQLite connections are set up for a web application that reads while a publication writes: write-ahead log (readers
keep seeing the last committed state during a long write transaction), foreign keys on, a 60 s busy timeout, and
transactions begun by SQLAlchemy (``BEGIN``) rather than by the ``sqlite3`` module, so that DDL and the bulk
inserts made on the raw connection are inside the same transaction; ``BEGIN IMMEDIATE`` for the transactions that
will write (execution option ``sqlite_immediate``, see ``WRITE``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import Session, sessionmaker

__all__ = [
    "MIGRATIONS",
    "current_revision",
    "default_url",
    "get_engine",
    "head_revision",
    "no_jit",
    "sessions",
    "upgrade",
]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: Execution options of a transaction that will write (``session.connection(execution_options=WRITE)``).
WRITE = {"sqlite_immediate": True}
#: Key of the PostgreSQL advisory lock held by migrations and publications (one at a time per database).
LOCK_KEY = 0x5F_5F_5F_01


def default_url(data_dir: Path) -> str:
    """``sqlite:///DATA_DIR/platform.db`` (absolute path)."""
    return f"sqlite:///{(Path(data_dir) / 'platform.db').resolve()}"


def resolve_url(database_url: str | None, data_dir: Path) -> str:
    """The URL to use: the given one, or the default SQLite file under the data directory."""
    return database_url or default_url(data_dir)


def get_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite files get WAL, foreign keys, busy timeout and SQLAlchemy-driven transactions."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite":
        return create_engine(u, pool_pre_ping=True, **kwargs)
    if u.database and u.database != ":memory:":
        db_file = Path(u.database)
        db_file.parent.mkdir(parents=True, exist_ok=True)
        if not db_file.exists():  # confidential: the owner only (SQLite gives its -wal and -shm files the same mode)
            os.close(os.open(db_file, os.O_WRONLY | os.O_CREAT, 0o600))
    engine = create_engine(u, connect_args={"timeout": 60}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see "begin" below)
        cur = dbapi_connection.cursor()
        if u.database and u.database != ":memory:":
            cur.execute("PRAGMA journal_mode=WAL")
            # WAL's recommended setting: a commit no longer waits for fsync; the database stays consistent,
            # and an application crash loses nothing; only a power or OS failure may lose the last commits
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # a transaction that will write asks for the write lock first (execution option ``sqlite_immediate``):
        # under WAL, a deferred transaction that read and then writes fails at once if another connection
        # committed in between, while BEGIN IMMEDIATE waits (busy timeout) for the lock
        immediate = conn.get_execution_options().get("sqlite_immediate")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def sessions(engine: Engine) -> sessionmaker[Session]:
    """The session factory of the platform (``expire_on_commit=False``)."""
    return sessionmaker(engine, expire_on_commit=False)


def no_jit(session: Session) -> None:
    """PostgreSQL's JIT compiles the list and dashboard queries for longer than they run (their estimated cost is
    high): off for the session's current transaction."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))


def lock(conn: Connection) -> None:
    """Serialise writers: a transaction-scoped advisory lock on PostgreSQL (SQLite's write lock does it there)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})


def _alembic_config(conn: Connection | None = None) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    if conn is not None:
        cfg.attributes["connection"] = conn
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (default the latest), in one transaction."""
    from alembic import command

    with engine.begin() as conn:
        lock(conn)
        command.upgrade(_alembic_config(conn), revision)


def head_revision() -> str:
    """The latest revision shipped with the package."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None: not initialised)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
