"""What partners are told about their filings, on the reply topic: opened, merged or rejected;
answered when a lawyer takes the case up (a 12351 work order closes then, the worker has an
answer); concluded. Walk-ins are answered over HTTP, injury referrals by the case-opened event."""

from __future__ import annotations

import uuid
from typing import Any, get_args

from sqlalchemy import select

from gonghui_contracts import EnvelopeHead
from gonghui_contracts.events import FilingOutcome
from gonghui_contracts.events.legal import PartnerChannel
from gonghui_contracts.values import FilingChannel
from legal.models import DisputeCase, Filing
from servicekit import Unit

PARTNER_CHANNELS = frozenset(channel.value for channel in get_args(PartnerChannel))


def tell(
    unit: Unit,
    channel: FilingChannel | None,
    ref: str,
    outcome: str,
    case_id: uuid.UUID | None,
    *,
    cause: EnvelopeHead | None = None,
    to: str | None = None,
    **details: Any,
) -> None:
    """Tell the partner of filing `ref` the `outcome`, on its own topic: partner `to`, by
    default the one whose filing is being handled."""
    told = FilingOutcome(
        channel=channel,
        filing_ref=ref,
        outcome=outcome,
        case_id=case_id,
        work_order_closed=outcome == "answered" and channel is FilingChannel.HOTLINE_12351,
        **details,
    )
    unit.emit(told, key=ref, cause=cause, to=to)


async def tell_partners(unit: Unit, case: DisputeCase, outcome: str, **details: Any) -> None:
    """Every partner that filed this dispute hears what became of it."""
    filings = await unit.session.scalars(
        select(Filing).where(Filing.case_id == case.case_id, Filing.channel.in_(PARTNER_CHANNELS))
    )
    for filing in filings:
        tell(
            unit,
            FilingChannel(filing.channel),
            filing.filing_ref,
            outcome,
            case.case_id,
            to=filing.source,
            lawyer_id=case.lawyer_id,
            station_id=case.station_id,
            **details,
        )
