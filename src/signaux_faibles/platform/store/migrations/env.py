"""Alembic environment of the platform database.

Run through :func:`signaux_faibles.platform.store.db.upgrade`, which passes an open connection (inside its transaction)
in ``config.attributes["connection"]``. New revisions are written under ``versions/`` (autogenerate can draft them;
see docs/platform.md); ``tests/platform/test_publish.py`` checks that they match ``models.py``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from signaux_faibles.platform.models import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    conn = config.attributes.get("connection")
    if conn is None:  # plain ``alembic`` command line: sqlalchemy.url from the ini file
        engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
        with engine.begin() as c:
            _migrate(c)
        return
    _migrate(conn)


def _migrate(conn: object) -> None:
    context.configure(
        connection=conn,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=getattr(conn, "dialect", None) is not None and conn.dialect.name == "sqlite",  # type: ignore[attr-defined]
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
