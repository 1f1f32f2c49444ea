"""`servicekit acl`: who may read and write which topic, as the registry makes it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from gonghui_contracts.access import (
    EXAMPLE_PARTNERS,
    Partner,
    acl_table,
    all_grants,
    partner_principal,
    partner_topics,
    with_prefix,
)
from gonghui_contracts.values import PartnerKind
from servicekit import kafka_identity, topics_admin
from servicekit.kafka_access import KafkaAccess
from servicekit.kafka_identity import Credentials
from servicekit.partners import read_partners, write_partners

partner_app = typer.Typer(help="Partners: their Kafka users, ACLs and topics", no_args_is_help=True)
acl_app = typer.Typer(
    help="Kafka principals and ACLs from the topic registry", no_args_is_help=True
)
console = Console()

PartnersFile = Annotated[
    Path | None,
    typer.Option(
        "--partners",
        help='JSON list of the partners: [{"partner_id": "sz-h-016", "kind": "hospital"}, …]',
    ),
]


CredentialsFile = Annotated[
    Path,
    typer.Option(
        "--credentials",
        envvar="KAFKA_CREDENTIALS_FILE",
        help="Where each principal's password is kept (JSON, mode 0600); missing ones are made",
    ),
]


TopicPrefix = Annotated[
    str,
    typer.Option(
        "--topic-prefix",
        envvar="KAFKA_TOPIC_PREFIX",
        help="The environment's prefix of topic and group names, if it shares a cluster",
    ),
]


@acl_app.command("apply")
def acl_apply(
    credentials: CredentialsFile,
    partners: PartnersFile = None,
    prefix: TopicPrefix = "",
    prune: Annotated[
        bool,
        typer.Option(
            help="Also take off these principals' ACLs the registry no longer grants (not while "
            "another environment with its own prefix shares the broker)"
        ),
    ] = False,
) -> None:
    """Make every principal a SCRAM user and grant the registry's ACLs on the broker of
    KAFKA_BOOTSTRAP_SERVERS (as the KAFKA_SECURITY_PROTOCOL/KAFKA_SASL_* principal); idempotent."""
    applied = kafka_identity.apply(
        KafkaAccess(),
        read_partners(partners),
        Credentials(credentials),
        prefix=prefix,
        prune_others=prune,
    )
    console.print(
        f"{applied.users} SCRAM users, {applied.acls} ACLs on the broker, "
        f"{applied.pruned} stale ones taken off"
    )


@acl_app.command("list")
def acl_list(
    partners: PartnersFile = None,
    prefix: TopicPrefix = "",
    markdown: Annotated[
        bool, typer.Option(help="One row per principal, as Markdown (the README's table)")
    ] = False,
) -> None:
    """Every ACL: each service's, each partner's (of --partners), the operator's."""
    if markdown:
        print(acl_table(read_partners(partners) if partners else EXAMPLE_PARTNERS), end="")
        return
    table = Table("principal", "operation", "resource", "name", "pattern")
    grants = with_prefix(all_grants(read_partners(partners)), prefix)
    for grant in grants:
        table.add_row(
            grant.principal, grant.operation, grant.resource_type, grant.name, grant.pattern
        )
    console.print(table)
    console.print(f"{len(grants)} ACLs for {len({g.principal for g in grants})} principals")


@partner_app.command("add")
def partner_add(
    partner_id: Annotated[str, typer.Argument(help="e.g. sz-h-016: lowercase, digits and -")],
    kind: Annotated[PartnerKind, typer.Option(help="What the partner is")],
    credentials: CredentialsFile,
    partners: PartnersFile = None,
) -> None:
    """Give a partner its SCRAM user, its ACLs (and the services' on its dead letters) and its
    topics; with --partners, record it there too. Idempotent."""
    try:
        partner = Partner(partner_id, kind)
    except ValueError:
        raise typer.BadParameter(
            "lowercase letters, digits and -, at most 40", param_hint="ID"
        ) from None
    access = KafkaAccess()
    applied = kafka_identity.apply(access, [partner], Credentials(credentials), platform=False)
    created = asyncio.run(
        topics_admin.ensure_partner_topics(access.kafka_bootstrap_servers, partner)
    )
    if partners is not None:
        known = read_partners(partners)
        if partner not in known:
            write_partners(partners, [*known, partner])
    console.print(
        f"{partner_principal(partner)}: SCRAM user, {applied.acls} ACLs, "
        f"{len(created)} topics created ({', '.join(partner_topics(partner))})"
    )
