"""Filings in, from every channel: partners' topic (12351 work orders, court and arbitration
referrals), walk-ins at a station (HTTP), and injury referrals from aid. The same dispute — one
employer, one kind, the same workers — while its case is open is one case; a filing seen before
gets the same answer and changes nothing."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from gonghui_contracts import EnvelopeHead, RejectionReason
from gonghui_contracts.events import Claimant as ClaimantIn
from gonghui_contracts.events import DisputeDetails, LegalCaseOpened, LegalReferralRaised
from gonghui_contracts.events.injury import Employer
from gonghui_contracts.values import (
    CaseStage,
    DisputeKind,
    FilingChannel,
    Industry,
    PriorityGroup,
    local_federation,
    to_cents,
    to_yuan,
)
from legal import assignment, early_warning, metrics, supervision
from legal.desk import Desk, emit, record
from legal.lawyer_pool import LawyerPool
from legal.models import (
    CLAIMANT_NAME,
    CLAIMANT_PHONE,
    CLAIMANT_RESIDENT_ID,
    Claimant,
    DisputeCase,
    Filing,
)
from legal.rules.chain import first_stage, limitation_ends
from legal.rules.triage import case_groups, is_group_dispute
from servicekit import Unit
from servicekit.pii import PiiVault, fingerprint_prefix

Outcome = Literal["opened", "merged", "rejected"]


@dataclass(frozen=True)
class FilingResult:
    outcome: Outcome
    case_id: uuid.UUID | None = None
    reasons: tuple[RejectionReason, ...] = ()
    answered_by: tuple[str, str] | None = None  # (lawyer, station) who accepted the case already


@dataclass(frozen=True)
class Filed:
    """One filing: by which channel (and `source`: the partner, authenticated by its topic, or
    the channel) under which reference, of what dispute, set off by what."""

    channel: FilingChannel
    source: str
    ref: str
    details: DisputeDetails
    cause: EnvelopeHead | None = None
    station_id: str | None = None


async def file(
    desk: Desk,
    unit: Unit,
    channel: FilingChannel,
    ref: str,
    details: DisputeDetails,
    *,
    cause: EnvelopeHead | None = None,
    station_id: str | None = None,
    partner_id: str | None = None,
) -> FilingResult:
    """File a dispute; a partner's (`partner_id`, authenticated by its topic) is known by its
    own reference, any other by its channel's."""
    filed = Filed(channel, partner_id or channel.value, ref, details, cause, station_id)
    [result] = await file_all(desk, unit, [filed])
    return result


async def file_all(desk: Desk, unit: Unit, filings: Sequence[Filed]) -> list[FilingResult]:
    """File disputes: what became of each. One lookup finds the filings seen before, one the
    open cases of the same disputes; the lawyers are read (and locked) once and shared out among
    the new cases; the new cases are counted in their early-warning windows in one round trip,
    and each employer's letters are considered once, after all its cases."""
    if not filings:
        return []
    # Without autoflush, a batch's inserts reach the database together at commit; filings and
    # cases of the same batch are found among the unit's pending objects instead.
    with unit.session.no_autoflush:
        seen = await _filings_seen(unit, [(f.source, f.ref) for f in filings])
        keys = [open_keys(desk.vault, f.details) for f in filings]
        cases = await _open_cases(unit, [key for ring in keys for key in ring])
        batch_desk = replace(desk, lawyers=LawyerPool())
        results, opened = [], []
        for filed, ring in zip(filings, keys, strict=True):
            with unit.traced(filed.cause):
                result, case = await _file(batch_desk, unit, filed, Known(seen, cases, ring))
            if case is not None:
                opened.append((case, f"{filed.channel.value}:{filed.ref}", filed.cause))
            results.append(result)
        assert batch_desk.lawyers is not None
        await batch_desk.lawyers.write(unit)
        await early_warning.observe_all(desk, unit, opened)
        await supervision.consider_all(
            desk, unit, {case.employer_code: cause for case, _, cause in opened}
        )
    return results


@dataclass(frozen=True)
class Known:
    """What the database held before the batch: filings by (source, ref), open cases by key;
    and the filing's dispute keys under every key of the ring, the active key's first."""

    filings: Mapping[tuple[str, str], Filing]
    cases: Mapping[str, DisputeCase]
    keys: list[str]


