"""The ACLs the registry makes: each principal may do what its role needs and nothing more."""

import random
from datetime import date
from pathlib import Path

import pytest

from gonghui_contracts import samples
from gonghui_contracts.access import (
    Grant,
    Partner,
    acl_table,
    all_grants,
    covers,
    is_partner_family,
    operator_grants,
    partner_grants,
    partner_principal,
    partner_topics,
    platform_grants,
    sender_mismatches,
    senders,
    service_grants,
    topic_names,
    with_prefix,
)
from gonghui_contracts.events import DisputeFiled, JoinRequested, PatientDischarged
from gonghui_contracts.topics import TOPICS, topic
from gonghui_contracts.values import PartnerKind, Service

SF = Partner("sf-express-guangzhou", PartnerKind.PLATFORM_UNION)
HOSPITAL = Partner("sz-h-016", PartnerKind.HOSPITAL)
OTHER_HOSPITAL = Partner("sz-h-017", PartnerKind.HOSPITAL)
HOTLINE = Partner("hotline-12351-gz", PartnerKind.HOTLINE_12351)
BUREAU = Partner("gz-medical-insurance", PartnerKind.MEDICAL_INSURANCE)


def on(grants: list[Grant], operation: str) -> set[tuple[str, str]]:
    return {
        (g.name, g.pattern)
        for g in grants
        if g.operation == operation and g.resource_type == "topic"
    }


def test_a_partner_writes_its_own_intake_and_reads_its_own_outcomes_only() -> None:
    grants = partner_grants(SF)
    assert on(grants, "Write") == {
        ("partner.membership.join-requests.v1.sf-express-guangzhou", "literal")
    }
    assert on(grants, "Read") == {
        ("partner.membership.join-outcomes.v1.sf-express-guangzhou", "literal")
    }
    assert {g.principal for g in grants} == {partner_principal(SF)}


def test_no_partner_is_granted_anything_of_another_partner() -> None:
    for partner in (HOSPITAL, OTHER_HOSPITAL, HOTLINE, SF):
        for grant in partner_grants(partner):
            assert grant.pattern == "literal" or grant.resource_type == "group"
            assert partner.partner_id in grant.name


def test_a_service_reads_every_partner_of_its_intake_and_answers_each_on_its_own_topic() -> None:
    grants = service_grants(Service.AID, [HOSPITAL, OTHER_HOSPITAL, SF, BUREAU])
    assert on(grants, "Read") == {
        ("membership.events.v1", "literal"),
        ("membership.identities.v1", "literal"),
        ("partner.aid.injury-reports.v1.sz-h-016", "literal"),
        ("partner.aid.injury-reports.v1.sz-h-017", "literal"),
        ("partner.aid.settlements.v1.gz-medical-insurance", "literal"),
    }
    assert ("partner.aid.injury-outcomes.v1.sz-h-016", "literal") in on(grants, "Write")
    assert ("partner.aid.settlement-outcomes.v1.gz-medical-insurance", "literal") in on(
        grants, "Write"
    )
    assert {g.pattern for g in grants if g.resource_type == "topic"} == {"literal"}
    dead_letters = {name for name, _ in on(grants, "Write") if name.endswith(".dlq")}
    assert dead_letters == {
        "membership.events.v1.dlq",
        "membership.identities.v1.dlq",
        "partner.aid.injury-reports.v1.sz-h-016.dlq",
        "partner.aid.injury-reports.v1.sz-h-017.dlq",
        "partner.aid.settlements.v1.gz-medical-insurance.dlq",
    }
    # aid may not write a partner's intake, nor another service's topic
    written = {name for name, _ in on(grants, "Write")}
    assert not any(
        n.startswith("partner.aid.injury-reports.v1") and not n.endswith(".dlq") for n in written
    )
    assert "membership.events.v1" not in written


def test_each_service_reads_and_writes_exactly_what_the_registry_says() -> None:
    one_of_each = [Partner(f"p-{kind.value.replace('_', '-')}", kind) for kind in PartnerKind]

    def family(name: str) -> str:  # a partner's own topic stands for its family
        return name.rpartition(".")[0] if name.startswith("partner.") else name

    for service in Service:
        grants = service_grants(service, one_of_each)
        read = {family(name) for name, _ in on(grants, "Read")}
        written = {family(n) for n, _ in on(grants, "Write") if not n.endswith(".dlq")}
        assert read == {s.name for s in TOPICS if service in s.readers}, service
        assert written == {s.name for s in TOPICS if service in s.producers}, service


def test_notify_reads_no_topic_that_carries_personal_data() -> None:
    read = {name for name, _ in on(service_grants(Service.NOTIFY), "Read")}
    assert read
    assert not read & {s.name for s in TOPICS if s.personal_data}


