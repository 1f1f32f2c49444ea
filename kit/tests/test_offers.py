"""The offer machine: one candidate at a time, never one asked before while others are left,
round again once everyone has been asked, nobody left told once per try."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from hypothesis import given
from hypothesis import strategies as st

from gonghui_contracts import EnvelopeHead
from servicekit import Unit, offers
from servicekit.offers import Closing, not_again

UNIT = Unit.__new__(Unit)  # the machine hands it through; these offerings never use it


@dataclass
class Job:
    holder: str | None = None
    asked: list[str] = field(default_factory=list)
    told: list[str] = field(default_factory=list)


@dataclass
class Roster:
    """Candidates by preference; `busy` ones cannot be chosen."""

    order: list[str]
    busy: set[str] = field(default_factory=set)
    closings: list[Closing] = field(default_factory=list)

    async def choose(self, unit: Unit, job: Job, exclude: frozenset[str]) -> str | None:
        return next((c for c in self.order if c not in exclude and c not in self.busy), None)

    async def offered(
        self, unit: Unit, job: Job, candidate: str, cause: EnvelopeHead | None
    ) -> None:
        job.holder = candidate
        job.asked.append(candidate)
        job.told.append(f"offered {candidate}")

    async def nobody(self, unit: Unit, job: Job, cause: EnvelopeHead | None) -> None:
        job.holder = None
        job.told.append("nobody")

    async def closed(self, unit: Unit, job: Job, closing: Closing) -> None:
        self.closings.append(closing)

    async def asked(self, unit: Unit, job: Job) -> frozenset[str]:
        return frozenset(job.asked)

    async def eligible(self, unit: Unit, job: Job) -> frozenset[str]:
        return frozenset(self.order) - self.busy


async def test_declines_and_lapses_go_down_the_list_then_round_again() -> None:
    roster, job = Roster(["a", "b", "c"]), Job()
    assert await offers.offer(roster, UNIT, job) == "a"
    assert (
        await offers.pass_on(roster, UNIT, job, job.holder, Closing("declined", "a", "busy")) == "b"
    )
    assert await offers.pass_on(roster, UNIT, job, job.holder, Closing("lapsed")) == "c"
    # everyone asked: round again, skipping only the last
    assert await offers.pass_on(roster, UNIT, job, job.holder, Closing("lapsed")) == "a"
    assert [c.why for c in roster.closings] == ["declined", "lapsed", "lapsed"]
    assert job.told == ["offered a", "offered b", "offered c", "offered a"]


async def test_nobody_free_is_told_and_the_job_waits() -> None:
    roster, job = Roster(["a"], busy={"a"}), Job()
    assert await offers.offer(roster, UNIT, job) is None
    assert (job.holder, job.told) == (None, ["nobody"])


@given(
    st.frozensets(st.sampled_from("abcdef")),
    st.frozensets(st.sampled_from("abcdef"), min_size=1),
    st.sampled_from("abcdef"),
)
def test_the_next_is_never_one_asked_before_while_others_are_left(
    asked: frozenset[str], eligible: frozenset[str], last: str
) -> None:
    skip = not_again(asked, eligible, last)
    if eligible - asked:
        assert eligible - skip == eligible - asked  # someone new is asked
    else:
        assert skip == {last}  # everyone asked: anyone but the last


async def test_a_batch_workload_reads_each_count_once_and_writes_its_changes_once() -> None:
    from servicekit.workload import BatchWorkload, InMemoryWorkload

    class Counting(InMemoryWorkload):
        def __init__(self) -> None:
            super().__init__()
            self.reads: list[list[str]] = []
            self.writes: list[dict[str, int]] = []

        async def counts(self, ids: Iterable[str]) -> dict[str, int]:
            self.reads.append(sorted(ids))
            return await super().counts(self.reads[-1])

        async def change_all(self, changes: Mapping[str, int]) -> None:
            self.writes.append(dict(changes))
            await super().change_all(changes)

    shared = Counting()
    await shared.reset({"a": 2})
    batch = BatchWorkload(shared)
    assert await batch.counts(["a", "b"]) == {"a": 2, "b": 0}
    await batch.change("b", 1)
    await batch.change("a", 1)
    await batch.change("a", -1)
    assert await batch.counts(["b", "a"]) == {"b": 1, "a": 2}  # its own changes, no new read
    assert shared.reads == [["a", "b"]]
    await batch.flush()
    assert shared.writes == [{"b": 1}]  # what did not change is not written
    assert await shared.counts(["a", "b"]) == {"a": 2, "b": 1}
