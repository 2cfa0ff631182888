"""The routes' dependencies, as ``Annotated`` aliases (no call in a parameter's default).

``CtxDep``: the request's context (``context.get_ctx``: database session, actor, CSRF, audit). ``SessionDep``: the
request's database session (the context's). ``check_request``: run on every route by the application (no NUL
character in the input, the CSRF token on state-changing requests).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from .context import Ctx, get_ctx

__all__ = ["CtxDep", "SessionDep", "check_request"]

CtxDep = Annotated[Ctx, Depends(get_ctx)]


def _session(ctx: CtxDep) -> Session:
    return ctx.db


SessionDep = Annotated[Session, Depends(_session)]


async def check_request(ctx: CtxDep) -> None:
    """Every route: no NUL characters in the input, and the CSRF token on state-changing requests."""
    await ctx.check_input()
    await ctx.check_csrf()
