"""Notify: what became of each notice."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import Field

from gonghui_contracts.envelope import EventPayload

NoticeChannel = Literal["webhook", "sink"]


class NoticeSent(EventPayload):
    EVENT_TYPE = "notify.notice-sent"

    notice_id: UUID
    recipient: str = Field(description="member:<id> or staff:<id>; never a phone number")
    template: str
    cause_event_id: UUID
    channel: NoticeChannel
    attempts: int


class NoticeFailed(EventPayload):
    EVENT_TYPE = "notify.notice-failed"

    notice_id: UUID
    recipient: str
    template: str
    cause_event_id: UUID
    channel: NoticeChannel
    attempts: int
    error: str = Field(description="Why the last attempt failed (no personal data)")
