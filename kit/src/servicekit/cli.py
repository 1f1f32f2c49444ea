"""Operator commands: topics from the registry, dead letters, migrations.

servicekit topics create            create every registry topic and its .dlq twin (idempotent;
                                    --partners FILE: each partner's own topics of its families)
servicekit topics list              what the broker has, beside what the registry declares
servicekit dlq list TOPIC           the dead letters of TOPIC, with their reasons
servicekit dlq replay TOPIC         publish dead letters back to TOPIC (all, or --offset N ...)
servicekit outbox parked            outbox rows the relay set aside (too large, topic refused)
servicekit outbox retry SEQ...      put parked rows back in the outbox; drop SEQ... deletes them
servicekit migrate DIR              alembic upgrade head of the migrations in DIR
servicekit revision DIR -m MESSAGE  autogenerate a migration for a service's models
servicekit pii reencrypt SERVICE    ciphertexts of other keys of the ring to the active key
servicekit pii rekey SERVICE        lookup fingerprints to the active key (pii status: what is left)
servicekit acl list|apply           Kafka principals and ACLs of the registry (apply: on the broker)
servicekit partner add ID --kind K  a partner's SCRAM user, ACLs and topics
servicekit token keygen|mint        a local signing key under .local/, tokens signed with it
servicekit k8s kafka-resources DIR  Strimzi KafkaTopics and KafkaUsers from the registry (--check)
"""

from __future__ import annotations

import asyncio
import importlib
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from gonghui_contracts import TOPICS
from gonghui_contracts.access import is_partner_family, placed, topic_names
from gonghui_contracts.generated import write_or_check
from gonghui_contracts.topics import BY_NAME, DLQ_SUFFIX
from servicekit import db, deadletters, migrations, parking, strimzi, topics_admin
from servicekit.access_cli import PartnersFile, acl_app, partner_app
from servicekit.partners import read_partners
from servicekit.pii_cli import pii_app
from servicekit.tokens import token_app

app = typer.Typer(help=__doc__, no_args_is_help=True)
topics_app = typer.Typer(help="Kafka topics from the contracts' registry", no_args_is_help=True)
dlq_app = typer.Typer(help="Dead-letter topics", no_args_is_help=True)
app.add_typer(topics_app, name="topics")
app.add_typer(dlq_app, name="dlq")
outbox_app = typer.Typer(help="A service's outbox: rows parked by the relay", no_args_is_help=True)
app.add_typer(outbox_app, name="outbox")
app.add_typer(pii_app, name="pii")
app.add_typer(token_app, name="token")
app.add_typer(acl_app, name="acl")
app.add_typer(partner_app, name="partner")
k8s_app = typer.Typer(help="Kubernetes resources from the registry", no_args_is_help=True)
app.add_typer(k8s_app, name="k8s")
console = Console()

Bootstrap = Annotated[
    str, typer.Option(envvar="KAFKA_BOOTSTRAP_SERVERS", help="Kafka bootstrap servers")
]


@k8s_app.command("kafka-resources")
def k8s_kafka_resources(
    directory: Annotated[Path, typer.Argument(help="Where topics.yaml and users.yaml go")],
    partners: PartnersFile = None,
    check: Annotated[
        bool, typer.Option(help="Fail if DIR's files are not what would be written")
    ] = False,
) -> None:
    """Strimzi's KafkaTopic for every topic the registry makes (each partner's own included) and
    KafkaUser for every principal, with the ACLs `acl apply` grants."""
    made = {directory / name: text for name, text in strimzi.files(read_partners(partners)).items()}
    stale = [str(path) for path in write_or_check(made, check=check)]
    if not check:
        console.print(f"wrote {', '.join(map(str, made))}")
    if stale:
        console.print(f"[red]stale: {', '.join(stale)}[/red]: run `servicekit k8s kafka-resources`")
        raise typer.Exit(1)


@topics_app.command("create")
def topics_create(bootstrap: Bootstrap = "127.0.0.1:19092", partners: PartnersFile = None) -> None:
    """Create every topic of the registry and its dead-letter topic (of a partner family, each
    partner's own topic); existing ones are kept."""
    known = read_partners(partners)
    created = asyncio.run(topics_admin.ensure_topics(bootstrap, TOPICS, partners=known))
    planned = len(topic_names(known))
    console.print(f"topics: {len(created)} created, {planned - len(created)} already there")
    for name in created:
        console.print(f"  + {name}")


@topics_app.command("list")
def topics_list(bootstrap: Bootstrap = "127.0.0.1:19092", partners: PartnersFile = None) -> None:
    """The topics the registry makes (with these partners) and whether the broker has them."""
    present = asyncio.run(topics_admin.existing_topics(bootstrap))
    table = Table("topic", "partitions", "retention", "producers", "on broker")
    for spec in TOPICS:
        for topic, twin in placed(spec, read_partners(partners)):
            for name in (topic, topic + DLQ_SUFFIX) if twin else (topic,):
                dead = name.endswith(DLQ_SUFFIX)
                table.add_row(
                    name,
                    "1" if dead else str(spec.partitions),
                    str(spec.dlq_retention if dead else spec.retention),
                    "(dead letters)" if dead else ", ".join(sorted(map(str, spec.producers))),
                    "yes" if name in present else "[red]missing[/red]",
                )
    console.print(table)