async def _filings_seen(unit: Unit, refs: list[tuple[str, str]]) -> dict[tuple[str, str], Filing]:
    found = await unit.session.scalars(
        select(Filing).where(tuple_(Filing.source, Filing.filing_ref).in_(refs))
    )
    return {(f.source, f.filing_ref): f for f in found}


async def _open_cases(unit: Unit, keys: list[str]) -> dict[str, DisputeCase]:
    found = await unit.session.scalars(select(DisputeCase).where(DisputeCase.open_key.in_(keys)))
    return {case.open_key: case for case in found if case.open_key is not None}


async def _file(
    desk: Desk, unit: Unit, filed: Filed, known: Known
) -> tuple[FilingResult, DisputeCase | None]:
    """What became of the filing, and the case if it opened one."""
    channel, source, ref, details, cause = (
        filed.channel,
        filed.source,
        filed.ref,
        filed.details,
        filed.cause,
    )
    seen = unit.added(Filing, (source, ref)) or known.filings.get((source, ref))
    if seen is not None:
        case = await unit.session.get(DisputeCase, seen.case_id)
        answered_by = _answered_by(case)
        return FilingResult(seen.outcome, seen.case_id, answered_by=answered_by), None  # type: ignore[arg-type]
    if details.arose_on > desk.clock.today():
        reason = RejectionReason(field="arose_on", rule="is in the future")
        return FilingResult("rejected", reasons=(reason,)), None
    now = desk.clock.now()
    key = known.keys[0]  # the active key's: a new case is stored under it
    case = unit.added_under_any(DisputeCase, known.keys) or next(
        (known.cases[k] for k in known.keys if k in known.cases), None
    )
    outcome: Outcome = "merged"
    if case is None:
        outcome = "opened"
        case = _open(desk, unit, channel, details, key=key, now=now, cause=cause)
        unit.add(case, key=key, group=case.employer_code)
        emit(unit, case, _opened(case, ref), cause)
        await assignment.offer(desk, unit, case, cause=cause)
        metrics.CASES_OPENED.labels(channel.value).inc()
    else:
        case.filings += 1
        record(desk, unit, case, "merged", by=channel.value, reason="the same dispute filed again")
        metrics.FILINGS_MERGED.labels(channel.value).inc()
    unit.add(
        Filing(
            channel=channel.value,
            source=source,
            filing_ref=ref,
            station_id=filed.station_id,
            case_id=case.case_id,
            outcome=outcome,
            received_at=now,
        ),
        key=(source, ref),
    )
    result = FilingResult(outcome, case.case_id, answered_by=_answered_by(case))
    return result, case if outcome == "opened" else None


def _answered_by(case: DisputeCase | None) -> tuple[str, str] | None:
    if case is None or case.accepted_at is None or case.lawyer_id is None:
        return None
    return case.lawyer_id, case.station_id or ""


async def referral(
    desk: Desk, unit: Unit, raised: LegalReferralRaised, cause: EnvelopeHead | None = None
) -> FilingResult:
    """An injured worker aid found needs help to be compensated: a dispute of its own kind."""
    details = DisputeDetails(
        employer=Employer(credit_code=raised.employer.credit_code, name=raised.employer.name),
        industry=raised.industry,
        district_code=raised.district_code,
        kind=DisputeKind.INJURY_COMPENSATION,
        arose_on=raised.injured_on,
        workers=[
            ClaimantIn(
                name=raised.worker.name,
                resident_id=raised.worker.resident_id,
                phone=raised.worker.phone,
                claimed=0,
            )
        ],
    )
    return await file(
        desk, unit, FilingChannel.INJURY_REFERRAL, str(raised.referral_id), details, cause=cause
    )


def open_keys(vault: PiiVault, details: DisputeDetails) -> list[str]:
    """The dispute's key under every key of the ring, the active key's first."""
    employer, kind = details.employer.credit_code, details.kind.value
    return [
        dispute_key(
            key_id,
            employer,
            kind,
            [vault.fingerprint(w.resident_id, key_id) for w in details.workers],
        )
        for key_id in vault.key_ids
    ]


