"""Database engine, the kit's own tables, and the SQLite adjustments that savepoints need."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from opentelemetry.trace import SpanKind
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    event,
    insert,
    text,
)
from sqlalchemy import exc as sql_errors
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from servicekit import telemetry

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    """Metadata with the constraint naming convention every service uses."""
    return MetaData(naming_convention=NAMING_CONVENTION)


kit_metadata = new_metadata()

# SQLite only aliases rowid for INTEGER PRIMARY KEY, so the sequence column is INTEGER there.
SequenceNumber = BigInteger().with_variant(Integer(), "sqlite")


def _outgoing_record_columns() -> list[Column[Any]]:
    """A record waiting to be published: the outbox's columns, and the parking's."""
    return [
        Column("seq", SequenceNumber, primary_key=True, autoincrement=True),
        Column("message_id", String(64), nullable=False, unique=True),
        Column("topic", String(200), nullable=False),
        Column("key", LargeBinary, nullable=True),
        Column("value", LargeBinary, nullable=False),
        Column(
            "headers",
            Text,
            nullable=False,
            doc="JSON object of string headers, trace context included",
        ),
        Column("created_at", DateTime(timezone=True), nullable=False),
    ]


outbox_table = Table("kit_outbox", kit_metadata, *_outgoing_record_columns())

outbox_parked_table = Table(
    "kit_outbox_parked",
    kit_metadata,
    *_outgoing_record_columns(),
    Column("parked_at", DateTime(timezone=True), nullable=False),
    Column("reason", String(500), nullable=False, doc="Why it can never be published as it is"),
)

inbox_table = Table(
    "kit_inbox",
    kit_metadata,
    Column("consumer_group", String(120), primary_key=True),
    Column("message_key", String(200), primary_key=True, doc="event id, or topic:partition:offset"),
    Column("outcome", String(20), nullable=False),
    Column("processed_at", DateTime(timezone=True), nullable=False),
)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware moment on every database: SQLite stores no offset and hands back naive
    datetimes, which could then not be compared with aware ones. Naive input is refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("a naive datetime cannot be stored as a moment")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


# Prepared statements each connection keeps. A batch makes statements of as many shapes as there
# are batch sizes (a multi-row INSERT, an IN list), each one prepared and kept with its
# parameters' codecs: a 373-row INSERT has 2,238. SQLAlchemy's 100 a connection held 12-13 MiB
# more per service under a 40,000-report burst than 10, at the same speed; with none kept the
# burst took a quarter longer.
STATEMENTS_KEPT = 10


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    # Bound values can be personal data: never in an error's text, so never in a log.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        _make_sqlite_transactional(engine)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("pool_pre_ping", True)
    if "+asyncpg" in url:
        kwargs.setdefault("connect_args", {"prepared_statement_cache_size": STATEMENTS_KEPT})
    return create_async_engine(url, **kwargs)


def _make_sqlite_transactional(engine: AsyncEngine) -> None:
    """Let SQLAlchemy, not the sqlite3 module, begin transactions, so SAVEPOINT works.

    The driver otherwise defers BEGIN and commits on its own; see SQLAlchemy's
    "Serializable isolation / Savepoints / Transactional DDL" notes for pysqlite.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)


async def insert_if_absent(session: AsyncSession, model: type[Any], **values: Any) -> None:
    """INSERT the row unless one with the same key exists (ON CONFLICT DO NOTHING), on
    PostgreSQL and SQLite: a row that concurrent transactions may both create."""
    bind = session.get_bind()
    dialect = postgresql if bind.dialect.name == "postgresql" else sqlite
    await session.execute(dialect.insert(model).values(**values).on_conflict_do_nothing())


async def upsert(
    session: AsyncSession, model: type[Any], rows: Iterable[Mapping[str, Any]], *, key: str
) -> None:
    """INSERT the rows in one statement; a row whose `key` exists already has its other columns
    replaced (ON CONFLICT DO UPDATE), on PostgreSQL and SQLite. Of rows sharing a key, the last
    is kept: one statement may not change a row twice."""
    if not rows:
        return
    last = list({row[key]: row for row in rows}.values())
    bind = session.get_bind()
    dialect = postgresql if bind.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(model)
    others = {name: statement.excluded[name] for name in last[0] if name != key}
    await session.execute(statement.on_conflict_do_update(index_elements=[key], set_=others), last)


async def insert_rows(
    session: AsyncSession, table: Table | type[Any], rows: Sequence[Mapping[str, Any]]
) -> None:
    """INSERT `rows` (dicts with the same keys) in the session's transaction: on PostgreSQL
    through COPY, which spares both Python and the server the per-row statement work of an
    executemany; elsewhere as an executemany. Python-side column defaults are not applied:
    give every value the table has no server default for. Rows the ORM holds pending are not
    flushed first: flush them before, if these rows refer to them."""
    if not rows:
        return
    target: Table = table if isinstance(table, Table) else table.__table__
    connection = await session.connection()
    if connection.dialect.name != "postgresql":
        await session.execute(insert(target), rows)
        return
    columns = list(rows[0])
    pooled = await connection.get_raw_connection()
    driver: Any = pooled.driver_connection  # asyncpg's Connection
    if not driver.is_in_transaction():  # the driver begins the transaction at its first statement
        await session.execute(text("SELECT 1"))
    with telemetry.tracer().start_as_current_span(
        "copy",
        kind=SpanKind.CLIENT,
        attributes={
            "db.system": "postgresql",
            "db.operation.name": "COPY",
            "db.collection.name": target.name,
            "db.operation.batch.size": len(rows),
        },
    ):
        try:
            await driver.copy_records_to_table(
                target.name,
                columns=columns,
                records=[tuple(row[column] for column in columns) for row in rows],
                schema_name=target.schema,
            )
        except Exception as error:
            raise _as_sqlalchemy_error(connection, pooled, error, f"COPY {target.name}") from error


def _as_sqlalchemy_error(
    connection: AsyncConnection, pooled: Any, error: Exception, statement: str
) -> Exception:
    """The driver's error as SQLAlchemy raises it for a statement it ran (an IntegrityError for
    a unique key, an OperationalError for a lost connection...), so callers see one kind."""
    try:
        pooled.dbapi_connection._handle_exception(error)  # raises it translated to the DBAPI's
    except Exception as translated:
        dbapi = connection.dialect.dbapi
        assert dbapi is not None
        return sql_errors.DBAPIError.instance(statement, None, translated, dbapi.Error)
    return error
