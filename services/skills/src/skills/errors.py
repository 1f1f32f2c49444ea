"""What skills's use cases refuse; the HTTP API maps each to a status. Messages hold no personal
data."""

from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

M = TypeVar("M")


class NotFound(LookupError):
    pass


class Refused(ValueError):
    """The request conflicts with the state of things (409)."""


class NotEligible(PermissionError):
    """The caller may not book: not (or no longer) an active member (403)."""


class Invalid(ValueError):
    """The request breaks a rule its schema cannot say (a score out of a rubric's scale): 422."""


async def found(
    session: AsyncSession, model: type[M], key: object, what: str, *, for_update: bool = False
) -> M:
    """The row of `model` with primary key `key`, read afresh (locked if `for_update`); NotFound
    naming `what` if there is none."""
    row = await session.get(model, key, populate_existing=True, with_for_update=for_update)
    if row is None:
        raise NotFound(f"no such {what}")
    return row