def _source_topic(name: str) -> str:
    name = name.removesuffix(DLQ_SUFFIX)
    family = name.rpartition(".")[0]
    if name not in BY_NAME and not (family in BY_NAME and is_partner_family(BY_NAME[family])):
        console.print(f"[yellow]note: {name} is not a registry topic[/yellow]")
    return name


@dlq_app.command("list")
def dlq_list(
    source: Annotated[str, typer.Argument(help="The topic whose dead letters to show")],
    bootstrap: Bootstrap = "127.0.0.1:19092",
    limit: int = 100,
) -> None:
    """Show the dead letters of a topic: offset, when, consumer group, reason."""
    letters = asyncio.run(deadletters.read(bootstrap, _source_topic(source), limit=limit))
    table = Table("dlq offset", "failed at", "group", "from", "attempts", "reason")
    for letter in letters:
        table.add_row(
            f"{letter.partition}:{letter.offset}",
            letter.headers.get("dlq.failed-at", "?"),
            letter.headers.get("dlq.group", "?"),
            f"{letter.headers.get('dlq.partition', '?')}:{letter.headers.get('dlq.offset', '?')}",
            letter.headers.get("dlq.attempts", "?"),
            letter.headers.get("dlq.reason", "?"),
        )
    console.print(table)
    console.print(f"{len(letters)} dead letters of {source.removesuffix(DLQ_SUFFIX)}")


@dlq_app.command("replay")
def dlq_replay(
    source: Annotated[str, typer.Argument(help="The topic whose dead letters to publish back")],
    offset: Annotated[
        list[str] | None, typer.Option(help="PARTITION:OFFSET of a dead letter; repeat for more")
    ] = None,
    bootstrap: Bootstrap = "127.0.0.1:19092",
) -> None:
    """Publish dead letters back to their topic with their original headers; the consumer
    handles them again (its inbox lets a replayed dead letter through once)."""
    wanted = set(offset or [])
    count = asyncio.run(deadletters.replay(bootstrap, _source_topic(source), wanted or None))
    console.print(f"replayed {count} dead letters to {_source_topic(source)}")


DatabaseUrl = Annotated[
    str, typer.Option(envvar="DATABASE_URL", help="The service's database (SQLAlchemy URL)")
]
Seqs = Annotated[list[int], typer.Argument(help="seq of a parked row, as `parked` lists it")]


def _with_sessions(database_url: str, work: Any) -> Any:
    async def run() -> Any:
        engine = db.create_engine(database_url)
        try:
            return await work(db.session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(run())


@outbox_app.command("parked")
def outbox_parked(database_url: DatabaseUrl, limit: int = 100) -> None:
    """Rows the relay could never publish, oldest first, with the reason."""
    rows = _with_sessions(database_url, lambda sessions: parking.parked(sessions, limit))
    table = Table("seq", "parked at", "topic", "bytes", "message id", "reason")
    for row in rows:
        table.add_row(
            str(row.seq),
            row.parked_at.isoformat(),
            row.topic,
            str(row.size),
            row.message_id,
            row.reason,
        )
    console.print(table)
    console.print(f"{len(rows)} parked rows")


@outbox_app.command("retry")
def outbox_retry(seqs: Seqs, database_url: DatabaseUrl) -> None:
    """Put parked rows back at the end of the outbox, once what refused them is fixed."""
    count = _with_sessions(database_url, lambda sessions: parking.retry(sessions, seqs))
    console.print(f"{count} parked rows back in the outbox")


@outbox_app.command("drop")
def outbox_drop(seqs: Seqs, database_url: DatabaseUrl) -> None:
    """Delete parked rows for good."""
    count = _with_sessions(database_url, lambda sessions: parking.drop(sessions, seqs))
    console.print(f"{count} parked rows dropped")


@app.command("migrate")
def migrate(
    directory: Annotated[
        str, typer.Argument(help="A service's migrations directory, or the service's name")
    ],
    database_url: Annotated[str, typer.Option(envvar="DATABASE_URL")],
) -> None:
    """alembic upgrade head."""
    found = Path(directory)
    if not found.is_dir():  # a service's package: its migrations are beside its modules
        found = Path(importlib.import_module(directory).__file__ or "").with_name("migrations")
    migrations.upgrade(found, database_url)
    console.print(f"migrated {found} to head")


@app.command("revision")
def revision(
    directory: Annotated[Path, typer.Argument(help="A service's migrations directory")],
    message: Annotated[str, typer.Option("-m", "--message")],
) -> None:
    """Autogenerate a migration from the difference between the models and the migrations."""
    migrations.autogenerate(directory, message)


if __name__ == "__main__":
    app()
