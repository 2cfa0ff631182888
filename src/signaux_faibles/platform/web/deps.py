"""The routes' dependencies, as ``Annotated`` aliases (no call in a parameter's default).

``CtxDep``: the request's context (``context.get_ctx``: database session, actor, CSRF, audit). ``SessionDep``: the
request's database session (the context's). ``ListId``, ``SortParam``: the list pages' parameters. ``check_request``: run on every route by the application (no NUL
character in the input, the CSRF token on state-changing requests).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query
from sqlalchemy.orm import Session

from .context import Ctx, get_ctx

__all__ = ["CtxDep", "ListId", "SessionDep", "SortParam", "check_request"]

CtxDep = Annotated[Ctx, Depends(get_ctx)]
#: A list's id in a path (at least 1, a 32-bit integer).
ListId = Annotated[int, Path(ge=1, le=2**31 - 1)]
#: A list's sort key or order in the query (``tri``, ``ordre``; unknown values fall back to the default).
SortParam = Annotated[str | None, Query(max_length=32)]


def _session(ctx: CtxDep) -> Session:
    return ctx.db


SessionDep = Annotated[Session, Depends(_session)]


async def check_request(ctx: CtxDep) -> None:
    """Every route: no NUL characters in the input, and the CSRF token on state-changing requests."""
    await ctx.check_input()
    await ctx.check_csrf()
