"""Triage: who is served first. Priority groups (new-employment-form, migrant, hardship and women
workers) go ahead of the rest, collective disputes are flagged, and the queue is ordered so."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from gonghui_contracts.events import Claimant
from gonghui_contracts.events.legal import GROUP_DISPUTE_WORKERS
from gonghui_contracts.values import (
    NEW_EMPLOYMENT_FORM_INDUSTRIES,
    Industry,
    PriorityGroup,
    is_female,
)


def worker_groups(worker: Claimant, industry: Industry) -> set[PriorityGroup]:
    """What the channel declared, and what the ID and the industry show."""
    groups = set(worker.groups)
    if industry in NEW_EMPLOYMENT_FORM_INDUSTRIES:
        groups.add(PriorityGroup.NEW_EMPLOYMENT_FORM)
    if is_female(worker.resident_id):
        groups.add(PriorityGroup.WOMEN)
    return groups


def case_groups(workers: Iterable[Claimant], industry: Industry) -> list[PriorityGroup]:
    """The priority groups among a case's workers, in the order of the enumeration."""
    found: set[PriorityGroup] = set()
    for worker in workers:
        found |= worker_groups(worker, industry)
    return [group for group in PriorityGroup if group in found]


def is_group_dispute(workers: int) -> bool:
    return workers >= GROUP_DISPUTE_WORKERS


def queue_order(
    priority: bool, group_dispute: bool, opened_at: datetime
) -> tuple[int, int, datetime]:
    """Sort key of the queue: priority cases first, then collective disputes, then oldest."""
    return (0 if priority else 1, 0 if group_dispute else 1, opened_at)
