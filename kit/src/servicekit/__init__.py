"""servicekit: what every gonghui service needs, written once.

settings (KitSettings), the unit of work and transactional outbox (Unit, UnitOfWork,
OutboxRelay), the idempotent batch consumer with dead letters (Subscription, BatchProcessor),
telemetry, health and metrics, and the assembly of a service (Runtime).
"""

from servicekit.app import Runtime, invalid_value, serve
from servicekit.consumer import BatchProcessor, IncomingRecord, Settled, Subscription, each
from servicekit.errors import PermanentError
from servicekit.outbox import OutboxRelay, OutgoingRecord
from servicekit.settings import KitSettings
from servicekit.unit import Unit, UnitOfWork

__all__ = [
    "BatchProcessor",
    "IncomingRecord",
    "KitSettings",
    "OutboxRelay",
    "OutgoingRecord",
    "PermanentError",
    "Runtime",
    "Settled",
    "Subscription",
    "Unit",
    "UnitOfWork",
    "each",
    "invalid_value",
    "serve",
]
