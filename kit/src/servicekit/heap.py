"""The cyclic garbage collector, set for a service that handles events in batches.

CPython collects its youngest generation every 700 net allocations of container objects, and
every hundredth collection walks the whole heap. A batch of a few hundred events allocates far
more than that and keeps it alive until the batch commits, so its objects outlive the young
collections, are promoted, and soon trigger full collections. Each full collection walks every
object the imports and the service's start made (about 150,000, over 100 ms on the 2-core bench
machine): under the 23,000-join burst the collector took 36-45 % of each service's CPU.

Once a service has started, what it built so far is frozen (left out of every later collection:
it lives as long as the process anyway), and the youngest generation is collected less often.
Objects freed by their reference count, which is nearly all of a batch's, are unaffected.
"""

import gc


def settle_after_start(young_threshold: int) -> None:
    """Freeze what exists now, and collect the youngest generation every `young_threshold`
    allocations (CPython's default is 700)."""
    gc.collect()  # what startup left as garbage is freed, not frozen
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(young_threshold, middle, old)
