"""Offered one at a time: something (a visit, a dispute case, a freed seat) is offered to one
candidate after another until one takes it. An offer is accepted, declined or lapses; the next
candidate is asked, never one asked before while others are left; nobody left means the thing
waits (and someone is told) or, for a seat, goes back on sale.

The machine is written once, here; each use says, through an `Offering`, how its candidates are
chosen (and their load taken), what an offer records and tells, what closing one does, and what
happens when nobody is left. Its sweeps (offers past their time, things waiting for a candidate)
stay with the use: they are queries of its own tables, each calling `pass_on` or `offer`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypeVar

from gonghui_contracts import EnvelopeHead
from servicekit.unit import Unit

S_contra = TypeVar("S_contra", contravariant=True)


@dataclass(frozen=True)
class Closing:
    """Why the current offer ends: declined, lapsed, taken back; who ended it and their words."""

    why: str
    by: str = "system"
    reason: str = ""


class Offering(Protocol[S_contra]):
    async def choose(self, unit: Unit, subject: S_contra, exclude: frozenset[str]) -> str | None:
        """The candidate to ask now (their load taken), or None if nobody can be."""

    async def offered(
        self, unit: Unit, subject: S_contra, candidate: str, cause: EnvelopeHead | None
    ) -> None:
        """Record the offer (and its deadline) and tell of it."""

    async def nobody(self, unit: Unit, subject: S_contra, cause: EnvelopeHead | None) -> None:
        """Nobody can be asked: the subject waits, or goes back where it came from."""

    async def closed(self, unit: Unit, subject: S_contra, closing: Closing) -> None:
        """The current offer ends without being taken: its candidate's load is given back."""

    async def asked(self, unit: Unit, subject: S_contra) -> frozenset[str]:
        """Every candidate the subject was offered to."""

    async def eligible(self, unit: Unit, subject: S_contra) -> frozenset[str]:
        """Every candidate who could be asked now."""


def not_again(asked: frozenset[str], eligible: frozenset[str], last: str | None) -> frozenset[str]:
    """Who is not asked next: everyone asked before, while someone eligible is left; once every
    eligible candidate has been asked, only the last one, so that the subject goes round again
    rather than waiting."""
    if eligible <= asked:
        return frozenset({last}) if last else frozenset()
    return asked


async def offer(
    offering: Offering[S_contra],
    unit: Unit,
    subject: S_contra,
    *,
    exclude: frozenset[str] = frozenset(),
    cause: EnvelopeHead | None = None,
) -> str | None:
    """Offer `subject` to the best candidate not in `exclude`; the candidate, or None after
    `nobody`."""
    candidate = await offering.choose(unit, subject, exclude)
    if candidate is None:
        await offering.nobody(unit, subject, cause)
        return None
    await offering.offered(unit, subject, candidate, cause)
    return candidate


async def pass_on(
    offering: Offering[S_contra],
    unit: Unit,
    subject: S_contra,
    holder: str | None,
    closing: Closing,
) -> str | None:
    """The current offer (to `holder`) ends unaccepted; the next candidate is asked."""
    await offering.closed(unit, subject, closing)
    exclude = not_again(
        await offering.asked(unit, subject), await offering.eligible(unit, subject), holder
    )
    return await offer(offering, unit, subject, exclude=exclude)
