"""Figures the benchmark reads from the running services and computes from its samples."""

from __future__ import annotations

import statistics
from pathlib import Path

import httpx
import localrun

from servicekit.identity import Role


def counters(service: str) -> float:
    """Messages this service settled so far (its Prometheus counter)."""
    operator = localrun.local_tokens().headers(Role.OPERATOR, subject="bench-operator")
    url = f"{localrun.SERVICES[service].url}/metrics"
    text = httpx.get(url, headers=operator, timeout=5).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("kit_messages_consumed_total{")
    )


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