def test_only_the_operator_manages_the_cluster_and_reads_dead_letters() -> None:
    partners = [SF, HOSPITAL, HOTLINE]
    grants = all_grants(partners)
    assert {g.principal for g in grants if g.resource_type == "cluster"} == {"operator"}
    dead_letters = [name for name in topic_names(partners) if name.endswith(".dlq")]
    assert len(dead_letters) == 3 + 13  # the partners' intakes', and each internal topic's
    readers_of_dead_letters = {
        g.principal
        for g in grants
        if g.operation in ("Read", "All") and any(covers(g, name) for name in dead_letters)
    }
    assert readers_of_dead_letters == {"operator"}  # by its wildcard; no prefix reaches them
    assert ("*", "literal") in on(operator_grants(), "All")


def test_a_new_partner_gets_its_topics_and_their_dead_letters() -> None:
    assert partner_topics(HOSPITAL) == [
        "partner.aid.injury-reports.v1.sz-h-016",
        "partner.aid.injury-reports.v1.sz-h-016.dlq",
        "partner.aid.injury-outcomes.v1.sz-h-016",
    ]


def test_every_partner_family_has_partner_producers_or_readers() -> None:
    families = {s.name for s in TOPICS if is_partner_family(s)}
    assert families == {s.name for s in TOPICS if s.name.startswith("partner.")}


def test_a_partner_id_is_what_a_topic_name_can_end_with() -> None:
    for bad in ("SZ-H-1", "sz_h_1", "sz.h.1", "dlq", "-sz", "x" * 41, "sz\u202eh", ""):
        with pytest.raises(ValueError, match="partner id"):
            Partner(bad, PartnerKind.HOSPITAL)


def test_the_senders_of_an_intake_family_are_the_partners_of_its_kinds() -> None:
    court = Partner("gz-intermediate-court", PartnerKind.COURT)
    partners = [SF, HOSPITAL, OTHER_HOSPITAL, HOTLINE, court]
    assert senders(topic("partner.aid.injury-reports.v1"), partners) == [HOSPITAL, OTHER_HOSPITAL]
    assert senders(topic("partner.legal.filings.v1"), partners) == [court, HOTLINE]
    assert senders(topic("membership.events.v1"), partners) == []


def test_a_payload_naming_another_partner_than_its_topics_is_found_out() -> None:
    discharge = PatientDischarged(
        report_ref="r-1", hospital_id=HOSPITAL.partner_id, discharged_on=date(2026, 11, 30)
    )
    assert sender_mismatches(discharge, HOSPITAL) == []
    [problem] = sender_mismatches(discharge, OTHER_HOSPITAL)
    assert problem.startswith("hospital_id: names another partner")
    assert "'sz-h-017'" in problem


def test_a_filing_channel_must_be_the_kind_of_the_partner_that_sent_it() -> None:
    rng = random.Random(7)
    filing = DisputeFiled(
        channel="court",
        filing_ref="c-1",
        employer={"credit_code": samples.employer_credit_code(rng), "name": "某公司"},
        industry="construction",
        district_code="440111",
        kind="wage_arrears",
        arose_on=date(2026, 10, 1),
        workers=[
            {
                "name": "王五",
                "resident_id": samples.adult_resident_id(rng),
                "phone": samples.mobile_phone(rng),
                "claimed": "1000.00",
            }
        ],
    )
    court = Partner("gz-intermediate-court", PartnerKind.COURT)
    assert sender_mismatches(filing, court) == []
    [problem] = sender_mismatches(filing, HOTLINE)
    assert problem.startswith("channel: names another partner")


def test_every_payload_a_partner_publishes_names_its_sender() -> None:
    partner_payloads = {
        payload for spec in TOPICS if spec.partner_facing for payload in spec.carries
    }
    assert partner_payloads
    for payload in partner_payloads:
        assert payload.SENDER_FIELDS, payload.EVENT_TYPE
        for field in payload.SENDER_FIELDS:
            assert field in payload.model_fields, (payload.EVENT_TYPE, field)
    assert JoinRequested.SENDER_FIELDS == {"partner_id": "partner_id"}


def test_an_environments_prefix_is_put_before_every_topic_and_group_but_the_wildcards() -> None:
    grants = with_prefix(service_grants(Service.AID) + operator_grants(), "staging.")
    names = {(g.resource_type, g.name) for g in grants}
    assert ("topic", "staging.membership.events.v1") in names
    assert ("topic", "staging.aid.events.v1") in names
    assert ("group", "staging.aid") in names
    assert ("cluster", "kafka-cluster") in names
    assert ("topic", "*") in names
    assert not {n for t, n in names if t != "cluster" and n != "*" and not n.startswith("staging.")}


def test_an_environments_grants_leave_the_operators_alone() -> None:
    # An environment's grants are granted and revoked with it: the operator's cluster-wide ones
    # must not be among them, or revoking would lock the operator out.
    grants = platform_grants([SF, HOSPITAL])
    assert grants
    assert "operator" not in {g.principal for g in grants}
    assert sorted(all_grants([SF, HOSPITAL])) == sorted(grants + operator_grants())


def test_the_readmes_acl_table_is_the_one_the_registry_makes() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    start = readme.index("<!-- acl-table")
    start = readme.index("\n", start) + 1
    end = readme.index("<!-- /acl-table -->")
    assert readme[start:end] == acl_table(), "run `servicekit acl list --markdown` into README"
