"""Where a service keeps personal data, and moving it to the active key of the ring.

A service declares once, as a `PersonalData`, its encrypted columns (`EncryptedColumn`: the
column and the columns naming its row) and its lookup columns (`LookupColumn`: fingerprints, or
values made from them, with how to make them again from the decrypted data). Its code takes the
`Place` of a ciphertext from the same declaration, and `servicekit pii` reads it to re-encrypt
and re-key.

Both runs work in batches, each its own committed transaction, and select only what the active
key did not make: stopped at any point, the next run goes on where it stopped. A row changed by
the service meanwhile is left as the service wrote it (the update matches the value read).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Select,
    and_,
    func,
    literal,
    not_,
    select,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import ColumnProperty, QueryableAttribute

from servicekit.pii import HEADER_BYTES, PiiError, PiiVault, Place, fingerprint_prefix

ColumnLike = QueryableAttribute[Any] | Column[Any]
Recompute = Callable[[AsyncSession, PiiVault, Mapping[str, Any]], Awaitable[str]]
"""The lookup value of one row under the vault's active key, from the row's columns (its row
and input columns, by name); may read more with the session."""


def _column(attribute: ColumnLike) -> Column[Any]:
    if isinstance(attribute, Column):
        return attribute
    prop = attribute.property
    if isinstance(prop, ColumnProperty) and isinstance(prop.columns[0], Column):
        return prop.columns[0]
    raise TypeError(f"{attribute} is not a table column")


def row_identity(values: Sequence[object]) -> str:
    return "/".join(str(value) for value in values)


@dataclass(frozen=True, init=False)
class EncryptedColumn:
    """A column of ciphertexts, each bound to its row, named by the `row` columns' values."""

    column: Column[Any]
    row: tuple[Column[Any], ...]

    def __init__(self, column: ColumnLike, *row: ColumnLike) -> None:
        if not row:
            raise TypeError("an encrypted column needs the columns that name its row")
        object.__setattr__(self, "column", _column(column))
        object.__setattr__(self, "row", tuple(_column(c) for c in row))

    @property
    def name(self) -> str:
        return f"{self.column.table.name}.{self.column.name}"

    def at(self, *row: object) -> Place:
        """The place of this column's ciphertext in the row named by `row` (its row columns'
        values, in their order)."""
        if len(row) != len(self.row):
            raise TypeError(f"{self.name} is named by {len(self.row)} row values")
        return Place(self.column.table.name, self.column.name, row_identity(row))


def fingerprint_of(encrypted: EncryptedColumn) -> Recompute:
    """The `recompute` of a lookup column that holds the fingerprint of `encrypted`'s plaintext
    (a resident ID's, say): the row's ciphertext read at its place, fingerprinted with the active
    key. The lookup's row and inputs must name the encrypted column and its row columns."""

    async def recompute(_session: AsyncSession, vault: PiiVault, row: Mapping[str, Any]) -> str:
        place = encrypted.at(*(row[column.name] for column in encrypted.row))
        return vault.fingerprint(vault.decrypt(row[encrypted.column.name], place))

    return recompute


@dataclass(frozen=True, init=False)
class LookupColumn:
    """A column of values made with the ring's lookup key, for finding rows by personal data."""

    column: Column[Any]
    row: tuple[Column[Any], ...]
    inputs: tuple[Column[Any], ...]
    recompute: Recompute

    def __init__(
        self,
        column: ColumnLike,
        *,
        row: Sequence[ColumnLike],
        inputs: Sequence[ColumnLike],
        recompute: Recompute,
    ) -> None:
        object.__setattr__(self, "column", _column(column))
        object.__setattr__(self, "row", tuple(_column(c) for c in row))
        object.__setattr__(self, "inputs", tuple(_column(c) for c in inputs))
        object.__setattr__(self, "recompute", recompute)

    @property
    def name(self) -> str:
        return f"{self.column.table.name}.{self.column.name}"


@dataclass(frozen=True)
class PersonalData:
    """All a service's encrypted and lookup columns."""

    encrypted: tuple[EncryptedColumn, ...]
    lookups: tuple[LookupColumn, ...] = ()


@dataclass
class Progress:
    column: str
    moved: int = 0
    failed: int = 0  # not readable with the ring (or a lookup value already taken): left as is
    finished: bool = False


class _Budget:
    def __init__(self, max_batches: int | None) -> None:
        self.left = max_batches

    def take(self) -> bool:
        if self.left is None:
            return True
        if self.left <= 0:
            return False
        self.left -= 1
        return True


def _not_active_ciphertext(column: Column[Any], vault: PiiVault) -> ColumnElement[bool]:
    return and_(column.is_not(None), func.substr(column, 1, HEADER_BYTES) != vault.header())


def _not_active_lookup(column: Column[Any], vault: PiiVault) -> ColumnElement[bool]:
    prefix = fingerprint_prefix(vault.active_id)
    return and_(column.is_not(None), not_(column.startswith(prefix, autoescape=True)))