def dispute_key(key_id: int, employer_code: str, kind: str, fingerprints: list[str]) -> str:
    """Names the dispute, not its workers: fingerprints of their IDs, never the IDs; begins with
    the id of the key that made the fingerprints, like them."""
    text = "|".join([employer_code, kind, *sorted(fingerprints)])
    return fingerprint_prefix(key_id) + hashlib.sha256(text.encode()).hexdigest()[:56]


async def stored_open_key(session: AsyncSession, vault: PiiVault, row: Mapping[str, Any]) -> str:
    """An open case's key made again from its stored claimants (`servicekit pii rekey`)."""
    case_id = row["case_id"]
    claimants = await session.execute(
        select(Claimant.sequence, Claimant.resident_id).where(Claimant.case_id == case_id)
    )
    fingerprints = [
        vault.fingerprint(vault.decrypt(resident_id, CLAIMANT_RESIDENT_ID.at(case_id, sequence)))
        for sequence, resident_id in claimants
    ]
    return dispute_key(vault.active_id, row["employer_code"], row["kind"], fingerprints)


def _open(
    desk: Desk,
    unit: Unit,
    channel: FilingChannel,
    details: DisputeDetails,
    *,
    key: str,
    now: datetime,
    cause: EnvelopeHead | None,
) -> DisputeCase:
    union_id, _ = local_federation(details.district_code)
    stage = first_stage(channel)
    groups = case_groups(details.workers, details.industry)
    limitation = limitation_ends(details.arose_on, desk.terms.chain.limitation_years)
    case = DisputeCase(
        case_id=uuid.uuid4(),
        open_key=key,
        channel=channel.value,
        district_code=details.district_code,
        union_id=union_id,
        kind=details.kind.value,
        industry=details.industry.value,
        employer_code=details.employer.credit_code,
        employer_name=details.employer.name,
        workers=len(details.workers),
        claimed_cents=sum(to_cents(w.claimed) for w in details.workers),
        priority_groups=",".join(g.value for g in groups),
        priority=bool(groups),
        group_dispute=is_group_dispute(len(details.workers)),
        filings=1,
        arose_on=details.arose_on,
        limitation_ends_on=limitation,
        opened_at=now,
        stage=stage.value,
        stage_started_at=now,
        stage_due_at=desk.terms.chain.due(stage, now),
        stage_extended=False,
        offers=0,
        trace_headers=json.dumps(unit.trace_headers(cause)),
    )
    if limitation < desk.clock.today():  # nothing left to remind anyone of
        case.limitation_reminded_at = case.limitation_escalated_at = now
    vault, case_id = desk.vault, case.case_id
    for sequence, worker in enumerate(details.workers, start=1):
        unit.session.add(
            Claimant(
                case_id=case_id,
                sequence=sequence,
                name=vault.encrypt(worker.name, CLAIMANT_NAME.at(case_id, sequence)),
                resident_id=vault.encrypt(
                    worker.resident_id, CLAIMANT_RESIDENT_ID.at(case_id, sequence)
                ),
                phone=vault.encrypt(worker.phone, CLAIMANT_PHONE.at(case_id, sequence)),
                groups=",".join(sorted(g.value for g in worker.groups)),
                claimed_cents=to_cents(worker.claimed),
            )
        )
    record(desk, unit, case, "opened", by=channel.value, reason="filing received")
    return case


def _opened(case: DisputeCase, ref: str) -> LegalCaseOpened:
    return LegalCaseOpened(
        case_id=case.case_id,
        channel=FilingChannel(case.channel),
        filing_ref=ref,
        district_code=case.district_code,
        union_id=case.union_id,
        kind=DisputeKind(case.kind),
        industry=Industry(case.industry),
        employer_code=case.employer_code,
        workers=case.workers,
        claimed=to_yuan(case.claimed_cents),
        priority_groups=[PriorityGroup(g) for g in case.priority_groups.split(",") if g],
        group_dispute=case.group_dispute,
        stage=CaseStage(case.stage),
        stage_due_at=case.stage_due_at,
        limitation_ends_on=case.limitation_ends_on,
        opened_at=case.opened_at,
    )
