"""Figures the benchmark reads from the running services and computes from its samples."""

from __future__ import annotations

import statistics
from pathlib import Path

import httpx
import localrun

from servicekit.identity import Role


def _metrics(service: str) -> list[str]:
    operator = localrun.local_tokens().headers(Role.OPERATOR, subject="bench-operator")
    url = f"{localrun.SERVICES[service].url}/metrics"
    return httpx.get(url, headers=operator, timeout=5).text.splitlines()


def counters(service: str) -> float:
    """Messages this service settled so far (its Prometheus counter)."""
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in _metrics(service)
        if line.startswith("kit_messages_consumed_total{")
    )


def relay_lag_buckets(service: str) -> dict[float, float]:
    """The service's outbox relay lag histogram so far: events acknowledged within each bound."""
    buckets = {}
    for line in _metrics(service):
        if line.startswith('kit_outbox_relay_lag_seconds_bucket{le="'):
            bound = line.split('le="', 1)[1].split('"', 1)[0]
            buckets[float(bound)] = float(line.rsplit(" ", 1)[1])
    return buckets


def bucket_quantile(
    before: dict[float, float], after: dict[float, float], q: float
) -> float | None:
    """The upper bound of the histogram bucket holding quantile `q` of what was observed between
    two scrapes (a bound, not an interpolation: honest about the buckets' coarseness)."""
    counts = {bound: after[bound] - before.get(bound, 0.0) for bound in sorted(after)}
    total = counts.get(float("inf"), 0.0)
    if total <= 0:
        return None
    return next(bound for bound, seen in counts.items() if seen >= q * total)


def peak_rss_mib(service: str) -> float:
    pid = int(localrun.SERVICES[service].pid_file.read_text())
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def percentiles(values: list[float]) -> dict[str, float | None]:
    if len(values) < 2:
        return {"p50": None, "p95": None, "p99": None}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": round(cuts[49], 3), "p95": round(cuts[94], 3), "p99": round(cuts[98], 3)}
