import gc
import weakref
from collections.abc import Iterator

import pytest

from servicekit import heap


@pytest.fixture
def restored_collector() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)
    gc.enable()


def _collected(thing: object) -> bool:
    """Whether the collector still looks at `thing` (frozen objects are not listed)."""
    return any(o is thing for o in gc.get_objects())


@pytest.mark.usefixtures("restored_collector")
def test_what_exists_at_start_is_frozen_and_young_collections_come_less_often() -> None:
    gc.unfreeze()
    built_at_start: list[list[int]] = [[1], [2]]
    _, middle, old = gc.get_threshold()
    assert _collected(built_at_start)

    heap.settle_after_start(20_000)

    assert gc.get_threshold() == (20_000, middle, old)
    assert not _collected(built_at_start)
    made_after: list[list[int]] = [[3]]
    assert _collected(made_after)


@pytest.mark.usefixtures("restored_collector")
def test_garbage_left_by_startup_is_freed_rather_than_frozen() -> None:
    gc.unfreeze()
    gc.disable()  # no automatic collection in between: only settle_after_start's may free it

    class Node:
        def __init__(self) -> None:
            self.me = self

    left = weakref.ref(Node())  # a cycle: only the collector frees it
    assert left() is not None

    heap.settle_after_start(20_000)

    assert left() is None