def _after(query: Select[Any], row: tuple[Column[Any], ...], last: Sequence[Any] | None) -> Any:
    """Keyset paging: the rows after `last`, so a row left as is is not read again this run."""
    query = query.order_by(*row)
    if last is None:
        return query
    if len(row) == 1:
        return query.where(row[0] > literal(last[0], row[0].type))
    bound = [literal(value, c.type) for c, value in zip(row, last, strict=True)]
    return query.where(tuple_(*row) > tuple_(*bound))


def _same_row(row: tuple[Column[Any], ...], values: Sequence[Any]) -> ColumnElement[bool]:
    return and_(*(c == v for c, v in zip(row, values, strict=True)))


async def reencrypt(
    sessions: async_sessionmaker[AsyncSession],
    vault: PiiVault,
    data: PersonalData,
    *,
    batch_size: int = 500,
    max_batches: int | None = None,
) -> list[Progress]:
    """Re-encrypt with the active key every ciphertext another key made; `max_batches` stops
    the run after that many committed batches (the next run resumes)."""
    budget, report = _Budget(max_batches), []
    for encrypted in data.encrypted:
        progress = Progress(encrypted.name)
        report.append(progress)
        query = select(*encrypted.row, encrypted.column).where(
            _not_active_ciphertext(encrypted.column, vault)
        )
        move = partial(_reencrypt_one, encrypted, vault, progress)
        await _in_batches(
            sessions, budget, progress, query, row=encrypted.row, batch_size=batch_size, handle=move
        )
        if not progress.finished:
            break
    return report


async def _reencrypt_one(
    encrypted: EncryptedColumn,
    vault: PiiVault,
    progress: Progress,
    session: AsyncSession,
    found: Sequence[Any],
) -> None:
    *values, old = found
    column, place = encrypted.column, encrypted.at(*values)
    try:
        new = vault.encrypt(vault.decrypt(old, place), place)
    except PiiError:
        progress.failed += 1
        return
    result = await session.execute(
        update(column.table)
        .where(_same_row(encrypted.row, values), column == old)
        .values({column.name: new})
    )
    progress.moved += _count(result)


async def rekey(
    sessions: async_sessionmaker[AsyncSession],
    vault: PiiVault,
    data: PersonalData,
    *,
    batch_size: int = 500,
    max_batches: int | None = None,
) -> list[Progress]:
    """Make again with the active lookup key every lookup value another key made."""
    budget, report = _Budget(max_batches), []
    for lookup in data.lookups:
        progress = Progress(lookup.name)
        report.append(progress)
        query = select(*lookup.row, lookup.column, *lookup.inputs).where(
            _not_active_lookup(lookup.column, vault)
        )
        remake = partial(_rekey_one, lookup, vault, progress)
        await _in_batches(
            sessions, budget, progress, query, row=lookup.row, batch_size=batch_size, handle=remake
        )
        if not progress.finished:
            break
    return report


async def _rekey_one(
    lookup: LookupColumn,
    vault: PiiVault,
    progress: Progress,
    session: AsyncSession,
    found: Sequence[Any],
) -> None:
    column, row = lookup.column, lookup.row
    names = [c.name for c in (*row, column, *lookup.inputs)]
    fields = dict(zip(names, found, strict=True))
    values, old = tuple(found)[: len(row)], fields[column.name]
    try:
        new = await lookup.recompute(session, vault, fields)
        async with session.begin_nested():
            result = await session.execute(
                update(column.table)
                .where(_same_row(row, values), column == old)
                .values({column.name: new})
            )
    except (PiiError, IntegrityError):
        progress.failed += 1
        return
    progress.moved += _count(result)


async def _in_batches(
    sessions: async_sessionmaker[AsyncSession],
    budget: _Budget,
    progress: Progress,
    query: Select[Any],
    *,
    row: tuple[Column[Any], ...],
    batch_size: int,
    handle: Callable[[AsyncSession, Sequence[Any]], Awaitable[None]],
) -> None:
    """`handle` each row of `query` (which selects the `row` columns first) in committed
    batches, in `row` order, while the budget lasts; `progress` is finished when none is left."""
    last: Sequence[Any] | None = None
    while budget.take():
        async with sessions.begin() as session:
            rows = (await session.execute(_after(query, row, last).limit(batch_size))).all()
            for found in rows:
                await handle(session, found)
        if len(rows) < batch_size:
            progress.finished = True
            return
        last = tuple(rows[-1])[: len(row)]


async def not_active(
    sessions: async_sessionmaker[AsyncSession], vault: PiiVault, data: PersonalData
) -> dict[str, int]:
    """By column, how many values the active key did not make: when all are 0, the other keys
    can leave the ring."""
    counts: dict[str, int] = {}
    async with sessions() as session:
        for encrypted in data.encrypted:
            condition = _not_active_ciphertext(encrypted.column, vault)
            counts[encrypted.name] = await _count_where(session, encrypted.column, condition)
        for lookup in data.lookups:
            condition = _not_active_lookup(lookup.column, vault)
            counts[lookup.name] = await _count_where(session, lookup.column, condition)
    return counts


async def _count_where(
    session: AsyncSession, column: Column[Any], condition: ColumnElement[bool]
) -> int:
    query = select(func.count()).select_from(column.table).where(condition)
    return int(await session.scalar(query) or 0)


def _count(result: Any) -> int:
    return int(result.rowcount or 0)
