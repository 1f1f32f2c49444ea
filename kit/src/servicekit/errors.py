"""How the kit tells a bad message from a bad moment."""

from __future__ import annotations

import asyncio

from redis import exceptions as redis_errors
from sqlalchemy import exc as sql_errors


class PermanentError(Exception):
    """Raised by a handler for a message that can never be processed.

    The message goes straight to the dead-letter topic, with this error's text as the reason:
    keep personal data out of it.
    """


def is_transient(error: BaseException) -> bool:
    """True for failures of the moment (database, Redis or Kafka unreachable, a lock timeout):
    the message is not at fault and is retried, never dead-lettered."""
    from aiokafka import errors as kafka_errors

    if isinstance(error, sql_errors.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(
        error,
        sql_errors.OperationalError
        | sql_errors.InterfaceError
        | sql_errors.DisconnectionError
        | sql_errors.TimeoutError
        | redis_errors.ConnectionError
        | redis_errors.TimeoutError
        | kafka_errors.KafkaConnectionError
        | kafka_errors.KafkaTimeoutError
        | kafka_errors.NotLeaderForPartitionError
        | ConnectionError
        | TimeoutError
        | asyncio.TimeoutError,
    )


def safe_reason(error: BaseException) -> str:
    """A reason fit for a dead letter or a log line: our own errors' text, else the type only
    (a database error's text can quote the parameters, and they can be personal data)."""
    from gonghui_contracts import ContractViolation

    if isinstance(error, ContractViolation | PermanentError):
        return f"{type(error).__name__}: {error}"
    return type(error).__qualname__
