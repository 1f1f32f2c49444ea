"""The committed Strimzi resources are the ones the registry makes, and say what the ACLs say."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from gonghui_contracts.access import all_grants, topic_names
from gonghui_contracts.topics import BY_NAME
from servicekit import strimzi
from servicekit.partners import read_partners

ROOT = Path(__file__).resolve().parents[2]
DIRECTORY = ROOT / "deploy/local/partners.json"
COMMITTED = ROOT / "deploy/k8s/base/kafka"
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def test_the_committed_resources_are_the_generated_ones() -> None:
    for name, text in strimzi.files(read_partners(DIRECTORY)).items():
        assert (COMMITTED / name).read_text("utf-8") == text, (
            f"{name} is stale: run `servicekit k8s kafka-resources deploy/k8s/base/kafka "
            "--partners deploy/local/partners.json`"
        )


def test_every_topic_the_platform_needs_is_a_kafka_topic_with_a_valid_name() -> None:
    partners = read_partners(DIRECTORY)
    topics = list(yaml.safe_load_all((COMMITTED / "topics.yaml").read_text("utf-8")))
    assert [t["spec"]["topicName"] for t in topics] == topic_names(partners)
    for topic in topics:
        assert len(topic["metadata"]["name"]) <= 253
        assert DNS_SUBDOMAIN.fullmatch(topic["metadata"]["name"])
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == strimzi.CLUSTER
        name = topic["spec"]["topicName"]
        source = name.removesuffix(".dlq")
        spec = BY_NAME.get(source) or BY_NAME[source.rpartition(".")[0]]  # a partner's own
        assert topic["spec"]["partitions"] == (1 if name.endswith(".dlq") else spec.partitions)


def test_each_user_has_exactly_the_acls_the_registry_grants() -> None:
    partners = read_partners(DIRECTORY)
    users = list(yaml.safe_load_all((COMMITTED / "users.yaml").read_text("utf-8")))
    granted = {
        (
            u["metadata"]["name"],
            acl["resource"]["type"],
            acl["resource"].get("name", "kafka-cluster"),
            acl["resource"].get("patternType", "literal"),
            operation,
        )
        for u in users
        for acl in u["spec"]["authorization"]["acls"]
        for operation in acl["operations"]
    }
    expected = {
        (g.principal, g.resource_type, g.name, g.pattern, g.operation) for g in all_grants(partners)
    }
    assert granted == expected
    assert {u["spec"]["authentication"]["type"] for u in users} == {"scram-sha-512"}
    assert all(DNS_SUBDOMAIN.fullmatch(u["metadata"]["name"]) for u in users)
