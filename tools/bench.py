"""`make bench`: the 23,000-courier burst through membership → aid → notify, Shenzhen's 100,000
injury reports through aid (→ notify), a year of Guangzhou's 13,000 dispute filings through
legal (→ notify), and Guangzhou's 60,300 mutual-aid payouts of 2024 as the medical-insurance
bureau's settlements through aid, each beside a bare-Kafka floor; and 10,000 members asking for
a session's 300 seats over HTTP through skills, beside bare conditional UPDATEs on PostgreSQL.

Writes bench/results/<time>.json and prints a table against the targets. Phases:
  floor   bare aiokafka: N messages produced, relayed over three hops, consumed (same broker;
          the median of three runs)
  burst   N join requests published at once; time until every member's last notice is sent
  steady  join requests paced at a fixed rate; end-to-end latency percentiles
  injuries N hospital reports at once; time until each is dispatched to a visitor, latencies
  disputes N filings at once; time until each case is offered to a lawyer, latencies
  claims  N settlements at once for covered members; time until each claim is decided, latencies
  seats   N members ask for one session of 300 seats over HTTP at once, then for another through
          an app gateway over Kafka; time to sold out and to every answer, latencies, seats
          oversold, beside bare conditional UPDATEs on PostgreSQL
BENCH_PHASES (default joins,injuries,disputes,claims,seats) picks phases; BENCH_BURST,
BENCH_INJURIES, BENCH_DISPUTES, BENCH_CLAIMS, BENCH_SEATS, BENCH_STEADY_RATE, BENCH_STEADY_SECONDS
and BENCH_TIMEOUT size them.
Services run with trace sampling (OTEL_TRACES_SAMPLER, 1 % by default), as in production.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from rich.console import Console
from rich.table import Table

from servicekit.kafka_access import client_options

sys.path.insert(0, str(Path(__file__).parent))
import bench_claims
import bench_injuries
import bench_legal
import bench_seats
import localrun
import measure
import scenario
import streams

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
REQUESTS = "partner.membership.join-requests.v1"
SERVICES = ("membership", "aid", "legal", "skills", "notify")
RELAYS = ("membership", "aid", "notify")  # the outboxes the joins go through
console = Console()
SAMPLE = scenario.build("floor", total=100, repeats=0, invalid=0).requests


# ---------------------------------------------------------------- floor: bare aiokafka


async def floor_hop(source: str, target: str | None, count: int, group: str) -> None:
    """Consume `count` messages from `source` and forward each to `target` (none: only read).
    Says `ready` on stdout once its group gave it the partitions, and `done <time>` once it
    has handled `count`, before it lets go of its clients."""
    consumer = AIOKafkaConsumer(
        source, **client_options(localrun.KAFKA), group_id=group, auto_offset_reset="earliest"
    )
    producer = AIOKafkaProducer(
        **client_options(localrun.KAFKA), enable_idempotence=True, linger_ms=5
    )
    await consumer.start()
    await producer.start()
    seen = 0
    ready = False
    try:
        while seen < count:
            batches = await consumer.getmany(timeout_ms=200, max_records=1000)
            if not ready and consumer.assignment():
                ready = True
                print("ready", flush=True)
            for records in batches.values():
                for record in records:
                    if target:
                        await producer.send(target, record.value, key=record.key)
                    seen += 1
            await producer.flush()
            await consumer.commit()
        print(f"done {time.time()}", flush=True)
    finally:
        await producer.stop()
        await consumer.stop()


FLOOR_RUNS = 3


async def run_floor(count: int, payloads: list[bytes], hops_count: int = 3) -> dict[str, Any]:
    """The median of three runs of `count` messages through `hops_count` consume-and-forward
    hops, one process each: a single run of a few seconds moves with whatever else the
    machine does at that moment."""
    runs = [await floor_once(count, payloads, hops_count) for _ in range(FLOOR_RUNS)]
    seconds = sorted(runs)[len(runs) // 2]
    return {
        "messages": count,
        "seconds": round(seconds, 2),
        "per_second": round(count / seconds, 1),
        "runs_seconds": [round(r, 2) for r in runs],
    }


async def floor_once(count: int, payloads: list[bytes], hops_count: int) -> float:
    """Seconds from the first send until the last hop has consumed all `count` messages; the
    clock starts once every hop's consumer has its partitions."""
    run = uuid.uuid4().hex[:6]
    hops = [f"bench.floor.{run}.{n}" for n in range(hops_count + 1)]
    admin = AIOKafkaAdminClient(**client_options(localrun.KAFKA))
    await admin.start()
    await admin.create_topics([NewTopic(t, 6, 1) for t in hops])
    workers = [
        subprocess.Popen(  # noqa: S603, ASYNC220 - each hop a process of its own, as the services
            [
                sys.executable,
                __file__,
                "floor-hop",
                hops[n],
                hops[n + 1] if n < hops_count - 1 else "",
                str(count),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(hops_count)
    ]
    try:
        for worker in workers:
            await asyncio.wait_for(_said(worker, "ready"), timeout=60)
        started = time.time()
        producer = AIOKafkaProducer(
            **client_options(localrun.KAFKA), enable_idempotence=True, linger_ms=5
        )
        await producer.start()
        sent = [
            await producer.send(hops[0], payloads[n % len(payloads)], key=str(n).encode())
            for n in range(count)
        ]
        await asyncio.gather(*sent)
        await producer.stop()
        finished = float((await _said(workers[-1], "done")).split()[1])
        for worker in workers:
            await asyncio.to_thread(worker.wait)
    finally:
        for worker in workers:
            worker.kill()
        await admin.delete_topics(hops)
        await admin.close()
    return finished - started


async def _said(worker: subprocess.Popen[str], word: str) -> str:
    """The next line a floor hop wrote that starts with `word`."""
    assert worker.stdout is not None
    while line := await asyncio.to_thread(worker.stdout.readline):
        if line.startswith(word):
            return line
    raise RuntimeError(f"a floor hop ended without saying {word!r}")


# ---------------------------------------------------------------- the pipeline


def flows_done(sink: localrun.NoticeSink, correlations: set[str]) -> dict[str, float]:
    """When each flow got its second (last) notice, by correlation id."""
    times: dict[str, list[float]] = {}
    for notice in sink.read():
        key = str(notice["correlation_id"])
        if key in correlations:
            times.setdefault(key, []).append(float(str(notice["sent_at"])))
    return {key: max(sent) for key, sent in times.items() if len(sent) >= 2}


async def run_flow(
    name: str, count: int, rate: float | None, timeout: float, taken: set[str]
) -> dict[str, Any]:
    """`count` joins (of people not in `taken`), at `rate` a second or all at once."""
    run = f"{name}{uuid.uuid4().hex[:5]}"
    plan = scenario.build(run, total=count, repeats=0, invalid=0, seed=hash(run), taken=taken)
    before = {s: measure.counters(s) for s in SERVICES}
    lag_before = {s: measure.relay_lag_buckets(s) for s in RELAYS}
    # The sink holds every earlier run's notices too: only what comes after now is read.
    sink = localrun.NoticeSink(from_end=True)
    started = time.time()
    published = await streams.publish_timed(
        REQUESTS,
        list(zip(plan.refs, plan.requests, strict=True)),
        localrun.partner(scenario.PARTNER),
        rate,
    )
    expected = set(published)
    deadline = time.monotonic() + timeout
    finished: dict[str, float] = {}
    while time.monotonic() < deadline:
        finished = flows_done(sink, expected)  # every member is told twice
        if len(finished) == len(expected):
            break
        await asyncio.sleep(1)
    drained = max(finished.values(), default=time.time()) - started
    latencies = sorted(finished[k] - published[k] for k in finished)
    after = {s: measure.counters(s) for s in SERVICES}
    lag_after = {s: measure.relay_lag_buckets(s) for s in RELAYS}
    return {
        "requests": count,
        "rate_offered": rate,
        "completed": len(finished),
        "drain_seconds": round(drained, 2),
        "pipeline_per_second": round(len(finished) / drained, 1) if drained > 0 else None,
        "latency_seconds": measure.percentiles(latencies),
        "events_per_second": {s: round((after[s] - before[s]) / drained, 1) for s in SERVICES},
        "relay_lag_p99_at_most_seconds": {
            s: measure.bucket_quantile(lag_before[s], lag_after[s], 0.99) for s in RELAYS
        },
    }


# ---------------------------------------------------------------- report


def report(result: dict[str, Any]) -> None:
    rss = result["peak_rss_mib"]
    rows = [
        *(join_rows(result) if "burst" in result else []),
        *[(f"peak RSS {s}", f"{rss[s]} MiB", "≤ 150 MiB", rss[s] <= 150) for s in SERVICES],
        *(injury_rows(result["injuries"], result["injury_floor"]) if "injuries" in result else []),
        *(
            dispute_rows(result["disputes"], result["dispute_floor"])
            if "disputes" in result
            else []
        ),
        *(claim_rows(result["claims"], result["claim_floor"]) if "claims" in result else []),
        *(seat_rows(result["seats"]) if "seats" in result else []),
    ]
    table = Table(title=f"gonghui bench — {result['when']} (trace sampling {result['sampling']})")
    for column in ("measure", "result", "target", ""):
        table.add_column(column)
    for what, value, target, met in rows:
        verdict = "" if met is None else ("[green]met" if met else "[red]missed")
        table.add_row(what, value, target, verdict)
    console.print(table)


def join_rows(result: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
    burst, steady, floor = result["burst"], result["steady"], result["floor"]
    rate = burst["pipeline_per_second"] or 0
    ratio = rate / floor["per_second"]
    steady_p = steady["latency_seconds"]
    return [
        (
            "burst drained",
            f"{burst['drain_seconds']} s for {burst['requests']:,}",
            "≤ 30 s",
            burst["drain_seconds"] <= 30,
        ),
        (
            "pipeline rate vs floor",
            f"{rate}/s vs {floor['per_second']}/s = {ratio:.1%}",
            "≥ 15 %",
            ratio >= 0.15,
        ),
        ("burst latency p50/p95/p99", _triple(burst["latency_seconds"]), "", None),
        *[
            (
                f"outbox relay lag p99 {s} (burst)",
                f"≤ {lag} s (histogram bucket)",
                "≤ 1 s",
                lag is not None and lag <= 1,
            )
            for s, lag in burst["relay_lag_p99_at_most_seconds"].items()
        ],
        (
            f"steady {steady['rate_offered']:.0f}/s: p99",
            f"{steady_p['p99']} s",
            "≤ 1 s",
            (steady_p["p99"] or 1e9) <= 1,
        ),
        ("steady latency p50/p95/p99", _triple(steady_p), "", None),
        *[
            (f"events/s {s} (burst)", str(burst["events_per_second"][s]), "", None)
            for s in SERVICES
        ],
    ]


Row = tuple[str, str, str, bool | None]


def injury_rows(injuries: dict[str, Any], floor: dict[str, Any]) -> list[Row]:
    names = ("injury burst: all dispatched", "dispatch")
    keys = ("dispatched", "reports", "dispatch_per_second")
    return burst_rows(
        injuries, floor, names, keys, within=300 if injuries["reports"] == 100_000 else None
    )


def dispute_rows(disputes: dict[str, Any], floor: dict[str, Any]) -> list[Row]:
    names = ("dispute burst: all offered to a lawyer", "assignment")
    keys = ("assigned", "filings", "assign_per_second")
    return burst_rows(
        disputes, floor, names, keys, within=60 if disputes["filings"] == 13_000 else None
    )


def claim_rows(claims: dict[str, Any], floor: dict[str, Any]) -> list[Row]:
    names = ("claims burst: all decided", "decision")
    return burst_rows(claims, floor, names, ("decided", "settlements", "decide_per_second"))


def burst_rows(
    figures: dict[str, Any],
    floor: dict[str, Any],
    names: tuple[str, str],
    keys: tuple[str, ...],
    *,
    within: float | None = None,
) -> list[Row]:
    """A burst's rows: all handled (within `within` seconds: the target, for the burst of its
    size), its rate beside the floor's, its latencies. `keys` name its figures: handled,
    published, rate."""
    (title, step), (done_key, total_key, rate_key) = names, keys
    done, total, rate = figures[done_key], figures[total_key], figures[rate_key] or 0
    drained = figures["drain_seconds"]
    met = done == total and (within is None or drained <= within)
    return [
        (
            title,
            f"{drained} s for {done:,} of {total:,}",
            f"≤ {within:.0f} s" if within else "all",
            met,
        ),
        (
            f"{step} rate vs floor (2 hops)",
            f"{rate}/s vs {floor['per_second']}/s = {rate / floor['per_second']:.1%}",
            "",
            None,
        ),
        (f"{step} latency p50/p95/p99", _triple(figures["latency_seconds"]), "", None),
    ]


def seat_rows(seats: dict[str, Any]) -> list[Row]:
    http, floor = seats["http"], seats["floor"]
    p99 = http["latency_seconds"]["p99"]
    return [
        (
            "seats: all answered over HTTP",
            f"{http['all_answered_seconds']} s for {http['answered']:,} of {http['requests']:,}"
            f" ({http['errors']} errors)",
            "",
            http["answered"] == http["requests"],
        ),
        ("seats: sold out after", f"{http['sold_out_seconds']} s", "", None),
        ("seats: oversold", str(http["oversold"]), "0", http["oversold"] == 0),
        (
            "seats: HTTP answer p50/p95/p99",
            _triple(http["latency_seconds"]),
            "p99 ≤ 0.5 s",
            p99 is not None and p99 <= 0.5,
        ),
        (
            "seats: answers/s vs bare conditional UPDATE",
            f"{http['answers_per_second']}/s vs {floor['answers_per_second']}/s = "
            f"{http['answers_per_second'] / floor['answers_per_second']:.1%}",
            "",
            None,
        ),
        ("seats floor: UPDATE p50/p95/p99", _triple(floor["latency_seconds"]), "", None),
        *_kafka_seat_rows(seats.get("kafka")),
    ]


def _kafka_seat_rows(kafka: dict[str, Any] | None) -> list[Row]:
    if kafka is None:
        return []
    return [
        (
            "seats over Kafka: all answered",
            f"{kafka['all_answered_seconds']} s for {kafka['answered']:,} of "
            f"{kafka['requests']:,} ({kafka['answers_per_second']}/s)",
            "",
            kafka["answered"] == kafka["requests"],
        ),
        ("seats over Kafka: oversold", str(kafka["oversold"]), "0", kafka["oversold"] == 0),
        (
            "seats over Kafka: publish → answer p50/p95/p99",
            _triple(kafka["latency_seconds"]),
            "",
            None,
        ),
    ]


def _triple(latency: dict[str, float | None]) -> str:
    return "/".join(str(v) for v in latency.values()) + " s"


async def join_phases(timeout: float) -> dict[str, Any]:
    burst_size = int(os.environ.get("BENCH_BURST", "23000"))
    steady_rate = float(os.environ.get("BENCH_STEADY_RATE", "500"))
    steady_seconds = float(os.environ.get("BENCH_STEADY_SECONDS", "30"))
    console.rule("floor: bare aiokafka, three hops")
    floor = await run_floor(burst_size, SAMPLE)
    console.print(floor)
    console.rule(f"burst: {burst_size:,} join requests at once")
    taken: set[str] = set()  # a steady joiner drawn as one of the burst would only be told once
    burst = await run_flow("burst", burst_size, None, timeout, taken)
    console.print(burst)
    console.rule(f"steady: {steady_rate:.0f} joins/s for {steady_seconds:.0f} s")
    steady = await run_flow(
        "steady", int(steady_rate * steady_seconds), steady_rate, timeout, taken
    )
    console.print(steady)
    return {"floor": floor, "burst": burst, "steady": steady}


BurstRun = Callable[[int, float], Awaitable[dict[str, Any]]]


async def burst_phases(
    name: str, count: int, what: str, run: BurstRun, timeout: float
) -> dict[str, Any]:
    """A two-hop floor of `count` messages, then the burst of `count` `what` through `run`."""
    console.rule(f"floor: bare aiokafka, two hops (partner → {name} → out)")
    floor = await run_floor(count, SAMPLE, hops_count=2)
    console.print(floor)
    console.rule(f"{count:,} {what} at once")
    figures = await run(count, timeout)
    console.print(figures)
    return {"floor": floor, "figures": figures}


async def main() -> int:
    phases = set(os.environ.get("BENCH_PHASES", "joins,injuries,disputes,claims,seats").split(","))
    timeout = float(os.environ.get("BENCH_TIMEOUT", "3600"))
    when = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    result: dict[str, Any] = {
        "when": when,
        "machine": {"cpus": os.cpu_count()},
        "sampling": os.environ.get("OTEL_TRACES_SAMPLER_ARG", "1.0"),
    }
    if "joins" in phases:
        result.update(await join_phases(timeout))
    if "injuries" in phases:
        count = int(os.environ.get("BENCH_INJURIES", "100000"))
        found = await burst_phases("aid", count, "hospital reports", bench_injuries.run, timeout)
        result.update(injury_floor=found["floor"], injuries=found["figures"])
    if "disputes" in phases:
        count = int(os.environ.get("BENCH_DISPUTES", "13000"))
        found = await burst_phases("legal", count, "dispute filings", bench_legal.run, timeout)
        result.update(dispute_floor=found["floor"], disputes=found["figures"])
    if "claims" in phases:
        count = int(os.environ.get("BENCH_CLAIMS", "60300"))
        found = await burst_phases("aid", count, "settlements", bench_claims.run, timeout)
        result.update(claim_floor=found["floor"], claims=found["figures"])
    if "seats" in phases:
        count = int(os.environ.get("BENCH_SEATS", "10000"))
        console.rule(f"seats: {count:,} members ask for 300 seats over HTTP at once")
        result["seats"] = await bench_seats.run(count, timeout)
        console.print(result["seats"])
    result["peak_rss_mib"] = {s: measure.peak_rss_mib(s) for s in SERVICES}
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{when.replace(':', '')}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    report(result)
    console.print(f"written to {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["floor-hop"]:
        source, target, count = sys.argv[2], sys.argv[3] or None, int(sys.argv[4])
        asyncio.run(floor_hop(source, target, count, f"floor-{source}"))
    else:
        sys.exit(asyncio.run(main()))
